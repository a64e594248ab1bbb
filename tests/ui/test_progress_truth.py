"""Progress and state that are true: reopened and resumed runs, cancel then resume in the same session,
pause freezing the ETA, a dataset switch clearing the bar, the outputs following the filtered list,
and latency shown after a run whose answers all came from the cache."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, close_window
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, completed_run, table_row, window_with_test_variants
from workbench.core.reports.results import QuestionFilter
from workbench.ui.session import AppPaths

PAIRS = 176  # the demo's 88 dev questions x the two test variants


def bar(window: Any) -> tuple[int, int]:
    return window.run_bar.progress.value(), window.run_bar.progress.maximum()


@pytest.mark.server(answer="model", latency_s=0.15)
def test_a_cancelled_run_resumes_in_the_same_session_and_a_reopened_one_shows_its_progress(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.results.done >= 30, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(window.run_bar.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "cancelled", timeout=RUN_TIMEOUT_MS)
    done = window.session.results.done
    assert bar(window) == (done, PAIRS)
    # offered at once, not only after a restart
    assert window.run_bar.resume_button.isVisible()
    run_name = window.session.run_info.name  # type: ignore[union-attr]
    assert run_name in window.run_bar.resume_label.text()
    close_window(qtbot, window)

    reopened = open_window()  # the stopped run is shown as it stands: its real progress, not 0 %
    assert reopened.session.results.done == done
    assert bar(reopened) == (done, PAIRS)
    assert f"{done}/{PAIRS}" in reopened.run_bar.progress_label.text()
    qtbot.mouseClick(reopened.run_bar.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reopened.session.state == "running", timeout=RUN_TIMEOUT_MS)
    value, maximum = bar(reopened)
    assert maximum == PAIRS and value >= done  # resumed: what was answered before counts on the bar
    qtbot.waitUntil(lambda: reopened.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    assert bar(reopened) == (PAIRS, PAIRS)


@pytest.mark.server(answer="model", latency_s=0.05)
def test_pause_freezes_the_eta(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.results.done >= 20, timeout=RUN_TIMEOUT_MS)
    window.session.pause()
    # answers in flight at the pause still arrive and are scored; then nothing moves
    settled = [-1]

    def still() -> bool:
        settled.append(window.session.results.done)
        qtbot.wait(400)
        return window.session.results.done == settled[-1]

    qtbot.waitUntil(still, timeout=20_000)
    window.run_bar.update_progress()
    first = window.run_bar.progress_label.text()
    assert "paused" in first and re.search(r"ETA \d", first), first
    qtbot.wait(1_200)
    window.run_bar.update_progress()
    assert window.run_bar.progress_label.text() == first  # rate and ETA stand still while paused
    window.session.pause()  # continue
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)


@pytest.mark.server(answer="model")
def test_switching_the_dataset_clears_the_progress_bar(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, demo_copy: Path
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 10)
    assert bar(window) == (20, 20) and "completed" in window.run_bar.progress_label.text()
    assert window.open_dataset(demo_copy)
    assert window.session.state == "idle" and bar(window)[0] == 0
    assert window.run_bar.progress_label.text().startswith("ready")


@pytest.mark.server(answer="model")
def test_the_outputs_follow_the_filtered_list(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 10)
    session = window.session
    session.select_question(50)  # not in the first ten: no verdict yet
    session.set_filter(QuestionFilter("right", "right"))
    shown = window.questions.model.rows
    assert shown == list(range(10)) and session.current_index == 0
    assert session.item(0).question in window.outputs.header.text()  # type: ignore[union-attr]
    session.set_filter(QuestionFilter())
    window.questions.search.setText(session.item(7).question[:25])  # type: ignore[union-attr]
    assert window.questions.model.rows and session.current_index in window.questions.model.rows


@pytest.mark.server(answer="model", latency_s=0.05)
def test_latency_is_shown_after_a_run_answered_from_the_cache(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 6)
    measured = table_row(window, "right")["p50 ms"]
    assert measured != "–" and float(measured) >= 50
    window.run_bar.run()  # the same requests: every answer comes from the cache
    qtbot.waitUntil(lambda: window.session.state == "starting", timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    assert openai_server.stats.received == 12
    again = table_row(window, "right")["p50 ms"]
    assert again == f"{measured} (cached)", again
