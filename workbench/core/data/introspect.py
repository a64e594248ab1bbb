"""A database's schema read from the SQLite file itself, for datasets without ``tables.json``.

Tables (not SQLite's own ``sqlite_*``), their columns with declared types, primary keys
(composite ones too), foreign keys (a composite one becomes one pair per column, as
``tables.json`` writes it; a key that names no parent column points at the parent's
primary key) and a few distinct sample values per column. The result is the same
:class:`Schema` a ``tables.json`` entry gives, ``raw`` included, so scoring and templates
cannot tell the two apart. The file is opened read-only and immutable through the sandbox.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

from workbench.core.data.inputs import InputError
from workbench.core.data.schema import Schema, SchemaError, Table, schema_from_entry
from workbench.core.sandbox.sqlexec import open_for_introspection

SAMPLE_VALUES = 3  # distinct non-NULL values kept per column
MAX_SAMPLE_CHARS = 40  # a longer value is cut, so a blob of text does not fill a prompt
UNTYPED = "ANY"  # what a column declared without a type is called (SQLite's STRICT tables say ANY)


def natural_name(name: str) -> str:
    """A readable form of an identifier, as Spider gives one: ``People_ID`` -> ``people id``."""
    return name.replace("_", " ").strip().lower()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _entry(conn: sqlite3.Connection, db_id: str) -> dict[str, Any]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY rowid"
        )
    ]
    columns: list[list[Any]] = [[-1, "*"]]
    types = ["text"]
    primary: list[int | list[int]] = []
    where: dict[tuple[str, str], int] = {}  # (table lower, column lower) -> column index
    pk_of: dict[str, list[str]] = {}
    for t_idx, table in enumerate(tables):
        info = conn.execute(f"SELECT name, type, pk FROM pragma_table_info({_sql_string(table)})").fetchall()
        keyed = sorted((int(pk), str(name)) for name, _, pk in info if pk)
        pk_of[table.lower()] = [name for _, name in keyed]
        for name, ctype, _ in info:
            where[(table.lower(), str(name).lower())] = len(columns)
            columns.append([t_idx, str(name)])
            types.append(str(ctype) or UNTYPED)
        members = [where[(table.lower(), name.lower())] for name in pk_of[table.lower()]]
        if members:
            primary.append(members[0] if len(members) == 1 else members)
    foreign: list[list[int]] = []
    for table in tables:
        rows = conn.execute(
            f'SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list({_sql_string(table)}) ORDER BY id, seq'
        ).fetchall()
        for _, seq, parent, child_col, parent_col in rows:
            if parent_col is None:  # REFERENCES parent: the parent's primary key, in order
                keys = pk_of.get(str(parent).lower(), [])
                parent_col = keys[seq] if seq < len(keys) else None
            a = where.get((table.lower(), str(child_col).lower()))
            b = where.get((str(parent).lower(), str(parent_col).lower())) if parent_col is not None else None
            if a is not None and b is not None:  # a key to a table that is not there is not a schema fact
                foreign.append([a, b])
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


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _samples(conn: sqlite3.Connection, table: str, column: str, n: int) -> tuple[str, ...]:
    sql = f"SELECT DISTINCT {_quoted(column)} FROM {_quoted(table)} WHERE {_quoted(column)} IS NOT NULL LIMIT {int(n)}"
    values = []
    for (value,) in conn.execute(sql):
        text = value.hex() if isinstance(value, bytes) else str(value)
        values.append(text if len(text) <= MAX_SAMPLE_CHARS else text[: MAX_SAMPLE_CHARS - 1] + "…")
    return tuple(values)


def introspect(path: Path, db_id: str, samples: int = SAMPLE_VALUES, error: type[InputError] = InputError) -> Schema:
    """The schema of the SQLite file at ``path``; ``error`` (one line naming the file) when it cannot be read."""
    try:
        conn = open_for_introspection(path)
    except sqlite3.Error as exc:
        raise error(f"{path}: SQLite cannot open it: {exc}") from None
    try:
        schema = schema_from_entry(_entry(conn, db_id), f"{path}")
        tables = tuple(
            Table(
                t.name,
                t.natural_name,
                tuple(
                    dataclasses.replace(c, samples=_samples(conn, t.name, c.name, samples) if samples > 0 else ())
                    for c in t.columns
                ),
            )
            for t in schema.tables
        )
    except sqlite3.Error as exc:
        raise error(f"{path}: cannot read its schema: {exc}") from None
    except SchemaError as exc:
        raise error(str(exc)) from None
    finally:
        conn.close()
    return Schema(schema.db_id, tables, schema.foreign_keys, schema.raw)
