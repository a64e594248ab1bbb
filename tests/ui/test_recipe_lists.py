"""The variant editor and the Fine-tune dialog offer the recipes of the registry, as the CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox

from tests.ui.conftest import OpenWindow
from workbench.core.retrieval.registry import export_recipes, recipe_names
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.finetune_dialog import FineTuneDialog
from workbench.ui.variants_dialog import VariantsDialog


def items(box: QComboBox) -> list[str]:
    return [box.itemText(i) for i in range(box.count())]


def test_the_dialogs_offer_the_registry_s_recipes(open_window: OpenWindow, qtbot: Any, tmp_path: Path) -> None:
    window = open_window()
    session = window.session
    finetune = FineTuneDialog(session, window, out_dir=tmp_path / "ft")
    assert items(finetune.retrieval) == export_recipes()
    finetune.close()
    editor = VariantsDialog(session, window)
    editor.add_row(VariantSpec("v", "local", session.latest_version("zero_shot")))
    retrieval = editor.table.cellWidget(editor.table.rowCount() - 1, 3)
    assert isinstance(retrieval, QComboBox) and items(retrieval) == recipe_names()
    editor.close()
