"""`workbench` with no arguments opens the window (demo dataset, local model); layout is restored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from tests.ui.conftest import OpenWindow, close_window
from workbench.paths import DEMO_DATASET

ROOT = Path(__file__).resolve().parents[2]


def run_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    full.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "workbench"], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def test_no_arguments_opens_the_window_on_the_demo_with_the_local_model(tmp_path: Path) -> None:
    done = run_app(tmp_path, QT_QPA_PLATFORM="offscreen", WORKBENCH_EXIT_AFTER_MS="300")
    assert done.returncode == 0, done.stderr
    assert "window shown" in done.stderr
    settings = QSettings(str(tmp_path / "config" / "workbench" / "ui.ini"), QSettings.Format.IniFormat)
    assert Path(str(settings.value("dataset"))) == DEMO_DATASET and settings.value("split") == "dev"
    specs = str(settings.value("specs"))
    assert '"profile": "local"' in specs and "local-bm25" in specs
    assert (tmp_path / "data" / "workbench" / "workspace.sqlite").is_file()


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    done = run_app(tmp_path)
    assert done.returncode == 2 and "no display" in done.stderr and "QT_QPA_PLATFORM=offscreen" in done.stderr


def test_arguments_still_mean_the_command_line(tmp_path: Path) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "workbench", "runs", "--store", str(tmp_path / "s.sqlite")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "DISPLAY": ""},
    )  # fmt: skip
    assert cli.returncode == 0 and "no runs" in cli.stdout


def test_layout_and_dataset_are_restored(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    window.docks["accuracy"].hide()
    window.run_bar.split.setCurrentText("train")
    window.run_bar._split_chosen()
    close_window(qtbot, window)
    again = open_window()
    assert again.docks["accuracy"].isHidden() and again.session.split == "train"
    assert [s.name for s in again.session.specs] == [s.name for s in window.session.specs]
    again.actions_by_name["Reset layout"].trigger()
    assert not again.docks["accuracy"].isHidden()
