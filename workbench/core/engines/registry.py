"""The engines by name: every caller reaches a database through these functions, never an engine module.

Engine modules are imported when first used, so a command that never touches DuckDB or
PostgreSQL never imports their drivers. Each engine module provides the same functions:
``open_database``, ``problem``, ``introspect``, ``identity`` and ``copy_from_sqlite``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from workbench.core.engines.base import ENGINES, DatabaseRef, EngineError, Introspection, ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S

_MODULES = {
    "sqlite": "workbench.core.engines.sqlite_engine",
    "duckdb": "workbench.core.engines.duckdb_engine",
    "postgres": "workbench.core.engines.postgres_engine",
}


def engine_module(engine: str) -> ModuleType:
    if engine not in _MODULES:
        raise EngineError(f"unknown engine {engine!r} (expected one of: {', '.join(ENGINES)})")
    return importlib.import_module(_MODULES[engine])


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


def problem(ref: DatabaseRef) -> str:
    """Why ``ref`` cannot be used ("" when it can): missing, not a database, unreachable, refused."""
    text: str = engine_module(ref.engine).problem(ref)
    return text


def introspect(ref: DatabaseRef, db_id: str) -> Introspection:
    """The schema from the engine's catalog; raises :class:`EngineError` when it cannot be read."""
    found: Introspection = engine_module(ref.engine).introspect(ref, db_id)
    return found


def identity(ref: DatabaseRef) -> str | None:
    """A digest that changes whenever the database's contents may have (for caches); None: do not cache."""
    digest: str | None = engine_module(ref.engine).identity(ref)
    return digest


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    """Copy every table (types, keys, rows) of the SQLite file ``source`` into ``ref``, replacing what is there."""
    engine_module(ref.engine).copy_from_sqlite(source, ref)
