"""Before Qt starts: can its platform plugin load here? If not, say which system libraries are missing.

When the plugin Qt picks (``xcb`` on a Linux desktop) cannot be loaded, Qt prints a
generic message and aborts the process. This module looks first: it loads the plugin's
shared library the way Qt would and, when that fails, lists the missing libraries with
``ldd`` and names the Debian packages that provide them. It imports no Qt module.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Debian packages for the libraries Qt's platform plugins link to; others follow Debian's naming rule.
PACKAGES = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_SONAME = re.compile(r"^(lib[\w+.-]*?)\.so\.(\d+)")


def package_for(soname: str) -> str:
    """The Debian package that ships ``soname`` (``libxcb-icccm.so.4`` -> ``libxcb-icccm4``)."""
    if soname in PACKAGES:
        return PACKAGES[soname]
    match = _SONAME.match(soname)
    if not match:
        return soname
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def plugin_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    try:
        import PySide6

        dirs.append(Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms")
    except ImportError:
        pass
    return dirs


def platforms() -> list[str]:
    """The platform plugins Qt will try, in order (QT_QPA_PLATFORM, else what the session suggests)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return [p.split(":", 1)[0] for p in chosen.split(";") if p]
    if os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def plugin_file(name: str) -> Path | None:
    for folder in plugin_dirs():
        exact = folder / f"libq{name}.so"
        if exact.is_file():
            return exact
        found = sorted(folder.glob(f"libq{name}*.so")) if folder.is_dir() else []
        if found:
            return found[0]
    return None


def missing_libraries(path: Path) -> list[str]:
    """Libraries ``path`` needs that the dynamic loader cannot find (from ``ldd``), in its order."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(out)))


def _loads(path: Path) -> str | None:
    """None when the library loads, else the loader's message."""
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        return str(exc)
    return None


def problem() -> str | None:
    """One plain sentence when no platform plugin Qt would try can load; None when one can (or we cannot tell)."""
    if not sys.platform.startswith("linux"):
        return None
    tried = [(name, plugin_file(name)) for name in platforms()]
    if any(path is not None and _loads(path) is None for _, path in tried):
        return None
    name, path = tried[0]
    if path is None:
        return None  # a plugin we cannot find is Qt's to report (it lists the plugins it has)
    missing = missing_libraries(path)
    if not missing:
        reason = _loads(path) or "it does not load"
        return f"workbench: the window cannot open: Qt's {name} platform plugin ({path}) does not load: {reason}."
    packages = " ".join(dict.fromkeys(package_for(lib) for lib in missing))
    sudo = "" if os.geteuid() == 0 else "sudo "
    return (
        f"workbench: the window cannot open: Qt's {name} platform plugin needs system libraries that are "
        f"missing ({', '.join(missing)}); install them with `{sudo}apt-get install {packages}` "
        f"(or run scripts/setup.sh), then start workbench again."
    )
