"""The store's SQLite connection: opening a file (WAL), its schema version, migrating it, transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from workbench.core.engines.sqlite_engine import file_problem
from workbench.core.store.checkpoints import Checkpointer
from workbench.core.store.migrations import (
    KEPT_OUTCOMES_MIGRATION,
    MIGRATIONS,
    OWNER_MIGRATION,
    QUESTIONS_MIGRATION,
    SOFT_F1_MIGRATION,
)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


class _Transaction:
    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


class StoreError(RuntimeError):
    pass


class StoreConnection:
    """The open file every area of the store works on (``db``, ``transaction``); the base of each area's mixin."""

    def __init__(
        self,
        path: str | Path,
        migrations: list[Callable[[sqlite3.Connection], None]] | None = None,
        checkpoint_every_s: float | None = None,
    ) -> None:
        """``checkpoint_every_s``: copy the log into the file in a thread that often (``checkpoints.py``; the app's
        commits run on its event loop), not in whichever commit passes SQLite's size; None: SQLite's way."""
        self.path = Path(path)
        problem = file_problem(self.path)
        if problem not in ("", "missing", "empty file"):  # a new or empty file becomes a store
            raise StoreError(f"{self.path}: not a run store ({problem})")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.migrate(MIGRATIONS if migrations is None else migrations)
            self._checkpointer: Checkpointer | None = None
            if checkpoint_every_s is not None:
                self.db.execute("PRAGMA wal_autocheckpoint = 0")
                self._checkpointer = Checkpointer(self.path, checkpoint_every_s)
        except (OSError, sqlite3.DatabaseError) as exc:
            if hasattr(self, "db"):
                self.db.close()
            raise StoreError(f"{self.path}: cannot open the run store ({exc})") from None
        self._has_owner = self.version >= OWNER_MIGRATION
        self._has_questions = self.version >= QUESTIONS_MIGRATION
        self._has_soft_f1 = self.version >= SOFT_F1_MIGRATION
        self._has_kept_outcomes = self.version >= KEPT_OUTCOMES_MIGRATION

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.db.close()

    # --- schema -------------------------------------------------------------
    @property
    def version(self) -> int:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        row = self.db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def migrate(self, migrations: list[Callable[[sqlite3.Connection], None]]) -> None:
        current = self.version
        if current > len(migrations):
            raise StoreError(
                f"{self.path}: written by a newer workbench (schema {current}, this one knows {len(migrations)})"
            )
        for number, step in enumerate(migrations[current:], start=current + 1):
            with self.transaction():
                step(self.db)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, _now()))

    def transaction(self) -> _Transaction:
        """``with store.transaction() as db``: one write transaction (taken at once), committed at the end or
        rolled back on an exception."""
        return _Transaction(self.db)
