"""The one contract every execution engine keeps, and the shapes it speaks in.

An engine runs untrusted SQL (a model's prediction, a dataset's gold query) against one
database without any way to change it: read-only, each statement bounded in time, each
result bounded in rows and bytes, and every failure returned as a
:class:`~workbench.core.sandbox.sqlexec.QueryError` whose ``kind`` names the bound hit
(``timeout``, ``too_many_rows``, ``too_large``, ``memory``) or the reason (``denied``,
``syntax``, ``runtime``, ``open``); nothing raises from ``execute``.

Rows come back normalised (:func:`normalise_row`) so that the same answer compares equal
whichever engine produced it: booleans as integers, integral decimals as ``int`` and the
others as ``float``, dates and times as SQLite's ISO text, binary as ``bytes``, NULL as
``None``.

A database is named by a :class:`DatabaseRef` (engine, location, and for PostgreSQL the
schema and where its password comes from); it is small and picklable, so it travels to
the worker processes of a ``BoundedPool``. A password is never part of it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from workbench.core.sandbox.sqlexec import Outcome

EngineName = Literal["sqlite", "duckdb", "postgres"]
ENGINES: tuple[EngineName, ...] = ("sqlite", "duckdb", "postgres")
# the name sqlglot gives each engine's dialect
SQLGLOT_DIALECTS: dict[str, str] = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgres"}


class EngineError(Exception):
    """A database cannot be opened or used (missing, unreachable, refused); the message names it and why."""


@dataclass(frozen=True)
class DatabaseRef:
    """Where one database (one ``db_id``) lives.

    ``location`` is a file path (SQLite, DuckDB) or a ``postgresql://`` URL without a password.
    ``namespace`` is the PostgreSQL schema holding this database's tables ("" = the URL's
    default search path). The password comes from the environment variable ``password_env``
    when it is set, else from the OS keyring (service ``workbench-postgres``, the URL as user
    name), else none (peer or trust authentication).
    """

    engine: EngineName
    location: str
    namespace: str = ""
    password_env: str = ""
    allow_privileged_role: bool = False  # connect even as a role that could write (``--allow-privileged-role``)
    options: tuple[tuple[str, str], ...] = field(default=())  # engine-specific settings, as (name, value)

    @property
    def path(self) -> Path:
        """The database file (SQLite, DuckDB)."""
        return Path(self.location)

    @property
    def is_file(self) -> bool:
        return self.engine != "postgres"

    @property
    def dialect(self) -> str:
        """The sqlglot dialect of this engine's SQL."""
        return SQLGLOT_DIALECTS[self.engine]

    def label(self) -> str:
        """How messages name this database: the file, or the URL and schema (never a password)."""
        return f"{self.location}#{self.namespace}" if self.namespace else self.location


class ReadOnlyDatabase(Protocol):
    """One open, read-only connection to one database, reused for many statements."""

    ref: DatabaseRef
    timeout_s: float
    max_rows: int
    max_bytes: int
    phase: int  # what the supervisor says it stopped, if it has to (watchdog.GOLD or PREDICTION)

    def execute(self, sql: str, phase: int | None = None) -> Outcome: ...

    def close(self) -> None: ...

    def __enter__(self) -> ReadOnlyDatabase: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True)
class Introspection:
    """A database's schema as its catalog tells it, in the shape of a Spider ``tables.json`` entry.

    ``entry`` has every key ``data.schema.REQUIRED_KEYS`` names; ``samples`` holds a few distinct
    values per (table, column) and ``descriptions`` each column's comment, where the engine keeps one.
    """

    entry: dict[str, Any]
    samples: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    descriptions: dict[tuple[str, str], str] = field(default_factory=dict)


def natural_name(name: str) -> str:
    """A readable form of an identifier, as Spider gives one: ``People_ID`` -> ``people id``."""
    return name.replace("_", " ").strip().lower()


def catalog_entry(
    db_id: str,
    tables: list[str],
    columns: list[list[Any]],
    types: list[str],
    primary: list[Any],
    foreign: list[list[int]],
) -> dict[str, Any]:
    """A catalog's findings as a Spider ``tables.json`` entry (``columns``: ``[table index, name]``, ``-1`` for
    ``*``), the readable names made from the stored ones."""
    return {
        "db_id": db_id,
        "table_names_original": tables,
        "table_names": [natural_name(t) for t in tables],
        "column_names_original": columns,
        "column_names": [[t, "*" if t < 0 else natural_name(n)] for t, n in columns],
        "column_types": types,
        "primary_keys": primary,
        "foreign_keys": foreign,
    }


def entry_columns(entry: dict[str, Any]) -> dict[str, list[str]]:
    """Each table's columns, from a tables.json entry."""
    tables: dict[str, list[str]] = {name: [] for name in entry["table_names_original"]}
    names = list(tables)
    for t_idx, column in entry["column_names_original"]:
        if t_idx >= 0:
            tables[names[t_idx]].append(column)
    return tables


def _iso_time(value: datetime.time) -> str:
    return value.isoformat()


def normalise_value(value: Any) -> Any:
    """One value as SQLite would return it, so results compare equal across engines."""
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return int(value)
    import decimal  # here: no SQLite value is one, and opening a SQLite database need not load it

    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return _iso_time(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bytes):
        return value
    return str(value)  # UUIDs, intervals (timedelta), arrays, JSON, enums: their text


def normalise_row(row: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(normalise_value(v) for v in row)
