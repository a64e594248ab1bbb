"""A pinned baseline in the Accuracy pane: beside later runs, with Δ EX, fixed and broken; kept across restarts."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt, close_window
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, click_cell, completed_run, table_row
from workbench.ui.accuracy_pane import COLUMNS
from workbench.ui.session import AppPaths


@pytest.mark.server(answer="model")
def test_a_pinned_baseline_stays_beside_later_runs(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 10)
    first = window.session.run_info
    assert first is not None
    assert table_row(window, "right")["Δ EX vs baseline"] == "–"  # nothing pinned yet
    model = window.accuracy.model
    wrong_row = [model.index(r, 0).data() for r in range(model.rowCount())].index("wrong")
    window.accuracy.table.setCurrentIndex(model.index(wrong_row, 0))
    qtbot.mouseClick(window.accuracy.pin_button, Qt.MouseButton.LeftButton)
    baseline = table_row(window, f"baseline {first.name}:wrong")
    assert (baseline["n"], baseline["EX %"], baseline["prompt"]) == ("10", "0.0", "few_shot v1")
    right = table_row(window, "right")
    assert right["Δ EX vs baseline"] == "+100.0 (+100.0 to +100.0)" and (right["fixed"], right["broken"]) == ("10", "0")
    assert table_row(window, "wrong")["Δ EX vs baseline"] == "+0.0 (+0.0 to +0.0)"
    window.session.select_question(0)  # the outputs show the baseline's answer beside this run's
    await_in_qt(qtbot, window.outputs.settle())
    cards = window.outputs.cards
    assert list(cards) == ["right", "wrong", f"baseline {first.name}:wrong"]
    assert (
        "wrong" in cards[f"baseline {first.name}:wrong"].verdict.text() and "correct" in cards["right"].verdict.text()
    )
    right_row = [model.index(r, 0).data() for r in range(model.rowCount())].index("right")
    window.accuracy.table.scrollTo(model.index(right_row, COLUMNS.index("broken")))  # the last columns in view
    click_cell(qtbot, window.accuracy.table, right_row, COLUMNS.index("fixed"))  # the questions it fixed
    assert window.session.visible_indices() == list(range(10)) == window.questions.model.rows
    assert f"fixed in right vs baseline {first.name}:wrong" in window.questions.count.text()
    click_cell(qtbot, window.accuracy.table, right_row, COLUMNS.index("broken"))
    assert window.session.visible_indices() == [] and window.questions.model.rows == []

    # a new version of the zero-shot prompt, run again: the baseline stays beside the new version
    window.prompt.templates.setCurrentText("zero_shot")
    window.prompt.editor.setPlainText(window.prompt.editor.toPlainText() + "\nOne query only.\n")
    window.prompt.save()
    window.run_bar.run()
    qtbot.waitUntil(
        lambda: window.session.state == "completed" and window.session.run_info != first, timeout=RUN_TIMEOUT_MS
    )
    right = table_row(window, "right")
    assert (right["prompt"], right["fixed"], right["broken"]) == ("zero_shot v2", "10", "0")
    assert table_row(window, f"baseline {first.name}:wrong")["prompt"] == "few_shot v1"
    legend = window.plots.history_plot.plotItem.legend
    assert [label.text for _, label in legend.items] == ["zero_shot v1", "few_shot v1", "zero_shot v2"]

    close_window(qtbot, window)  # restart: still pinned
    again = open_window()
    pinned = again.accuracy.model.baseline
    assert pinned is not None and pinned.name == f"{first.name}:wrong"
    qtbot.mouseClick(again.accuracy.unpin_button, Qt.MouseButton.LeftButton)
    assert again.accuracy.model.baseline is None
