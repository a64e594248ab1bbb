"""Opening a dataset with many stored runs reads their figures, not their rows: the Runs pane lists every run
from sums the store makes, and the Plots tab reads verdicts only when its history is drawn or asked for."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_run_list import _many_runs
from tests.ui.conftest import OpenWindow
from workbench.core.store import Store
from workbench.ui.session import AppPaths


def test_opening_a_dataset_reads_no_stored_row_until_the_history_is_asked_for(
    open_window: OpenWindow, app_paths: AppPaths, demo_path: Path
) -> None:
    store = Store(app_paths.store)
    _many_runs(store, demo_path, 30)
    store.close()
    window = open_window()  # opens the demo and shows its last run (whose rows the panes do read)
    session = window.session
    statements: list[str] = []
    session.store.db.set_trace_callback(statements.append)
    session.open_dataset(demo_path)  # the Runs pane and the Plots tab (hidden) follow
    session.store.db.set_trace_callback(None)
    assert window.runs.model.rowCount() == 30
    assert window.questions.model.rowCount() == len(session.items)
    row_reads = [s for s in statements if "FROM scores" in s and "item_index" in s]
    assert row_reads == [], row_reads
    session.store.db.set_trace_callback(statements.append)
    history = window.plots.history  # asked for: now the verdicts are read, once per arm
    session.store.db.set_trace_callback(None)
    assert len(history) == 60 and all(p.n == 5 for p in history)
    assert len([s for s in statements if "FROM scores" in s and "item_index" in s]) == 60
