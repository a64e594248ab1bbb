"""The dialogs that choose a dataset: a folder or database file (and its questions), or a PostgreSQL database.

A PostgreSQL database is chosen by its URL, where its password comes from, and its question file.

The password is never written to a file: it is stored in the OS keyring for this URL, or
read by libpq from ``PGPASSWORD`` or ``~/.pgpass``. Test connection opens the
database read-only exactly as a run would (the role check included) off the event loop and
says what it found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.data.bird import is_bird_folder
from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.engines.postgres_url import url_problem

DATASET_FILTER = "Datasets (tables.json *_tables.json *.sqlite *.sqlite3 *.db *.duckdb);;All files (*)"
QUESTIONS_FILTER = "Question files (*.csv *.jsonl);;All files (*)"
DATASET_TITLE = "Open a dataset: a Spider folder's tables.json, a BIRD folder's dev_tables.json, or a database"
URL_HINT = "postgresql://reader@localhost:5432/mydb"


def stands_for_folder(chosen: Path) -> bool:
    """A file that opens its folder: Spider's ``tables.json``, or a JSON file of a BIRD folder (``dev_tables.json``)."""
    return chosen.name == "tables.json" or (chosen.suffix == ".json" and is_bird_folder(chosen.parent))


@dataclass(frozen=True)
class DatabaseChoice:
    """What the dialog chose: the database, and the question file that goes with it."""

    ref: DatabaseRef
    questions: Path


class PostgresDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a PostgreSQL database")
        self.url = QLineEdit()
        self.url.setPlaceholderText(URL_HINT)
        self.url.setToolTip("The database's URL, without a password")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("stored in the OS keyring for this URL (optional)")
        self.privileged = QCheckBox("Allow a role that could write (not recommended)")
        self.questions = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        questions_row = QHBoxLayout()
        questions_row.addWidget(self.questions, 1)
        questions_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("URL", self.url)
        form.addRow("Password", self.password)
        form.addRow("", QLabel("Or leave it empty: PGPASSWORD in the environment or ~/.pgpass are read too."))
        form.addRow("", self.privileged)
        form.addRow("Questions", questions_row)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._open)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(self.buttons)
        self.choice: DatabaseChoice | None = None
        self._test_task: asyncio.Future[None] | None = None
        self.resize(620, self.sizeHint().height())

    def _browse(self) -> None:
        picked, _ = QFileDialog.getOpenFileName(self, "Questions for this database", "", QUESTIONS_FILTER)
        if picked:
            self.questions.setText(picked)

    def _say(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {'#2d7d2d' if ok else '#9b1c1c'}")

    def database(self) -> DatabaseRef | None:
        """The database the form names (the password stored in the keyring first, if one was typed)."""
        url = self.url.text().strip()
        if not url:
            self._say(f"Enter the database's URL, e.g. {URL_HINT}", False)
            return None
        problem = url_problem(url)
        if problem:
            self._say(f"URL: {problem}", False)  # the URL is not repeated: it may hold the password being refused
            return None
        ref = DatabaseRef("postgres", url, allow_privileged_role=self.privileged.isChecked())
        if self.password.text():
            from workbench.core.engines import postgres_connect  # the keyring only when a password is kept

            try:
                postgres_connect.store_password(ref, self.password.text())
            except EngineError as exc:  # no secure keyring here: say so, keep nothing
                self._say(f"{exc}; name an environment variable instead", False)
                return None
            self.password.clear()
        return ref

    def test_connection(self) -> None:
        ref = self.database()
        if ref is None:
            return
        self._say("connecting …", True)
        self.test_button.setEnabled(False)
        self._test_task = asyncio.ensure_future(self._test(ref))

    async def _test(self, ref: DatabaseRef) -> None:
        from workbench.core.engines import registry

        try:
            problem = await asyncio.to_thread(registry.problem, ref)
        finally:
            self.test_button.setEnabled(True)
        self._say(problem or "Connected read-only: the role may only read.", not problem)

    async def settle(self) -> None:
        """Wait for a connection test in flight (tests)."""
        if self._test_task is not None:
            await asyncio.gather(self._test_task, return_exceptions=True)

    def _open(self) -> None:
        ref = self.database()
        if ref is None:
            return
        questions = self.questions.text().strip()
        if not questions or not Path(questions).is_file():
            self._say("Choose the question file (.csv or .jsonl) that goes with this database", False)
            return
        self.choice = DatabaseChoice(ref, Path(questions))
        self.accept()


def pick_dataset(parent: QWidget) -> tuple[Path, Path | None] | None:
    """A Spider folder's tables.json, a BIRD folder's dev_tables.json (or any of its JSON files), or a database
    file (SQLite, DuckDB) and then its question file; None when the user cancels."""
    chosen, _ = QFileDialog.getOpenFileName(parent, DATASET_TITLE, "", DATASET_FILTER)
    if not chosen:
        return None
    if stands_for_folder(Path(chosen)):
        return Path(chosen), None
    picked, _ = QFileDialog.getOpenFileName(
        parent, f"Questions for {Path(chosen).name}", str(Path(chosen).parent), QUESTIONS_FILTER
    )
    return (Path(chosen), Path(picked)) if picked else None


def pick_postgres(parent: QWidget) -> DatabaseChoice | None:
    """The PostgreSQL database and question file the dialog chose; None when the user cancels."""
    dialog = PostgresDialog(parent)
    return dialog.choice if dialog.exec() else None
