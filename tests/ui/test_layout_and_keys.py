"""The window at real sizes and from the keyboard: answers side by side at 1280×800 with every verdict in view,
the accuracy table's variant column frozen, narrow verdict columns with full names in tooltips, widths kept,
a compact layout, Ctrl+1…7 to every pane, Copy SQL and Markdown copies."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QScrollArea

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, add_test_profiles, await_in_qt, close_window
from tests.ui.test_run_flow import RUN_TIMEOUT_MS
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.main_window import MainWindow
from workbench.ui.palette import DARK, dark_palette
from workbench.ui.questions_pane import VERDICT_WIDTH
from workbench.ui.session import AppPaths

NAMES = ("gpt-right-zero-shot", "wrong-few-shot-bm25", "gold-few-shot-bm25-k5")


def three_variant_run(window: MainWindow, qtbot: Any, limit: int = 6) -> None:
    session = window.session
    zero, few = session.latest_version("zero_shot"), session.latest_version("few_shot")
    session.set_specs([VariantSpec(NAMES[0], "gold", zero), VariantSpec(NAMES[1], "wrong", few, "bm25", 3),
                       VariantSpec(NAMES[2], "gold", few, "bm25", 5)])  # fmt: skip
    window.run_bar.limit.setValue(limit)
    window.run_bar.run()
    qtbot.waitUntil(lambda: session.state == "completed", timeout=RUN_TIMEOUT_MS)
    session.select_question(1)
    await_in_qt(qtbot, window.outputs.settle())


def sized(
    open_window: OpenWindow, app_paths: AppPaths, server: OpenAITestServer, qtbot: Any, size: tuple[int, int]
) -> MainWindow:
    add_test_profiles(app_paths, server.base_url)
    window = open_window()
    window.resize(*size)
    window.reset_layout()
    qtbot.wait(50)
    return window


@pytest.mark.server(answer="model")
def test_at_1280_by_800_every_answer_and_verdict_is_in_view(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = sized(open_window, app_paths, openai_server, qtbot, (1280, 800))
    three_variant_run(window, qtbot)
    QApplication.processEvents()
    scroll = window.outputs.findChild(QScrollArea)
    assert scroll is not None and scroll.horizontalScrollBar().maximum() == 0  # the cards share the width
    viewport = scroll.viewport().width()
    for name in NAMES:
        card = window.outputs.cards[name]
        assert card.geometry().right() <= viewport, name
        verdict = card.verdict
        assert verdict.isVisible() and verdict.width() >= verdict.sizeHint().width(), name  # not clipped
        assert "tokens" in card.metrics.text() and card.metrics.y() < card.sql.y()  # in the header, above the SQL
    # the accuracy table: every row in view, the variant as the row header (it stays when scrolled sideways)
    table = window.accuracy.table
    assert table.isColumnHidden(0) and table.verticalHeader().isVisible()
    model = window.accuracy.model
    assert [model.headerData(r, Qt.Orientation.Vertical) for r in range(3)] == list(NAMES)
    assert table.rowViewportPosition(2) + table.rowHeight(2) <= table.viewport().height()
    # the questions pane: narrow verdict columns, their names and elided questions in tooltips
    questions = window.questions
    header = questions.table.horizontalHeader()
    assert [header.sectionSize(4 + k) for k in range(3)] == [VERDICT_WIDTH] * 3
    assert questions.model.headerData(4, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole).startswith(NAMES[0])
    item = window.session.item(questions.model.rows[0])
    assert item is not None
    tip = questions.model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(item.question) and header.sectionSize(3) > 150


@pytest.mark.server(answer="model")
def test_column_widths_are_kept_across_restarts(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = sized(open_window, app_paths, openai_server, qtbot, (1600, 1000))
    three_variant_run(window, qtbot, limit=2)
    window.questions.table.horizontalHeader().resizeSection(1, 123)
    close_window(qtbot, window)
    again = open_window()
    qtbot.waitUntil(lambda: again.questions.table.horizontalHeader().count() == 7, timeout=10_000)
    assert again.questions.table.horizontalHeader().sectionSize(1) == 123


def test_a_small_window_gets_the_compact_layout(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    window.resize(1100, 700)
    window.reset_layout()
    assert window.docks["accuracy"] in window.tabifiedDockWidgets(window.docks["questions"])
    assert window.docks["context"] in window.tabifiedDockWidgets(window.docks["outputs"])
    window.resize(1600, 1000)
    window.reset_layout()
    assert window.docks["accuracy"] not in window.tabifiedDockWidgets(window.docks["questions"])


def test_ctrl_and_a_number_goes_to_each_pane(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    for number, key in enumerate(window.docks, start=1):
        action = window.actions_by_name[f"Go to {window.docks[key].windowTitle()}"]
        assert action.shortcut().toString() == f"Ctrl+{number}"
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)  # Runs: tabbed behind Context
    runs = window.docks["runs"]
    qtbot.waitUntil(lambda: runs.widget().isVisible(), timeout=5_000)
    focused = QApplication.focusWidget()
    assert focused is not None and runs.isAncestorOf(focused)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    focused = QApplication.focusWidget()
    assert focused is not None and window.docks["accuracy"].isAncestorOf(focused)


@pytest.mark.server(answer="model")
def test_copy_sql_and_copy_as_markdown(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = sized(open_window, app_paths, openai_server, qtbot, (1600, 1000))
    three_variant_run(window, qtbot, limit=3)
    clipboard = QGuiApplication.clipboard()
    card = window.outputs.cards[NAMES[1]]
    row = window.session.results.outcome(NAMES[1], 1)
    assert row is not None and row.predicted_sql
    assert card.copy_action in card.actions() and card.copy_action.shortcut().toString() == "Ctrl+Shift+C"
    card.copy_action.trigger()
    assert clipboard.text() == row.predicted_sql
    window.outputs.gold.copy_action.trigger()
    assert clipboard.text() == window.session.item(1).query  # type: ignore[union-attr]

    accuracy = window.accuracy
    names = [accuracy.model.index(r, 0).data() for r in range(accuracy.model.rowCount())]
    accuracy.table.setCurrentIndex(accuracy.model.index(names.index(NAMES[1]), 3))
    text = accuracy.copy_row()
    head, rule, line = text.split("\n")
    assert head.startswith("| variant | n | EX % | 95% CI | Δ EX vs baseline | fixed | broken | prompt | model |")
    assert "TS %" not in head  # the shown columns only
    assert rule.startswith("|---|") and line.startswith(
        f"| {NAMES[1]} | 3 | 0.0 | 0.0–56.1 | – | – | – | few_shot v1 | wrong |"
    )
    assert clipboard.text() == text
    assert len(accuracy.copy_table().split("\n")) == 2 + 3


def test_the_dark_palette_sets_every_role_it_names() -> None:
    palette = dark_palette()
    for role, colour in DARK.items():
        assert palette.color(role).name() == colour


@pytest.mark.server(answer="model")
def test_ask_one_question_again_past_the_cache(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = sized(open_window, app_paths, openai_server, qtbot, (1600, 1000))
    three_variant_run(window, qtbot, limit=4)
    session, store = window.session, window.session.store
    run = session.run_info
    assert run is not None and openai_server.stats.received == 12
    specs_before = store.run_specs(run.id)
    rows_before = {(r.variant_id, r.item_index): r for r in store.scores(run.id)}
    card = window.outputs.cards[NAMES[1]]
    [again] = [a for a in card.actions() if a.text() == "Ask this question again"]
    again.trigger()  # one variant, the shown question (1)
    qtbot.waitUntil(lambda: session.state == "completed" and not session.running, timeout=RUN_TIMEOUT_MS)
    assert openai_server.stats.received == 13  # asked past the cache, once
    qtbot.mouseClick(window.outputs.again_button, Qt.MouseButton.LeftButton)  # every variant
    qtbot.waitUntil(lambda: openai_server.stats.received == 16 and not session.running, timeout=RUN_TIMEOUT_MS)
    assert session.run_info is not None and session.run_info.name == run.name  # the same run, its rows replaced
    rows = {(r.variant_id, r.item_index): r for r in store.scores(run.id)}
    assert rows.keys() == rows_before.keys()
    assert all(rows[key] == rows_before[key] for key in rows if key[1] != 1)  # the other questions untouched
    assert store.run_specs(run.id) == specs_before and store.run(run.name).state == "completed"
    assert window.session.results.done == 12 and window.run_bar.progress.value() == window.run_bar.progress.maximum()
