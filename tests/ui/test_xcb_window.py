"""The real app in a real window: the xcb platform on an X server (Xvfb), as on a Debian desktop.

The offscreen tests cannot see what a desktop needs (the xcb plugin's system libraries);
this one starts ``workbench`` with no arguments on an Xvfb display and asks the X server
whether its main window is mapped, how large it is and what its title says.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.ui import qt_platform

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def x_display() -> Iterator[str]:
    """A private Xvfb server (installed by scripts/setup.sh); yields its DISPLAY."""
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is missing: scripts/setup.sh installs it (apt package xvfb)"
    read, write = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as numbers:
        number = numbers.readline().strip()
    assert number.isdigit(), "Xvfb did not start"
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def windows(display: str) -> str:
    out = subprocess.run(["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, timeout=10)  # fmt: skip
    return out.stdout


def test_the_window_opens_on_xcb_and_shows_the_demo(x_display: str, tmp_path: Path) -> None:
    assert qt_platform.missing_libraries(qt_platform.plugin_file("xcb")) == []  # type: ignore[arg-type]
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    app = subprocess.Popen([sys.executable, "-m", "workbench"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        found = None
        while time.monotonic() < deadline and app.poll() is None:
            found = re.search(r'^\s*(0x[0-9a-f]+) "workbench — demo \(dev\)"', windows(x_display), re.MULTILINE)
            if found:
                break
            time.sleep(0.3)
        assert found, f"no window titled 'workbench — demo (dev)'; app exit {app.poll()}"
        # the window is titled before it is mapped: wait for the map, not only for the title
        info = ""
        while time.monotonic() < deadline and app.poll() is None:
            info = subprocess.run(["xwininfo", "-id", found.group(1)], env=env, capture_output=True, text=True,
                                  timeout=10).stdout  # fmt: skip
            if "Map State: IsViewable" in info:
                break
            time.sleep(0.2)
        assert "Map State: IsViewable" in info, info
        width = int(re.search(r"Width: (\d+)", info).group(1))  # type: ignore[union-attr]
        height = int(re.search(r"Height: (\d+)", info).group(1))  # type: ignore[union-attr]
        assert width >= 800 and height >= 500
    finally:
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=30)
    assert "window shown" in err and "qt.qpa" not in err and "Could not load the Qt platform plugin" not in err


def test_a_missing_system_library_is_named_with_its_package(tmp_path: Path) -> None:
    """A platform plugin that links to a library the machine lacks: one sentence, exit 2, no Qt abort."""
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is missing: scripts/setup.sh installs it (apt package gcc)"
    lib = tmp_path / "lib"
    plugins = tmp_path / "platforms"
    lib.mkdir()
    plugins.mkdir()
    (tmp_path / "dep.c").write_text("int wb_dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int wb_dep(void);\nint wb_plugin(void) { return wb_dep(); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libwbgone-x11.so.3", "-o", lib / "libwbgone-x11.so.3",
                    tmp_path / "dep.c"], check=True)  # fmt: skip
    subprocess.run([cc, "-shared", "-fPIC", "-o", plugins / "libqxcb.so", tmp_path / "plugin.c",
                    f"-L{lib}", "-l:libwbgone-x11.so.3"], check=True)  # fmt: skip
    (lib / "libwbgone-x11.so.3").unlink()  # now the plugin needs a library that is not there

    env = {**os.environ, "DISPLAY": ":99", "QT_QPA_PLATFORM": "xcb", "QT_QPA_PLATFORM_PLUGIN_PATH": str(plugins)}
    done = subprocess.run([sys.executable, "-m", "workbench"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "missing (libwbgone-x11.so.3)" in lines[0] and "apt-get install libwbgone-x11-3" in lines[0]


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libEGL.so.1", "libegl1"),
    ],
)
def test_debian_package_names(soname: str, package: str) -> None:
    assert qt_platform.package_for(soname) == package
