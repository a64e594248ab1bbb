"""PySide6's per-module check (does the source mention PySide6?) gives the same answers as a file scan."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import workbench.ui  # installs the file scan; one of the samples below
from workbench.ui.feature_scan import scanning_file, speed_up_feature_scan


def pyside_check() -> object:
    return sys.modules["shibokensupport.feature"]._mod_uses_pyside  # type: ignore[attr-defined]


def load(path: Path, name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_file_scan_answers_as_pyside_does(tmp_path: Path) -> None:
    check = pyside_check()
    assert hasattr(check, "pyside_check") and speed_up_feature_scan()
    assert pyside_check() is check  # installed once, not wrapped again
    original = check.pyside_check  # type: ignore[attr-defined]
    (tmp_path / "with_qt.py").write_text("# drawn with PySide6\nVALUE = 1\n")
    (tmp_path / "without_qt.py").write_text("VALUE = 'é'\n", encoding="utf-8")
    with_qt, without_qt = load(tmp_path / "with_qt.py", "with_qt"), load(tmp_path / "without_qt.py", "without_qt")
    assert check(with_qt) is True and check(without_qt) is False
    samples = [with_qt, without_qt, sys, sys.modules["json"], sys.modules["workbench.ui.main_window"], workbench.ui]
    assert [check(m) for m in samples] == [original(m) for m in samples]


def test_a_module_whose_file_is_gone_gets_pyside_s_own_answer(tmp_path: Path) -> None:
    asked: list[str] = []

    def original(module: object) -> bool:
        asked.append(getattr(module, "__name__", ""))
        return False

    path = tmp_path / "gone.py"
    path.write_text("import PySide6\n")
    module = load(path, "gone")
    path.unlink()
    assert scanning_file(original)(module) is False and asked == ["gone"]
