"""The Runs pane lists stored runs and pins a baseline; the questions filter lists what a change fixed and broke;
the history plot compares on common items and marks a cancelled run.

The test server answers "right" (model gold) from a script of gold SQL per question: the test takes
questions out of (and back into) that script between runs, so which items each run gets right is known.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, close_window
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, table_row, window_with_test_variants
from workbench.core.reports.stats import wilson_interval
from workbench.ui.main_window import MainWindow
from workbench.ui.runs_model import COLUMNS
from workbench.ui.session import AppPaths


def runs_row(window: MainWindow, run_id: int, variant: str | None = None) -> dict[str, str]:
    """A row of the Runs pane as text: a run's row, or one of its variants'."""
    model = window.runs.model
    for k, run in enumerate(model.runs):
        if run.info.id == run_id:
            parent = model.index(k, 0)
            row, under = (k, None) if variant is None else ([a.variant for a in run.arms].index(variant), parent)
            return {c: model.index(row, j, under).data() if under else model.index(row, j).data()
                    for j, c in enumerate(COLUMNS)}  # fmt: skip
    raise AssertionError(f"run {run_id} is not listed")


def run_and_wait(window: MainWindow, qtbot: Any, limit: int) -> Any:
    before = window.session.run_info
    window.run_bar.limit.setValue(limit)
    window.run_bar.run()
    qtbot.waitUntil(
        lambda: window.session.state == "completed" and window.session.run_info != before, timeout=RUN_TIMEOUT_MS
    )
    return window.session.run_info


def new_prompt_version(window: MainWindow, line: str) -> None:
    window.prompt.templates.setCurrentText("zero_shot")
    window.prompt.editor.setPlainText(window.prompt.editor.toPlainText() + f"\n{line}\n")
    window.prompt.save()  # "right" moves to the new version: its requests are new, not cached


def choose_filter(window: MainWindow, text: str) -> list[int]:
    combo = window.questions.kind
    k = combo.findText(text)
    assert k >= 0, f"no filter {text!r} in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(k)
    combo.activated.emit(k)
    return list(window.questions.model.rows)


@pytest.mark.server(answer="model")
def test_runs_pane_pins_a_baseline_that_filters_and_plots_follow(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    script, items = openai_server.config.answers, window.session.items
    held = {k: script.pop(items[k].question) for k in (2, 5)}  # "right" misses items 2 and 5 in the first run
    first = run_and_wait(window, qtbot, 10)
    assert [r.info.id for r in window.runs.model.runs] == [first.id]
    assert (runs_row(window, first.id)["answered"], runs_row(window, first.id)["state"]) == ("20 / 20", "completed")
    right = runs_row(window, first.id, "right")
    assert (right["answered"], right["EX %"], right["prompt"], right["model"]) == ("10 / 10", "80.0", "zero_shot v1",
                                                                                   "gold")  # fmt: skip
    assert runs_row(window, first.id, "wrong")["EX %"] == "0.0"
    assert runs_row(window, first.id, "wrong")["retrieval"] == "bm25 k=2"

    # pin "right" of the first run from the Runs pane, with the keyboard
    window.docks["runs"].show()
    window.docks["runs"].raise_()
    tree = window.runs.tree
    tree.setCurrentIndex(window.runs.model.arm_index(first.id, "right"))
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus)
    qtbot.keyClick(tree, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    baseline = window.accuracy.model.baseline
    assert baseline is not None and baseline.name == f"{first.name}:right"
    assert table_row(window, f"baseline {first.name}:right")["EX %"] == "80.0"
    assert runs_row(window, first.id, "right")["run"] == "right (baseline)"

    # the next run: item 2 answered right again, item 7 now wrong; twenty items, of which ten are common
    script[items[2].question] = held[2]
    script.pop(items[7].question)
    new_prompt_version(window, "One query only.")
    second = run_and_wait(window, qtbot, 20)
    assert [r.info.id for r in window.runs.model.runs] == [second.id, first.id]  # newest first
    assert runs_row(window, second.id, "right")["EX %"] == "90.0"  # 18 of its 20: wrong on 5 and 7
    assert runs_row(window, second.id, "right")["prompt"] == "zero_shot v2"
    row = table_row(window, "right")
    assert (row["fixed"], row["broken"]) == ("1", "1")
    assert choose_filter(window, f"fixed in right vs baseline {first.name}:right") == [items[2].index]
    assert choose_filter(window, f"broken in right vs baseline {first.name}:right") == [items[7].index]
    baseline_right = [items[k].index for k in range(10) if k not in (2, 5)]
    assert choose_filter(window, f"broken in wrong vs baseline {first.name}:right") == baseline_right
    assert choose_filter(window, f"fixed in wrong vs baseline {first.name}:right") == []

    # the Runs pane compares selected variants of any run with the baseline
    selection = tree.selectionModel()
    selection.clear()
    for run_id, variant in ((second.id, "right"), (second.id, "wrong")):
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.select(window.runs.model.arm_index(run_id, variant), flags)
    qtbot.mouseClick(window.runs.compare_button, Qt.MouseButton.LeftButton)
    cells = [[window.runs.table.item(r, c).text() for c in range(window.runs.table.columnCount())]
             for r in range(window.runs.table.rowCount())]  # fmt: skip
    assert [(c[0], c[2], c[3], c[4], c[6], c[7]) for c in cells] == [
        (f"{second.name}:right", "10", "80.0", "80.0", "1", "1"),
        (f"{second.name}:wrong", "10", "80.0", "0.0", "0", "8"),
    ]

    # shown together: another run's variant joins the Accuracy table (the shown run's own are there already)
    selection.clear()
    for run_id, variant in ((first.id, "wrong"), (second.id, "right")):
        selection.select(window.runs.model.arm_index(run_id, variant), flags)
    qtbot.mouseClick(window.runs.together_button, Qt.MouseButton.LeftButton)
    beside = table_row(window, f"beside {first.name}:wrong")
    assert (beside["n"], beside["EX %"], beside["prompt"], beside["fixed"], beside["broken"]) == (
        "10", "0.0", "few_shot v1", "0", "8"
    )  # fmt: skip
    rows = [window.accuracy.model.index(r, 0).data() for r in range(window.accuracy.model.rowCount())]
    assert rows == ["right", "wrong", f"baseline {first.name}:right", f"beside {first.name}:wrong"]
    selection.clear()
    qtbot.mouseClick(window.runs.together_button, Qt.MouseButton.LeftButton)  # nothing selected: none beside
    assert window.accuracy.model.rowCount() == 3

    # a third run, cancelled part-way: hollow in the plot; the common items stay the complete runs' ten
    openai_server.config.latency_s = 0.2
    new_prompt_version(window, "Answer with SQL.")
    window.run_bar.limit.setValue(60)
    window.run_bar.run()
    started = window.session
    qtbot.waitUntil(lambda: started.run_info != second and started.results.done >= 25, timeout=RUN_TIMEOUT_MS)
    window.session.cancel()
    qtbot.waitUntil(lambda: window.session.state == "cancelled", timeout=RUN_TIMEOUT_MS)
    third = window.session.run_info
    listed = runs_row(window, third.id)
    answered, asked = (int(x) for x in listed["answered"].split(" / "))
    assert listed["state"] == "cancelled" and asked == 120 and answered < asked

    plots = window.plots
    assert [(p.run_name, p.variant, p.n, p.n_common, p.complete) for p in plots.history][:4] == [
        (first.name, "right", 10, 10, True),
        (first.name, "wrong", 10, 10, True),
        (second.name, "right", 10, 10, True),  # EX on the ten common items, not its twenty
        (second.name, "wrong", 10, 10, True),
    ]
    assert plots.history[2].accuracy == 0.8 and (plots.history[2].low, plots.history[2].high) == wilson_interval(8, 10)
    cut = [p for p in plots.history if p.run_name == third.name]
    assert cut and all(not p.complete and p.n <= 10 for p in cut)
    assert "on 10 common items" in plots.history_plot.plotItem.titleLabel.text
    scatter = [i for i in plots.history_plot.plotItem.items if isinstance(i, pg.ScatterPlotItem)]
    hollow = [s for s in scatter if s.opts["brush"].color().alpha() == 0]
    assert sum(len(s.points()) for s in hollow) == len(cut)  # the cancelled run's points, and only those
    assert all("incomplete: cancelled" in p.data() for s in hollow for p in s.points())
    assert f"Hollow: incomplete ({third.name})" in plots.history_note.text()
    legend = plots.history_plot.plotItem.legend
    window.docks["plots"].raise_()  # laid out only when its tab is shown
    qtbot.waitUntil(lambda: plots.history_plot.plotItem.vb.sceneBoundingRect().height() > 20, timeout=5_000)
    view = plots.history_plot.plotItem.vb.sceneBoundingRect
    # below the points, never over them (once the plot's layout has placed it)
    qtbot.waitUntil(lambda: legend.sceneBoundingRect().top() >= view().bottom() > 20, timeout=5_000)

    # Enter on a run's row shows that run's results; Ctrl+Shift+R hides and shows the pane
    tree.setCurrentIndex(window.runs.model.index(2, 0))
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert window.session.run_info is not None and window.session.run_info.id == first.id
    assert (table_row(window, "right")["n"], table_row(window, "right")["EX %"]) == ("10", "80.0")
    toggle = window.actions_by_name["Runs pane"]
    qtbot.keyClick(tree, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not window.docks["runs"].isVisible() and not toggle.isChecked()
    toggle.trigger()
    assert window.docks["runs"].isVisible()

    close_window(qtbot, window)  # restart: the pin made in the Runs pane is kept
    again = open_window()
    pinned = again.accuracy.model.baseline
    assert pinned is not None and pinned.name == f"{first.name}:right"
    assert table_row(again, f"baseline {first.name}:right")["EX %"] == "80.0"
    assert [r.info.id for r in again.runs.model.runs] == [third.id, second.id, first.id]
