"""Gold known at load (hardness, problems) and gold disputes: the questions list, the dialog, EX with overrides."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.conftest import repeated_demo
from tests.servers.openai import WRONG_SQL, OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_run_flow import completed_run, table_row
from workbench.core.data.dataset import Dataset
from workbench.core.scoring.gold_hardness import gold_hardness
from workbench.paths import DEMO_DATASET
from workbench.ui.dispute_dialog import DisputeDialog
from workbench.ui.main_window import MainWindow
from workbench.ui.session import AppPaths

CTRL = Qt.KeyboardModifier.ControlModifier


def question_cell(window: MainWindow, index: int, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> Any:
    model = window.questions.model
    return model.index(model.rows.index(index), 3).data(role)


def test_hardness_is_known_right_after_opening_the_demo(open_window: OpenWindow, demo_path: Path, qtbot: Any) -> None:
    window = open_window()
    await_in_qt(qtbot, window.gold.settle())
    assert window.session.run_info is None and window.session.results.done == 0  # no run yet
    model = window.questions.model
    shown = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert len(shown) == 88 and Counter(shown) == {"easy": 22, "medium": 28, "hard": 16, "extra": 22}
    dataset = Dataset(demo_path)
    expected = gold_hardness(dataset, dataset.load_split("dev").items)
    pane = window.questions
    pane.hardness.setCurrentText("hard")
    pane.hardness.activated.emit(pane.hardness.currentIndex())
    assert model.rows == [i for i, level in expected.items() if level == "hard"] and len(model.rows) == 16
    assert "16 of 88 questions" in pane.count.text() and pane.show_all.isHidden()
    assert window.gold.checked and window.gold.problems == {}  # the demo's gold is clean
    first = window.session.current_index
    assert first is not None and f", {expected[first]}]" in window.outputs.header.text()  # not "?"
    window.show_shortcuts()  # F1 lists the dispute shortcuts too
    (box,) = [b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Keyboard shortcuts"]
    assert "Ctrl+D\tDispute…" in box.text() and "Ctrl+Alt+Z\tUndo the last dispute change" in box.text()
    box.close()


def test_a_failing_gold_query_is_marked_and_a_new_dataset_replaces_what_was_learnt(
    open_window: OpenWindow, demo_copy: Path, tmp_path: Path, qtbot: Any
) -> None:
    dev = json.loads((demo_copy / "dev.json").read_text())
    dev[2]["query"] = "SELECT no_such_column FROM " + dev[2]["query"].split(" FROM ", 1)[1]
    (demo_copy / "dev.json").write_text(json.dumps(dev))
    window = open_window()
    await_in_qt(qtbot, window.gold.settle())
    assert window.open_dataset(demo_copy)
    await_in_qt(qtbot, window.gold.settle())
    assert set(window.gold.problems) == {2} and question_cell(window, 2).startswith("⚠ ")
    tip = question_cell(window, 2, Qt.ItemDataRole.ToolTipRole)
    assert "gold: gold query fails" in tip and "no such column: no_such_column" in tip
    assert not question_cell(window, 3).startswith("⚠")

    large = repeated_demo(tmp_path, 3000)  # work that is still going when the next dataset opens
    assert window.open_dataset(large)
    under_way = window.gold._cancel
    assert window.open_dataset(DEMO_DATASET)
    assert under_way.is_set()  # the large split's work is told to stop
    assert window.gold.problems == {} and window.gold.hardness == {} and not window.gold.checked
    await_in_qt(qtbot, window.gold.settle())
    assert window.gold.checked and window.gold.problems == {} and not question_cell(window, 2).startswith("⚠")
    assert sorted(window.gold.hardness) == list(range(88))  # the demo's, nothing of the large split's


@pytest.mark.server(answer="model")
def test_a_dispute_changes_ex_with_overrides_and_nothing_else(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 10)
    run = window.session.run_info
    assert run is not None
    window.accuracy.pin("wrong")  # a baseline, for Δ EX, fixed and broken
    baseline = f"baseline {run.name}:wrong"
    names = ("right", "wrong", baseline)
    before = {name: table_row(window, name) for name in names}
    assert [before[n]["EX (overrides)"] for n in names] == ["100.0 (10)", "0.0 (10)", "0.0 (10)"]
    assert before["right"]["fixed"] == "10" and before["right"]["EX %"] == "100.0"

    # question 0: "gold is wrong", from the question list with Ctrl+D
    window.session.select_question(0)
    table = window.questions.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_D, CTRL)
    dialog = window.questions.dispute_actions.dialog
    assert isinstance(dialog, DisputeDialog) and dialog.isVisible() and dialog.kind() == "gold_wrong"
    dialog.note.setPlainText("the gold counts every loan, not the open ones")
    dialog.accept()
    # question 1: the wrong variant's prediction is also correct, from its answer in the outputs pane
    window.session.select_question(1)
    card = window.outputs.cards["wrong"]
    assert card.disputes is not None
    dialog = card.disputes.open_dialog()
    assert dialog is not None and dialog.kind() == "also_correct"
    assert dialog.prediction.currentText().startswith("wrong: ")
    dialog.accept()

    after = {name: table_row(window, name) for name in names}
    assert [after[n]["EX (overrides)"] for n in names] == ["100.0 (9)", "11.1 (9)", "11.1 (9)"]
    for name in names:  # nothing else moved: plain EX, CI, Δ EX, fixed, broken
        assert {k: v for k, v in after[name].items() if k != "EX (overrides)"} == {
            k: v for k, v in before[name].items() if k != "EX (overrides)"
        }
    stored = window.session.store.disputes(str(Path(run.dataset_root)), "dev")
    assert [(d.item_index, d.kind) for d in stored] == [(0, "gold_wrong"), (1, "also_correct")]
    assert stored[1].predicted_sql == WRONG_SQL and stored[1].said_of == f"{run.name}:wrong"
    assert question_cell(window, 0).startswith("⚑ ") and question_cell(window, 1).startswith("⚑ ")
    tip = question_cell(window, 0, Qt.ItemDataRole.ToolTipRole)
    assert "disputed: gold is wrong: the gold counts every loan" in tip
    window.session.select_question(0)
    assert window.outputs.gold.reason.text() == "disputed: gold is wrong: the gold counts every loan, not the open ones"

    # "Remove dispute" on question 0, then undo it
    window.session.select_question(0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_D, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert [table_row(window, n)["EX (overrides)"] for n in names] == ["100.0 (10)", "10.0 (10)", "10.0 (10)"]
    assert not question_cell(window, 0).startswith("⚑")
    qtbot.keyClick(table, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.AltModifier)
    assert [table_row(window, n)["EX (overrides)"] for n in names] == ["100.0 (9)", "11.1 (9)", "11.1 (9)"]
    assert window.session.store.disputes(run.dataset_root, "dev") == stored  # as it was, note and time


def _descendants_cpu_s() -> float:
    """CPU seconds used so far by this process's descendants that are still running (Linux's /proc)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mine, total, grew = {os.getpid()}, 0.0, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        grew = bool(found)
        mine |= found
        total += sum(used[pid] for pid in found)
    return total


def test_a_large_splits_gold_is_learnt_in_the_workers_not_in_the_apps_process(
    open_window: OpenWindow, tmp_path: Path, qtbot: Any
) -> None:
    window = open_window()
    await_in_qt(qtbot, window.gold.settle())
    large = repeated_demo(tmp_path, 6000)
    app_before, workers_before = time.process_time(), _descendants_cpu_s()
    assert window.open_dataset(large)
    await_in_qt(qtbot, window.gold.settle())
    app, workers = time.process_time() - app_before, _descendants_cpu_s() - workers_before
    assert window.gold.checked and len(window.gold.hardness) == 6000
    # parsing 6,000 gold queries and running each twice: seconds, none of them the window's process's
    assert workers > 3 * app, f"workers {workers:.2f} s of CPU, the app's process {app:.2f} s"
