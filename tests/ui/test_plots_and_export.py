"""Plots show the run's figures and the history of prompt versions; Export writes the report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, completed_run
from workbench.ui.session import AppPaths


@pytest.mark.server(answer="model")
def test_plots_follow_runs_and_prompt_versions(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Any
) -> None:
    window = completed_run(open_window, app_paths, openai_server, qtbot, 20)
    plots = window.plots
    expected = [(s.variant, 100 * s.execution_accuracy, 100 * s.interval[0], 100 * s.interval[1])
                for s in window.session.results.summaries()]  # fmt: skip
    assert plots.bars == expected and [b[1] for b in plots.bars] == [100.0, 0.0]
    assert [(p.variant, p.template, p.n) for p in plots.history] == [
        ("right", "zero_shot", 20),
        ("wrong", "few_shot", 20),
    ]

    # a new version of the zero-shot prompt, run again: the history gains a run with the new version
    window.prompt.templates.setCurrentText("zero_shot")
    window.prompt.editor.setPlainText(window.prompt.editor.toPlainText() + "\nOne query only.\n")
    new_version = window.prompt.save()
    first_run = window.session.run_info
    window.run_bar.run()
    qtbot.waitUntil(
        lambda: window.session.state == "completed" and window.session.run_info != first_run, timeout=RUN_TIMEOUT_MS
    )
    assert len(plots.history) == 4
    assert plots.history[2].version_id == new_version and plots.history[2].accuracy == 1.0
    assert "from 2 runs" in plots.history_note.text()

    out = tmp_path / "exported.html"
    await_in_qt(qtbot, window.export_report("html", out))
    text = out.read_text()
    assert "<table id='accuracy'>" in text and window.session.run_info.name in text  # type: ignore[union-attr]
    csv_out = tmp_path / "exported.csv"
    await_in_qt(qtbot, window.export_report("csv", csv_out))
    assert csv_out.read_text().count("\n") == 3  # header and two variants


def test_export_without_a_run_says_so(open_window: OpenWindow) -> None:
    window = open_window()
    assert window.export_report("html") is None and "No run to export" in window.last_problem
