"""A filter or search that hides every question says so and offers to show them all again."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.ui.conftest import OpenWindow
from workbench.core.reports.results import QuestionFilter


def test_a_filter_that_hides_everything_offers_to_clear_it(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    pane = window.questions
    total = len(window.session.items)
    assert total > 0 and len(pane.model.rows) == total and pane.show_all.isHidden()

    pane.search.setText("no question says zqxjv")
    assert pane.model.rows == [] and not pane.show_all.isHidden()
    assert "no question matches" in pane.count.text() and "zqxjv" in pane.count.text()

    qtbot.mouseClick(pane.show_all, Qt.MouseButton.LeftButton)
    assert len(pane.model.rows) == total and pane.search.text() == "" and pane.show_all.isHidden()

    pane.search.setText("books")  # some questions: no offer
    assert 0 < len(pane.model.rows) < total and pane.show_all.isHidden()
    pane.search.clear()
    window.session.set_filter(QuestionFilter("failed", "local-zero"))  # nothing has failed yet
    assert pane.model.rows == [] and not pane.show_all.isHidden()
    qtbot.mouseClick(pane.show_all, Qt.MouseButton.LeftButton)
    assert window.session.question_filter == QuestionFilter("all") and len(pane.model.rows) == total
