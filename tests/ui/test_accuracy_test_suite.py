"""The Accuracy pane shows TS % beside EX % when the run's dataset has a test suite, and hides it otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, table_row, window_with_test_variants
from workbench.ui.accuracy_pane import COLUMNS
from workbench.ui.session import AppPaths


def _run_first_ten(window: Any, qtbot: Any, dataset: Path) -> None:
    window.session.open_dataset(dataset, "dev")
    window.run_bar.limit.setValue(10)  # the library questions
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)


@pytest.mark.server(answer="model")
@pytest.mark.parametrize("with_suite", [True, False])
def test_ts_column_shows_only_with_a_test_suite(
    openai_server: OpenAITestServer,
    open_window: OpenWindow,
    app_paths: AppPaths,
    qtbot: Any,
    demo_copy: Path,
    with_suite: bool,
) -> None:
    folder = demo_copy / "database" / "library"
    if with_suite:
        shutil.copy(folder / "library.sqlite", folder / "library_ts1.sqlite")
    window = window_with_test_variants(open_window, app_paths, openai_server)
    _run_first_ten(window, qtbot, demo_copy)
    column = COLUMNS.index("TS %")
    assert window.accuracy.table.isColumnHidden(column) is not with_suite
    assert window.accuracy.model.headerData(column, Qt.Orientation.Horizontal) == "TS %"
    right, wrong = table_row(window, "right"), table_row(window, "wrong")
    assert (right["EX %"], wrong["EX %"]) == ("100.0", "0.0")
    assert (right["TS %"], wrong["TS %"]) == (("100.0", "0.0") if with_suite else ("–", "–"))
    rows = list(window.session.store.scores(window.session.run_info.id))
    assert {r.ts_match for r in rows} == ({True, False} if with_suite else {None})
