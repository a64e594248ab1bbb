"""Confirmations before what cannot be taken back quickly: quitting mid-run, long or costly work."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, window_with_test_variants
from workbench.ui.confirmations import (
    COSTLY_TITLE,
    KEEP_RUNNING,
    PAUSE_AND_QUIT,
    QUIT_TITLE,
    START_ANYWAY,
    confirm_costly_start,
)
from workbench.ui.session import AppPaths


def question(parent: QWidget, title: str) -> QMessageBox:
    boxes = [b for b in parent.findChildren(QMessageBox) if b.windowTitle() == title and b.isVisible()]
    assert len(boxes) == 1, [b.windowTitle() for b in boxes]
    return boxes[0]


def press(box: QMessageBox, text: str) -> None:
    [button] = [b for b in box.buttons() if b.text() == text]
    button.click()


@pytest.mark.server(answer="model", latency_s=0.2)
def test_quitting_mid_run_asks_and_pause_and_quit_keeps_it_resumable(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.results.done >= 10, timeout=RUN_TIMEOUT_MS)
    window.close()
    box = question(window, QUIT_TITLE)
    assert window.isVisible() and window.session.state == "running"
    assert "of 176 answers are in" in box.text() and PAUSE_AND_QUIT in box.text()
    press(box, KEEP_RUNNING)
    assert window.isVisible() and window.session.running and not window.session.paused

    window.close()
    press(question(window, QUIT_TITLE), PAUSE_AND_QUIT)
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not window.session.running, timeout=RUN_TIMEOUT_MS)
    run = window.session.run_info
    assert run is not None
    await_in_qt(qtbot, window.session.shutdown())
    reopened = open_window()
    assert reopened.run_bar.resume_button.isVisible() and run.name in reopened.run_bar.resume_label.text()


def test_quitting_when_nothing_runs_asks_nothing(open_window: OpenWindow) -> None:
    window = open_window()
    window.close()
    assert not window.isVisible() and not window.findChildren(QMessageBox)


@pytest.mark.parametrize(
    ("seconds", "dollars", "asked"),
    [(60.0, 0.10, False), (10 * 3600.0, None, True), (None, 12.0, True), (29 * 60.0, 4.99, False)],
)
def test_long_or_costly_work_is_confirmed_with_time_and_money(
    open_window: OpenWindow, seconds: float | None, dollars: float | None, asked: bool
) -> None:
    window = open_window()
    started: list[bool] = []
    box = confirm_costly_start(window, "Fine-tuning gpt-4o-mini", seconds, dollars, lambda: started.append(True))
    assert (box is not None) == asked and started == ([] if asked else [True])
    if box is None:
        return
    text = box.text()
    assert ("about 10 h 00 min" in text) if seconds else ("about $12.00" in text)
    assert "estimate" in text
    press(question(window, COSTLY_TITLE), "Not now")
    assert started == []
    box = confirm_costly_start(window, "Fine-tuning gpt-4o-mini", seconds, dollars, lambda: started.append(True))
    press(question(window, COSTLY_TITLE), START_ANYWAY)
    assert started == [True]


def test_a_batch_run_is_confirmed_before_it_is_submitted(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    window.run_bar.batch.setChecked(True)
    window.run_bar.limit.setValue(5)
    qtbot.mouseClick(window.run_bar.run_button, Qt.MouseButton.LeftButton)
    box = question(window, COSTLY_TITLE)
    assert "A Batch API run of 10 requests" in box.text() and "about 24 h 00 min" in box.text()
    press(box, "Not now")
    assert window.session.state == "idle" and not window.session.running
