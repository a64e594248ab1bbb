"""File ▸ Open dataset on a BIRD folder: BIRD's levels in the filter and the table, Soft-F1, evidence shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bird_data import QUESTIONS, write_bird
from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, add_test_profiles, await_in_qt
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.dataset_dialogs import stands_for_folder
from workbench.ui.main_window import MainWindow
from workbench.ui.session import AppPaths

RUN_TIMEOUT_MS = 60_000


def row_of(window: MainWindow, variant: str) -> dict[str, str]:
    model = window.accuracy.model
    for row in range(model.rowCount()):
        if model.index(row, 0).data() == variant:
            return {c: model.index(row, k).data() for k, c in enumerate(model.columns)}
    raise AssertionError(f"no row for {variant}")


@pytest.mark.server(answer="model", answers={str(q["question"]): str(q["SQL"]) for q in QUESTIONS})
def test_a_bird_folder_opens_with_its_levels_and_scores_with_soft_f1(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Path
) -> None:
    bird = write_bird(tmp_path / "bird_dev")
    add_test_profiles(app_paths, openai_server.base_url)
    window = open_window()
    assert stands_for_folder(bird / "dev_tables.json") and not stands_for_folder(tmp_path / "x.json")
    assert window.open_chosen_dataset(bird / "dev_tables.json", None)  # what File ▸ Open dataset chose
    session = window.session
    assert session.dataset is not None and session.dataset.root == bird and len(session.items) == 6
    window._fill_recent_menu()  # Open recent remembers a BIRD folder too
    assert str(bird) in [a.text() for a in window.recent_menu.actions()]
    hardness = window.questions.hardness
    assert [hardness.itemText(i) for i in range(hardness.count())] == [
        "any hardness", "simple", "moderate", "challenging"
    ]  # fmt: skip
    columns = window.accuracy.model.columns
    ts = columns.index("TS %")
    assert columns[ts : ts + 6] == ("TS %", "EX (overrides)", "Soft-F1 %", "simple", "moderate", "challenging")
    assert "EM %" not in columns and "easy" not in columns

    zero = session.latest_version("zero_shot")
    session.set_specs([VariantSpec("right", "gold", zero), VariantSpec("wrong", "wrong", zero)])
    window.run_bar.run_button.click()
    qtbot.waitUntil(lambda: session.state == "completed", timeout=RUN_TIMEOUT_MS)
    right, wrong = row_of(window, "right"), row_of(window, "wrong")
    assert (right["n"], right["EX %"], right["Soft-F1 %"], right["simple"], right["challenging"]) == (
        "6", "100.0", "100.0", "100.0 (2)", "100.0 (2)"
    )  # fmt: skip
    assert (wrong["EX %"], wrong["Soft-F1 %"]) == ("0.0", "0.0")

    hardness.setCurrentText("challenging")
    hardness.activated.emit(hardness.currentIndex())  # as a user's pick does
    assert [session.item(i).hardness for i in window.questions.model.rows] == ["challenging", "challenging"]

    hardness.setCurrentText("any hardness")  # question 1 is simple: hidden under "challenging", and the list
    hardness.activated.emit(hardness.currentIndex())  # moves a hidden selection to its first row at any reload
    await_in_qt(qtbot, window.gold.settle())  # the gold learnt at load is in (its results_changed reloads the list)
    session.select_question(1)  # the diseased trees: the evidence says what status = 2 means
    window.context.variant.setCurrentText("right")
    window.context.refresh()
    await_in_qt(qtbot, window.context.settle())
    text = window.context.view.toPlainText()
    assert "Evidence" in text and "diseased refers to status = 2" in text
    assert "Column descriptions" in text and "tree.status" in text and "the tree's health" in text
