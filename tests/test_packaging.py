"""The desktop bundle: it builds from the sources, starts offscreen and answers with the bundled model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.bundle
def test_the_bundle_builds_starts_and_runs_the_local_model() -> None:
    done = subprocess.run(["bash", "packaging/smoke"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = dict(pair.split("=") for pair in last.split())
    assert figures["run"] == "completed" and figures["answers"] == "6" and figures["exit"] == "0"
    assert 0 < int(figures["bundle_mb"]) < 500  # see packaging/README.md for what is in it


@pytest.mark.bundle
def test_install_puts_the_app_in_the_menu_and_uninstall_removes_it(tmp_path: Path) -> None:
    bundle = ROOT / "packaging" / "dist" / "workbench" / "workbench"
    if not bundle.exists():  # the test above builds it; alone, build it here
        subprocess.run(["bash", "packaging/build"], cwd=ROOT, check=True, capture_output=True, timeout=1800)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    subprocess.run(["bash", "packaging/install.sh"], cwd=ROOT, env=env, check=True, capture_output=True)
    entry = (tmp_path / "data" / "applications" / "workbench.desktop").read_text()
    app = tmp_path / "data" / "workbench-app" / "workbench" / "workbench"
    assert f"Exec={app}" in entry and "Icon=workbench" in entry and "Type=Application" in entry
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "workbench.svg").is_file()
    command = tmp_path / ".local" / "bin" / "workbench"
    assert command.resolve() == app.resolve()
    runs = subprocess.run([str(command), "runs", "--store", str(tmp_path / "s.sqlite")], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip
    assert runs.returncode == 0 and "no runs" in runs.stdout
    subprocess.run(["bash", "packaging/install.sh", "--uninstall"], cwd=ROOT, env=env, check=True, capture_output=True)
    assert not app.exists() and not command.exists()
