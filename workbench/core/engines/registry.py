"""The engines by name: every caller reaches a database through these functions, never an engine module.

Engine modules are imported when first used, so a command that never touches DuckDB or
PostgreSQL never imports their drivers. Each engine module provides the same functions:
``open_database``, ``problem``, ``introspect``, ``identity`` and ``copy_from_sqlite``;
``execute_one`` is ``open_database`` for a single statement.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from workbench.core.engines.base import (
    ENGINES,
    DatabaseRef,
    EngineError,
    Introspection,
    ReadOnlyDatabase,
    entry_columns,
)
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, Outcome, QueryError

_MODULES = {
    "sqlite": "workbench.core.engines.sqlite_engine",
    "duckdb": "workbench.core.engines.duckdb_engine",
    "postgres": "workbench.core.engines.postgres_engine",
}


def engine_module(engine: str) -> ModuleType:
    if engine not in _MODULES:
        raise EngineError(f"unknown engine {engine!r} (expected one of: {', '.join(ENGINES)})")
    try:
        return importlib.import_module(_MODULES[engine])
    except ImportError as exc:  # the engine module, or its driver, is not installed
        raise EngineError(f"the {engine} engine is not available ({exc})") from None


def open_database(
    ref: DatabaseRef,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    phase: int = watchdog.PREDICTION,
    reverse_unordered: bool = False,
) -> ReadOnlyDatabase:
    """A read-only, bounded connection to ``ref``; raises :class:`EngineError` naming it when it cannot open.

    ``reverse_unordered`` asks the engine to return rows in another order wherever the order is
    unspecified (SQLite only; other engines ignore it).
    """
    module = engine_module(ref.engine)
    db: ReadOnlyDatabase = module.open_database(ref, timeout_s, max_rows, max_bytes, phase, reverse_unordered)
    return db


def execute_one(
    ref: DatabaseRef, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS
) -> Outcome:
    """Run one query on ``ref`` in a fresh connection; a database that cannot open is a ``QueryError("open")``."""
    try:
        db = open_database(ref, timeout_s, max_rows)
    except EngineError as exc:
        return QueryError("open", str(exc))
    with db:
        return db.execute(sql)


def problem(ref: DatabaseRef) -> str:
    """Why ``ref`` cannot be used ("" when it can): missing, not a database, unreachable, refused, no engine."""
    try:
        module = engine_module(ref.engine)
    except EngineError as exc:
        return str(exc)
    text: str = module.problem(ref)
    return text


def introspect(ref: DatabaseRef, db_id: str) -> Introspection:
    """The schema from the engine's catalog; raises :class:`EngineError` when it cannot be read."""
    found: Introspection = engine_module(ref.engine).introspect(ref, db_id)
    return found


def identity(ref: DatabaseRef) -> str | None:
    """A digest that changes whenever the database's contents may have (for caches); None: do not cache."""
    digest: str | None = engine_module(ref.engine).identity(ref)
    return digest


def stamp(ref: DatabaseRef) -> str | None:
    """A cheap token that changes whenever a database file may have changed (its path, device, inode, size,
    mtime and ctime: any write changes the ctime); None for a server or a file that cannot be read."""
    if not ref.is_file:
        return None
    try:
        st = os.stat(ref.path)
        where = str(ref.path.resolve())
    except OSError:
        return None
    return repr((ref.engine, where, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    """Copy every table (types, keys, rows) of the SQLite file ``source`` into ``ref``, replacing what is there."""
    engine_module(ref.engine).copy_from_sqlite(source, ref)


def table_columns(ref: DatabaseRef, db_id: str) -> dict[str, list[str]]:
    """Each table's columns as the database has them (no sample values): the engine's own ``table_columns``
    where it has one, else read from :func:`introspect`; raises :class:`EngineError` when it cannot be read."""
    module = engine_module(ref.engine)
    if hasattr(module, "table_columns"):
        found: dict[str, list[str]] = module.table_columns(ref)
        return found
    return entry_columns(introspect(ref, db_id).entry)
