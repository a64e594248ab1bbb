"""The variant editor and the Fine-tune dialog offer the recipes of the registry, as the CLI does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QSpinBox

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


def test_editing_a_row_keeps_the_fields_it_has_no_column_for(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    editor = VariantsDialog(window.session, window)
    version = window.session.latest_version("few_shot")
    spec = VariantSpec("dense-emb", "local", version, "dense", 2, embedding_profile="emb", train_split="dev",
                       grammar="root ::= \"SELECT\"", template_source="few_shot.prompt")  # fmt: skip
    editor.add_row(spec)
    row = editor.table.rowCount() - 1
    k = editor.table.cellWidget(row, 4)
    assert isinstance(k, QSpinBox)
    k.setValue(5)  # an edit in the table
    editor.table.item(row, 0).setText("dense-5")
    assert editor.spec_at(row) == replace(spec, name="dense-5", k=5)
    editor.close()
