"""A DuckDB file's schema from its catalog, in the shape of a Spider ``tables.json`` entry.

Tables of the file's ``main`` schema by name (DuckDB keeps no order of creation), their columns with
DuckDB's type names, primary keys (composite ones too), foreign keys (a composite one
becomes one pair per column, as ``tables.json`` writes it), comments on columns as
descriptions, and a few distinct values per column. Only our own fixed statements run.
"""

from __future__ import annotations

from typing import Any

import duckdb

from workbench.core.engines.base import Introspection, catalog_entry

SAMPLE_VALUES = 3
MAX_SAMPLE_CHARS = 40

_TABLES = (
    "SELECT table_name, table_oid FROM duckdb_tables() "
    "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal AND NOT temporary "
    "ORDER BY table_name"
)
_COLUMNS = "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_oid = $1 ORDER BY column_index"
_CONSTRAINTS = (
    "SELECT table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names "
    "FROM duckdb_constraints() WHERE database_name = current_database() AND schema_name = 'main' "
    "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') ORDER BY constraint_index"
)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _samples(conn: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[str, ...]:
    sql = (
        f"SELECT DISTINCT {quoted(column)}::VARCHAR FROM {quoted(table)} "
        f"WHERE {quoted(column)} IS NOT NULL LIMIT {SAMPLE_VALUES}"
    )
    out = []
    for (value,) in conn.execute(sql).fetchall():
        text = str(value)
        out.append(text if len(text) <= MAX_SAMPLE_CHARS else text[: MAX_SAMPLE_CHARS - 1] + "…")
    return tuple(out)


def read_catalog(conn: duckdb.DuckDBPyConnection, db_id: str, samples_too: bool = True) -> Introspection:
    """The schema of the database ``conn`` has open, named ``db_id`` (``samples_too``: a few values per column)."""
    tables = [(str(name), int(oid)) for name, oid in conn.execute(_TABLES).fetchall()]
    columns: list[list[Any]] = [[-1, "*"]]
    types = ["text"]
    where: dict[tuple[str, str], int] = {}
    samples: dict[tuple[str, str], tuple[str, ...]] = {}
    descriptions: dict[tuple[str, str], str] = {}
    for t_idx, (table, oid) in enumerate(tables):
        for name, data_type, comment in conn.execute(_COLUMNS, [oid]).fetchall():
            where[(table.lower(), str(name).lower())] = len(columns)
            columns.append([t_idx, str(name)])
            types.append(str(data_type))
            if samples_too:
                samples[(table, str(name))] = _samples(conn, table, str(name))
            if comment:
                descriptions[(table, str(name))] = str(comment)
    primary: list[int | list[int]] = []
    foreign: list[list[int]] = []
    for table, kind, names, parent, parent_names in conn.execute(_CONSTRAINTS).fetchall():
        members = [where.get((str(table).lower(), str(n).lower())) for n in names]
        if None in members:
            continue
        if kind == "PRIMARY KEY":
            primary.append(members[0] if len(members) == 1 else members)  # type: ignore[arg-type]
            continue
        for child, parent_column in zip(members, parent_names or [], strict=False):
            target = where.get((str(parent).lower(), str(parent_column).lower()))
            if target is not None:
                foreign.append([child, target])  # type: ignore[list-item]
    entry = catalog_entry(db_id, [t for t, _ in tables], columns, types, primary, foreign)
    return Introspection(entry, samples, descriptions)
