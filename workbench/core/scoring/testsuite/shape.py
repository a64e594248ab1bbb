"""What a database is made of, read from its file: tables in an order that puts parents before
children, their DDL, keys (primary, unique, foreign) and the real values of every column.

The file is opened read-only and immutable (``open_for_introspection``) and only our own fixed
statements run on it; each column's value pool is bounded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.sandbox.sqlexec import open_for_introspection

POOL_SIZE = 200  # distinct values kept per column


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass
class TableShape:
    name: str
    ddl: str
    columns: list[str]
    types: list[str]
    not_null: set[str]
    unique: list[tuple[str, ...]]  # the primary key and every UNIQUE constraint or unique index
    foreign: list[ForeignKey]
    size: int  # rows in the original
    integer_key: str | None = None  # an INTEGER PRIMARY KEY column (a rowid alias: integers only)


@dataclass
class DatabaseShape:
    tables: list[TableShape]  # parents before children where the keys allow it
    after: list[str]  # CREATE INDEX / VIEW statements, run once the rows are in
    pools: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (table, column) -> values

    def table(self, name: str) -> TableShape | None:
        return next((t for t in self.tables if t.name.lower() == name.lower()), None)

    def add_values(self, table: str, column: str, values: list[Any]) -> None:
        """Put ``values`` (literals of the gold queries) in a column's pool, so the boundaries they name occur."""
        shape = self.table(table)
        if shape is None:
            return
        name = next((c for c in shape.columns if c.lower() == column.lower()), None)
        if name is not None:
            pool = self.pools.setdefault((shape.name, name), [])
            pool.extend(v for v in values if v not in pool)


def _table(conn: sqlite3.Connection, name: str, ddl: str) -> TableShape:
    info = conn.execute(f'SELECT name, type, "notnull", pk FROM pragma_table_info({_lit(name)})').fetchall()
    columns = [str(r[0]) for r in info]
    keyed = [str(r[0]) for r in sorted((r for r in info if r[3]), key=lambda r: r[3])]
    unique = [tuple(keyed)] if keyed else []
    for _, index, is_unique, *_ in conn.execute(f"SELECT * FROM pragma_index_list({_lit(name)})").fetchall():
        if is_unique:
            cols = tuple(str(r[2]) for r in conn.execute(f"SELECT * FROM pragma_index_info({_lit(index)})"))
            if cols and None not in cols and cols not in unique:
                unique.append(cols)
    foreign: dict[int, list[tuple[str, str, str | None]]] = {}
    for fk_id, _seq, parent, child, parent_col, *_ in conn.execute(
        f"SELECT * FROM pragma_foreign_key_list({_lit(name)}) ORDER BY id, seq"
    ):
        foreign.setdefault(int(fk_id), []).append(
            (str(parent), str(child), None if parent_col is None else str(parent_col))
        )
    keys = [
        ForeignKey(tuple(c for _, c, _ in parts), parts[0][0], tuple(p or "" for _, _, p in parts))
        for parts in foreign.values()
    ]
    integer_key = (
        keyed[0] if len(keyed) == 1 and "INT" in str(next(r[1] for r in info if r[0] == keyed[0])).upper() else None
    )
    size = int(conn.execute(f"SELECT count(*) FROM {quoted(name)}").fetchone()[0])
    types = [str(r[1] or "").upper() for r in info]
    return TableShape(name, ddl, columns, types, {str(r[0]) for r in info if r[2]}, unique, keys, size, integer_key)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ordered(tables: list[TableShape]) -> list[TableShape]:
    """Parents first (a depth-first order over foreign keys; a cycle is broken where it closes)."""
    by_name = {t.name.lower(): t for t in tables}
    out: list[TableShape] = []
    state: dict[str, int] = {}

    def visit(t: TableShape) -> None:
        if state.get(t.name.lower()):
            return
        state[t.name.lower()] = 1
        for fk in t.foreign:
            parent = by_name.get(fk.parent.lower())
            if parent is not None and parent is not t:
                visit(parent)
        out.append(t)

    for t in tables:
        visit(t)
    return out


def read_shape(path: Path) -> DatabaseShape:
    """The shape of the database at ``path``; sqlite3.Error when it cannot be read."""
    conn = open_for_introspection(path)
    try:
        master = conn.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        ).fetchall()
        tables = [_table(conn, str(n), str(sql)) for kind, n, sql in master if kind == "table"]
        after = [str(sql) for kind, _, sql in master if kind in ("index", "view")]
        shape = DatabaseShape(_ordered(tables), after)
        for t in tables:
            for c in t.columns:
                rows = conn.execute(f"SELECT DISTINCT {quoted(c)} FROM {quoted(t.name)} LIMIT {POOL_SIZE}").fetchall()
                shape.pools[(t.name, c)] = [r[0] for r in rows]
        return shape
    finally:
        conn.close()
