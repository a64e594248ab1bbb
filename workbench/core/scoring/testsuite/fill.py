"""Random databases with the shape of a real one.

Each table gets between one and ``max_rows`` rows. A column's values are drawn from its real
pool (the original's distinct values, with the gold queries' literals added); primary keys and
unique columns never repeat (a fresh value is made when the pool runs out); a foreign key takes
the values of a row the parent table really has in this database, so joins still hit (a
nullable one is now and then NULL, so inner and LEFT joins can differ). The
file is written with the original's own CREATE statements, then its indexes and views.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from workbench.core.scoring.testsuite.shape import DatabaseShape, TableShape, quoted

Rows = list[dict[str, Any]]
_TRIES = 20  # per row, before a row whose keys keep colliding is given up
NO_PARENT = 0.1  # how often a nullable foreign key is left NULL (an inner join then drops the row, a LEFT one not)


def _fresh(table: TableShape, column: str, pool: list[Any], taken: set[Any], rng: random.Random) -> Any:
    """A value for a unique column that is not taken yet: from the pool when it has one, else made up."""
    free = [v for v in pool if v is not None and (v,) not in taken]
    if free:
        return rng.choice(free)
    numbers = [v for v in pool if isinstance(v, int | float)] or [0]
    ctype = table.types[table.columns.index(column)]
    if any(isinstance(v, int | float) for v in pool) or "INT" in ctype or "NUM" in ctype or "REAL" in ctype:
        value = int(max(numbers)) + 1
        while (value,) in taken:
            value += 1
        return value
    k = len(taken) + 1
    while (f"{column}_{k}",) in taken:
        k += 1
    return f"{column}_{k}"


def _value(shape: DatabaseShape, table: TableShape, column: str, rng: random.Random) -> Any:
    pool = shape.pools.get((table.name, column)) or []
    if pool:
        value = rng.choice(pool)
        if value is None and column in table.not_null:
            value = next((v for v in pool if v is not None), None)
        if value is not None or column not in table.not_null:
            return value
    ctype = table.types[table.columns.index(column)]
    return (
        rng.randint(0, 100) if "INT" in ctype or "NUM" in ctype or "REAL" in ctype else f"{column}_{rng.randint(0, 99)}"
    )


def _parent_columns(shape: DatabaseShape, fk_parent: str, named: tuple[str, ...]) -> tuple[str, ...] | None:
    parent = shape.table(fk_parent)
    if parent is None:
        return None
    if all(named):
        cols = tuple(next((c for c in parent.columns if c.lower() == n.lower()), "") for n in named)
        return cols if all(cols) else None
    return parent.unique[0] if parent.unique and len(parent.unique[0]) == len(named) else None


def random_rows(shape: DatabaseShape, rng: random.Random, max_rows: int) -> dict[str, Rows]:
    """Rows for every table of ``shape`` (parents first)."""
    out: dict[str, Rows] = {}
    for table in shape.tables:
        limit = max(1, min(max_rows, max(table.size, 3)))
        wanted = rng.randint(1, limit)
        taken: dict[tuple[str, ...], set[tuple[Any, ...]]] = {u: set() for u in table.unique}
        rows: Rows = []
        for _ in range(wanted * _TRIES):
            if len(rows) == wanted:
                break
            row = {c: _value(shape, table, c, rng) for c in table.columns}
            for fk in table.foreign:
                parent_cols = _parent_columns(shape, fk.parent, fk.parent_columns)
                parents = out.get(shape.table(fk.parent).name) if parent_cols and shape.table(fk.parent) else None
                if parents is None and fk.parent.lower() == table.name.lower():
                    parents = rows  # a key to its own table: a row made before, or none yet
                if parent_cols and parents:
                    chosen = rng.choice(parents)
                    for child, parent_col in zip(fk.columns, parent_cols, strict=True):
                        row[child] = chosen[parent_col]
                if _nullable(table, fk.columns) and rng.random() < NO_PARENT:
                    for child in fk.columns:
                        row[child] = None
            for unique in table.unique:
                if len(unique) == 1 and (row[unique[0]],) in taken[unique] and not _is_foreign(table, unique[0]):
                    pool = shape.pools.get((table.name, unique[0])) or []
                    row[unique[0]] = _fresh(table, unique[0], pool, taken[unique], rng)
            keys = {u: tuple(row[c] for c in u) for u in table.unique}
            if any(k in taken[u] for u, k in keys.items()):
                continue
            if table.integer_key and not isinstance(row[table.integer_key], int):
                continue
            for u, k in keys.items():
                taken[u].add(k)
            rows.append(row)
        out[table.name] = rows
    return out


def _nullable(table: TableShape, columns: tuple[str, ...]) -> bool:
    return not any(c in table.not_null or any(c in u for u in table.unique) for c in columns)


def _is_foreign(table: TableShape, column: str) -> bool:
    return any(column in fk.columns for fk in table.foreign)


def write_database(shape: DatabaseShape, rows: dict[str, Rows], path: Path) -> None:
    """A new SQLite file at ``path`` with the shape's CREATE statements and these rows."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        for table in shape.tables:
            conn.execute(table.ddl)
        for table in shape.tables:
            cols = ", ".join(quoted(c) for c in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            conn.executemany(
                f"INSERT OR IGNORE INTO {quoted(table.name)} ({cols}) VALUES ({marks})",  # a CHECK we do not model
                [tuple(r[c] for c in table.columns) for r in rows.get(table.name, [])],
            )
        for statement in shape.after:
            try:
                conn.execute(statement)
            except sqlite3.Error:  # an index the random rows cannot satisfy, or a view on something absent
                continue
        conn.commit()
    finally:
        conn.close()
