"""A SQLite file copied into a new ``.duckdb`` file: tables, sensible types, primary keys, NOT NULL, rows.

The SQLite file is read through the sandbox's read-only, immutable connection with our own
fixed statements only; the DuckDB file is written in a temporary file beside the target and
renamed over it at the end, so a failed copy leaves nothing half-made.

Types follow what the column holds, not only what it declares (SQLite lets an INTEGER column
hold text): integers only -> BIGINT; integers and reals -> DOUBLE; blobs only -> BLOB; text
that is all valid ISO dates in a column declared DATE -> DATE, and ``YYYY-MM-DD HH:MM:SS`` in
one declared DATETIME or TIMESTAMP -> TIMESTAMP; anything else (and any mix with text) ->
VARCHAR. A column with no values takes its declared affinity. A primary key is kept when the
rows satisfy it (unique, no NULL); foreign keys are not copied (SQLite does not enforce them,
so many datasets break them), the dataset's ``tables.json`` keeps them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from workbench.core.engines.base import EngineError
from workbench.core.sandbox.sqlexec import open_for_introspection

BATCH_ROWS = 20_000


@dataclass(frozen=True)
class _Column:
    name: str
    type: str  # the DuckDB type
    not_null: bool


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared type, as DuckDB's type for a column holding nothing."""
    upper = declared.upper()
    if "INT" in upper:
        return "BIGINT"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "VARCHAR"
    if "BLOB" in upper or not upper:
        return "BLOB" if "BLOB" in upper else "VARCHAR"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "DOUBLE"
    if upper.startswith("DATE") and "TIME" not in upper:
        return "DATE"
    if "TIME" in upper:
        return "TIMESTAMP"
    return "DOUBLE"  # NUMERIC, DECIMAL, BOOLEAN


def _column_type(conn: sqlite3.Connection, table: str, column: str, declared: str) -> str:
    held = {str(kind) for (kind,) in conn.execute(f"SELECT DISTINCT typeof({_q(column)}) FROM {_q(table)}")}
    held.discard("null")
    if not held:
        return _affinity(declared)
    if held == {"integer"}:
        return "BIGINT"
    if held <= {"integer", "real"}:
        return "DOUBLE"
    if held == {"blob"}:
        return "BLOB"
    if held == {"text"}:
        upper = declared.upper()
        check = None
        if upper.startswith("DATE") and "TIME" not in upper:
            check, target = "date", "DATE"
        elif "DATETIME" in upper or "TIMESTAMP" in upper:
            check, target = "datetime", "TIMESTAMP"
        if check is not None:
            col = _q(column)
            bad = conn.execute(
                f"SELECT count(*) FROM {_q(table)} WHERE {col} IS NOT NULL AND {check}({col}) IS NOT {col}"
            ).fetchone()
            if bad is not None and bad[0] == 0:
                return target
    return "VARCHAR"


def _primary_key_holds(conn: sqlite3.Connection, table: str, keys: list[str]) -> bool:
    cols = ", ".join(_q(k) for k in keys)
    nulls = " OR ".join(f"{_q(k)} IS NULL" for k in keys)
    if conn.execute(f"SELECT 1 FROM {_q(table)} WHERE {nulls} LIMIT 1").fetchone():
        return False
    dup = f"SELECT 1 FROM {_q(table)} GROUP BY {cols} HAVING count(*) > 1 LIMIT 1"
    return conn.execute(dup).fetchone() is None


def _tables(conn: sqlite3.Connection) -> list[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
    )
    return [str(r[0]) for r in conn.execute(query)]


def _create_sql(conn: sqlite3.Connection, table: str) -> tuple[str, list[_Column]]:
    info = conn.execute(f'SELECT name, type, "notnull", pk FROM pragma_table_info({_literal(table)})').fetchall()
    columns = [
        _Column(str(name), _column_type(conn, table, str(name), str(t or "")), bool(nn)) for name, t, nn, _ in info
    ]
    keys = [str(name) for _, name in sorted((int(pk), name) for name, _, _, pk in info if pk)]
    lines = [f"  {_q(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in columns]
    if keys and _primary_key_holds(conn, table, keys):
        lines.append(f"  PRIMARY KEY ({', '.join(_q(k) for k in keys)})")
    return f"CREATE TABLE {_q(table)} (\n" + ",\n".join(lines) + "\n)", columns


def _value(value: Any, target: str) -> Any:
    if value is None:
        return None
    if target == "VARCHAR":
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    if target == "DOUBLE":
        return float(value)
    return value


def _batches(conn: sqlite3.Connection, table: str, columns: list[_Column]) -> Iterator[list[list[Any]]]:
    names = ", ".join(_q(c.name) for c in columns)
    cursor = conn.execute(f"SELECT {names} FROM {_q(table)}")
    while rows := cursor.fetchmany(BATCH_ROWS):
        yield [[_value(v, c.type) for v in values] for values, c in zip(zip(*rows, strict=True), columns, strict=True)]


def _insert_sql(table: str, columns: list[_Column]) -> str:
    """One INSERT of a whole batch: each column passed as one list, unnested side by side."""
    parts = []
    for k, c in enumerate(columns, start=1):
        carried = "VARCHAR" if c.type in ("DATE", "TIMESTAMP") else c.type
        parts.append(f"unnest(${k}::{carried}[])::{c.type}")
    return f"INSERT INTO {_q(table)} SELECT {', '.join(parts)}"


def copy_sqlite_file(source: Path, target: Path) -> None:
    """Write ``target`` (a new ``.duckdb`` file, replacing one there) holding every table of ``source``."""
    try:
        reader = open_for_introspection(source)
    except sqlite3.Error as exc:
        raise EngineError(f"{source}: SQLite cannot open it: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        writer = duckdb.connect(str(partial), config={"threads": 2, "enable_external_access": False})
        try:
            for table in _tables(reader):
                create, columns = _create_sql(reader, table)
                writer.execute(create)
                if not columns:
                    continue
                insert = _insert_sql(table, columns)
                for batch in _batches(reader, table, columns):
                    writer.execute(insert, batch)
            writer.execute("CHECKPOINT")
        finally:
            writer.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise EngineError(f"{source}: cannot read it: {exc}") from None
    except duckdb.Error as exc:
        raise EngineError(f"{target}: cannot write it: {str(exc).splitlines()[0]}") from None
    finally:
        reader.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
