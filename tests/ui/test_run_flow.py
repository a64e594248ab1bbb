"""Drive the app as a user: run two variants, read the table, the outputs and the context; cancel, resume."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, add_test_profiles, await_in_qt, close_window
from workbench.core.prompts.context import Context
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.accuracy_pane import COLUMNS
from workbench.ui.main_window import MainWindow
from workbench.ui.session import AppPaths

RUN_TIMEOUT_MS = 90_000


def use_test_variants(window: MainWindow) -> None:
    session = window.session
    zero = session.latest_version("zero_shot")
    few = session.latest_version("few_shot")
    session.set_specs([VariantSpec("right", "gold", zero), VariantSpec("wrong", "wrong", few, "bm25", 2)])


def window_with_test_variants(open_window: OpenWindow, app_paths: AppPaths, server: OpenAITestServer) -> MainWindow:
    """The app on the demo with two variants on the test server: "right" (gold) and "wrong"."""
    add_test_profiles(app_paths, server.base_url)
    window = open_window()
    use_test_variants(window)
    return window


def completed_run(
    open_window: OpenWindow, app_paths: AppPaths, server: OpenAITestServer, qtbot: Any, limit: int
) -> MainWindow:
    """The app with the two test variants after a run over the first ``limit`` questions has completed."""
    window = window_with_test_variants(open_window, app_paths, server)
    window.run_bar.limit.setValue(limit)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    return window


def table_row(window: MainWindow, variant: str) -> dict[str, str]:
    model = window.accuracy.model
    for row in range(model.rowCount()):
        if model.index(row, 0).data() == variant:
            return {c: model.index(row, k).data() for k, c in enumerate(COLUMNS)}
    raise AssertionError(f"no row for {variant}")


def click_cell(qtbot: Any, view: Any, row: int, column: int) -> None:
    rect = view.visualRect(view.model().index(row, column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.mark.server(answer="model")
def test_two_variants_stream_into_every_pane(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    qtbot.mouseClick(window.run_bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)

    right, wrong = table_row(window, "right"), table_row(window, "wrong")
    assert (right["n"], right["EX %"], right["EM %"], right["failed"]) == ("88", "100.0", "100.0", "0")
    assert (right["easy"], right["medium"], right["hard"], right["extra"]) == (
        "100.0 (22)", "100.0 (28)", "100.0 (16)", "100.0 (22)"
    )  # fmt: skip
    assert (wrong["n"], wrong["EX %"], wrong["95% CI"]) == ("88", "0.0", "0.0–4.2")
    assert right["model"] == "gold" and wrong["model"] == "wrong"
    text = window.accuracy.comparison.text()
    assert "is wrong: <b>88</b>" in text and "the reverse: <b>0</b>" in text and "n=88" in text
    assert "completed" in window.run_bar.progress_label.text()
    assert openai_server.stats.received == 176

    # select a question in the list: both answers, side by side, with grids and verdicts
    click_cell(qtbot, window.questions.table, 5, 3)
    index = window.session.current_index
    assert index == window.questions.model.rows[5]
    item = window.session.item(index)
    assert item is not None
    await_in_qt(qtbot, window.outputs.settle())
    cards = window.outputs.cards
    assert "correct" in cards["right"].verdict.text() and "wrong" in cards["wrong"].verdict.text()
    assert cards["right"].sql.toPlainText().split() == item.query.split()
    assert cards["right"].grid.rowCount() == window.outputs.gold.grid.rowCount() > 0
    assert item.question in window.outputs.header.text()

    # the context pane shows what "wrong" sent: its retrieved examples and the exact messages
    window.context.variant.setCurrentText("wrong")
    await_in_qt(qtbot, window.context.settle())  # built off the event loop
    html = window.context.view.toPlainText()
    assert "Retrieved examples" in html and item.question in html and "tokens" in window.context.tokens.text()

    # a click on a cell filters the question list
    wrong_row = [window.accuracy.model.index(r, 0).data() for r in range(2)].index("wrong")
    click_cell(qtbot, window.accuracy.table, wrong_row, COLUMNS.index("EX %"))
    assert len(window.questions.model.rows) == 88 and "wrong in wrong" in window.questions.count.text()
    right_row = 1 - wrong_row
    click_cell(qtbot, window.accuracy.table, right_row, COLUMNS.index("easy"))
    assert len(window.questions.model.rows) == 22
    click_cell(qtbot, window.accuracy.table, right_row, COLUMNS.index("EX %"))
    assert window.questions.model.rows == []  # "right" got nothing wrong

    # next wrong: from any question to the next one a variant missed (all of them here)
    window.session.set_filter(window.session.question_filter.__class__())
    before = window.session.current_index
    window.outputs.next_wrong()
    assert window.session.current_index != before


@pytest.mark.server(answer="model", latency_s=0.15)
def test_cancel_then_resume_after_reopening(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.results.done >= 30, timeout=RUN_TIMEOUT_MS)
    # the table fills in while the run streams (coalesced updates, a few per second)
    qtbot.waitUntil(lambda: int(table_row(window, "right")["n"]) > 0, timeout=5_000)
    assert window.session.state == "running" and "ETA" in window.run_bar.progress_label.text()
    qtbot.mouseClick(window.run_bar.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "cancelled", timeout=RUN_TIMEOUT_MS)
    done_before = window.session.results.done
    assert done_before < 176
    run_name = window.session.run_info.name  # type: ignore[union-attr]
    close_window(qtbot, window)

    reopened = open_window()  # a new session on the same store: the stopped run is offered
    assert reopened.run_bar.resume_button.isVisible() and run_name in reopened.run_bar.resume_label.text()
    assert reopened.session.results.done == done_before  # its results are shown as they were
    qtbot.mouseClick(reopened.run_bar.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reopened.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    right, wrong = table_row(reopened, "right"), table_row(reopened, "wrong")
    assert (right["n"], right["EX %"], wrong["n"], wrong["EX %"]) == ("88", "100.0", "88", "0.0")
    store = reopened.session.store
    rows = list(store.scores(reopened.session.run_info.id))  # type: ignore[union-attr]
    assert len(rows) == 176 and all(r.status == "scored" for r in rows)
    # each question answered once; only requests in flight at the cancel (concurrency 8 each) may repeat
    assert 176 <= openai_server.stats.received <= 176 + 16
    assert not reopened.run_bar.resume_button.isVisible()


@pytest.mark.server(answer="model", latency_s=0.02)
def test_pause_holds_the_run_and_continue_finishes_it(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.run_bar.limit.setValue(20)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.results.done >= 5, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(window.run_bar.pause_button, Qt.MouseButton.LeftButton)
    assert window.session.state == "paused" and window.run_bar.pause_button.text() == "Continue"
    qtbot.wait(300)
    held = openai_server.stats.received
    qtbot.wait(300)
    assert openai_server.stats.received == held  # nothing new is sent while paused
    qtbot.mouseClick(window.run_bar.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    assert table_row(window, "right")["n"] == "20" and openai_server.stats.received == 40


def test_a_run_that_cannot_start_says_why(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    version = window.session.latest_version("zero_shot")
    window.session.set_specs([VariantSpec("ghost", "no-such-profile", version)])
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.state == "failed", timeout=10_000)
    assert "no endpoint profile named 'no-such-profile'" in window.last_problem
    assert window.run_bar.run_button.isEnabled()


def test_the_context_preview_is_built_off_the_event_loop(open_window: OpenWindow, qtbot: Any, demo_copy: Path) -> None:
    """A preview's first build fits BM25 on the train split (thousands of questions here): the window keeps turning."""
    train = json.loads((demo_copy / "train.json").read_text())
    many = [dict(row, question=f"{row['question']} [copy {k}]") for k in range(30) for row in train]
    (demo_copy / "train.json").write_text(json.dumps(many))
    window = open_window()
    session = window.session
    assert window.open_dataset(demo_copy, "dev")
    spec = VariantSpec("bm25", "gold", session.latest_version("few_shot"), "bm25", 2)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def preview() -> tuple[int, Context]:
        before = ticks
        context = await session.preview(spec, session.items[0].index)
        return ticks - before, context

    ticker = asyncio.ensure_future(tick())
    during, context = await_in_qt(qtbot, preview())
    ticker.cancel()
    assert during > 0 and len(context.examples) == 2  # the loop ran while the retriever was fitted
    await_in_qt(qtbot, window.outputs.settle())  # the gold grid of the selected question, before closing
