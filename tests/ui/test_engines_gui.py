"""Opening a PostgreSQL database in the app: the dialog's Test connection (the read-only check and the refusal of a
role that could write), the password kept in the keyring, and a run on it whose answers are scored on the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.core.test_postgres_engine import DIALECT_DIFFERENCES
from tests.own_data import write_questions_csv
from tests.pg_server import OWNER, READER
from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, table_row, window_with_test_variants
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.engines.postgres_connect import KEYRING_SERVICE
from workbench.paths import DEMO_DATASET
from workbench.ui.dataset_dialogs import PostgresDialog
from workbench.ui.session import AppPaths


def library_questions(folder: Path) -> Path:
    """The demo's dev questions on its library database (those whose answer does not differ by dialect), as CSV."""
    rows = [(q["question"], q["query"], "") for q in json.loads((DEMO_DATASET / "dev.json").read_text())
            if q["db_id"] == "library" and q["query"] not in DIALECT_DIFFERENCES]  # fmt: skip
    assert len(rows) >= 5
    return write_questions_csv(folder / "library.csv", rows)


def library_url(pg_server: Any, role: str) -> str:
    """The server's database as ``role``, with the library's schema as the search path (as a user would write it)."""
    return pg_server.url(role) + "?options=-csearch_path%3Dlibrary"


def connection_result(qtbot: Any, dialog: PostgresDialog) -> str:
    dialog.test_connection()
    await_in_qt(qtbot, dialog.settle())
    return dialog.result.text()


@pytest.mark.server(answer="model")
def test_a_postgres_database_opens_tests_its_role_and_scores_a_run_on_the_server(
    openai_server: OpenAITestServer,
    open_window: OpenWindow,
    app_paths: AppPaths,
    qtbot: Any,
    tmp_path: Path,
    pg_server: Any,
    pg_demo: Any,
) -> None:
    window = window_with_test_variants(open_window, app_paths, openai_server)
    dialog = PostgresDialog(window)
    dialog.url.setText(pg_server.url(READER).replace(f"{READER}@", f"{READER}:hunter22@"))
    refused = connection_result(qtbot, dialog)
    assert refused.startswith("URL: a password in the URL is refused") and "hunter22" not in refused, refused

    dialog.url.setText(library_url(pg_server, OWNER))  # the owner of the tables could change them
    dialog.password.setText(pg_server.passwords[OWNER])
    refusal = connection_result(qtbot, dialog)
    assert "--allow-privileged-role" in refusal and "GRANT SELECT" in refusal, refusal
    assert pg_server.passwords[OWNER] not in refusal

    url = library_url(pg_server, READER)
    dialog.url.setText(url)
    dialog.password.setText(pg_server.passwords[READER])
    assert connection_result(qtbot, dialog) == "Connected read-only: the role may only read."
    assert dialog.password.text() == ""  # kept in the keyring, not in the form
    assert keyring.get_password(KEYRING_SERVICE, url) == pg_server.passwords[READER]
    dialog.questions.setText(str(library_questions(tmp_path)))
    dialog._open()
    assert dialog.choice is not None and dialog.choice.ref.location == url
    assert window.open_dataset(dialog.choice.ref.location, None, dialog.choice.questions)

    session = window.session
    assert session.dataset is not None and session.dataset.engine == "postgres"
    assert session.dataset.location == url and len(session.items) >= 5
    await_in_qt(qtbot, window.context.settle())
    assert "engine PostgreSQL, SQL dialect postgres" in window.context.view.toPlainText()

    window.run_bar.run()
    qtbot.waitUntil(lambda: session.state == "completed", timeout=RUN_TIMEOUT_MS)
    right, wrong = table_row(window, "right"), table_row(window, "wrong")
    assert right["EX %"] == "100.0" and right["n"] == str(len(session.items)), right
    assert right["EM %"] == wrong["EM %"] == "n/a"  # exact-set match is Spider/SQLite-only
    assert float(wrong["EX %"]) < 100.0
    stored = session.store.run(session.run_info.name) if session.run_info else None
    assert stored is not None and stored.dataset_root == url and pg_server.passwords[READER] not in stored.dataset_root


def test_a_duckdb_file_opens_like_a_sqlite_one(open_window: OpenWindow, qtbot: Any, tmp_path: Path) -> None:
    db = tmp_path / "library.duckdb"
    registry.copy_from_sqlite(DEMO_DATASET / "database" / "library" / "library.sqlite", DatabaseRef("duckdb", str(db)))
    window = open_window()
    assert window.open_chosen_dataset(db, library_questions(tmp_path))  # what File ▸ Open dataset's dialogs chose
    dataset = window.session.dataset
    assert dataset is not None and dataset.engine == "duckdb" and dataset.location == str(db)
    assert len(window.session.items) >= 5
    await_in_qt(qtbot, window.context.settle())
    text = window.context.view.toPlainText()
    assert "engine DuckDB, SQL dialect duckdb" in text and "CREATE TABLE" in text
