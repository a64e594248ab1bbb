"""Copy a SQLite file into one PostgreSQL schema: tables, mapped types, keys and rows.

The schema ``ref.namespace`` is dropped and made again, in one transaction. Names are written in
lower case (what PostgreSQL folds unquoted names to, so the dataset's unquoted SQL finds them).
Each column's type follows its SQLite declaration where every stored value fits it (integers as
``bigint``, reals as ``double precision``, decimals as ``numeric``, ISO dates and timestamps as
``date``/``timestamp``, blobs as ``bytea``) and is ``text`` otherwise, so no row is lost to
SQLite's loose typing. Rows go in through ``COPY``; primary keys, then foreign keys, are added
where the rows satisfy them. ``reader_role`` in ``ref.options`` is granted USAGE and SELECT.

This writes, so it needs a privileged role and ``ref.allow_privileged_role``.
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.engines.postgres_connect import connect, first_line, resolve_password, safe_url, scrub


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared type, with dates and booleans told apart."""
    t = declared.upper()
    if "INT" in t:
        return "integer"
    if any(word in t for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in t:
        return "blob"
    if any(word in t for word in ("REAL", "FLOA", "DOUB")):
        return "real"
    if "TIMESTAMP" in t or "DATETIME" in t:
        return "timestamp"
    if "DATE" in t:
        return "date"
    return "numeric" if t else "none"


def _is_date(value: object) -> bool:
    try:
        return isinstance(value, str) and datetime.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _is_timestamp(value: object) -> bool:
    try:
        return isinstance(value, str) and datetime.datetime.fromisoformat(value).isoformat(sep=" ") == value
    except ValueError:
        return False


def column_type(declared: str, values: Sequence[object]) -> str:
    """The PostgreSQL type for a SQLite column declared ``declared`` holding ``values`` (NULLs ignored)."""
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    numbers = kinds <= {int, float}
    affinity = _affinity(declared)
    if affinity == "integer" and kinds <= {int}:
        return "bigint"
    if affinity in ("integer", "real") and numbers:
        return "double precision"
    if affinity == "numeric" and numbers:
        return "numeric"
    if affinity == "date" and present and all(map(_is_date, present)):
        return "date"
    if affinity == "timestamp" and present and all(map(_is_timestamp, present)):
        return "timestamp"
    if affinity == "blob" and kinds <= {bytes}:
        return "bytea"
    if affinity == "none" and present and numbers:
        return "bigint" if kinds == {int} else "double precision"
    return "text"


def _value(value: object, pg_type: str) -> object:
    if value is None or pg_type != "text":
        return value
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return str(value).replace("\x00", "")  # PostgreSQL's text holds no NUL


def _read(
    source: Path,
) -> list[tuple[str, list[tuple[str, str, int]], list[tuple[Any, ...]], list[tuple[str, str, str]]]]:
    """Each table: its name, (column, declared type, pk position), rows, foreign keys (column, parent, its column)."""
    from workbench.core.sandbox.sqlexec import open_for_introspection

    conn = open_for_introspection(source)
    try:
        listed = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY rowid"
        )
        names = [str(r[0]) for r in conn.execute(listed)]
        tables = []
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            info = [(str(r[1]), str(r[2] or ""), int(r[5])) for r in conn.execute(f"PRAGMA table_info({quoted})")]
            rows = conn.execute(f"SELECT * FROM {quoted}").fetchall()
            keys = [
                (str(r[3]), str(r[2]), str(r[4]) if r[4] else "")
                for r in conn.execute(f"PRAGMA foreign_key_list({quoted})")
            ]
            tables.append((name, info, rows, keys))
        return tables
    finally:
        conn.close()


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    """Replace schema ``ref.namespace`` with a copy of the SQLite file ``source``; EngineError saying why not."""
    import psycopg
    from psycopg import sql

    where = safe_url(ref.label())
    if not ref.allow_privileged_role:
        raise EngineError(
            f"{where}: copying into PostgreSQL writes (it creates schema {ref.namespace or '?'} and its tables), so it "
            "needs a role that may create them and allow_privileged_role (--allow-privileged-role)"
        )
    if not ref.namespace:
        raise EngineError(f"{where}: copying needs the schema to copy into (the database's namespace)")
    try:
        tables = _read(source)
    except sqlite3.Error as exc:
        raise EngineError(f"{source}: SQLite cannot read it: {exc}") from None
    password = resolve_password(ref)
    reader = dict(ref.options).get("reader_role", "")
    schema = sql.Identifier(ref.namespace)
    conn = connect(ref, password)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
            for name, info, rows, _ in tables:
                _create_and_fill(conn, schema, name, info, rows)
            for name, info, _, _ in tables:
                pk = [col for col, _, pos in sorted(info, key=lambda c: c[2]) if pos]
                if pk:
                    keys = sql.SQL(", ").join(sql.Identifier(col.lower()) for col in pk)
                    add = sql.SQL("ALTER TABLE {}.{} ADD PRIMARY KEY ({})")
                    _try(conn, add.format(schema, sql.Identifier(name.lower()), keys))
            for name, _, _, keys in tables:
                _add_foreign_keys(conn, schema, name, keys, tables)
            if reader:
                conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(reader)))
                conn.execute(
                    sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, sql.Identifier(reader))
                )
    except psycopg.Error as exc:
        raise EngineError(scrub(f"{where}: cannot copy {source} into it: {first_line(exc)}", password)) from None
    finally:
        conn.close()


def _create_and_fill(
    conn: Any, schema: Any, name: str, info: list[tuple[str, str, int]], rows: list[tuple[Any, ...]]
) -> None:
    from psycopg import sql

    types = [column_type(declared, [row[i] for row in rows]) for i, (_, declared, _) in enumerate(info)]
    table = sql.Identifier(name.lower())
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(col.lower()), sql.SQL(t))
        for (col, _, _), t in zip(info, types, strict=True)
    )
    conn.execute(sql.SQL("CREATE TABLE {}.{} ({})").format(schema, table, columns))
    names = sql.SQL(", ").join(sql.Identifier(col.lower()) for col, _, _ in info)
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {}.{} ({}) FROM STDIN").format(schema, table, names)) as copy:
        for row in rows:
            copy.write_row([_value(v, t) for v, t in zip(row, types, strict=True)])


def _try(conn: Any, statement: Any) -> bool:
    """Run ``statement`` in a savepoint: False (and nothing changed) when the rows do not satisfy it."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute(statement)
        return True
    except psycopg.errors.DatabaseError as exc:
        if isinstance(exc, psycopg.errors.OperationalError):
            raise
        return False


def _add_foreign_keys(conn: Any, schema: Any, name: str, keys: list[tuple[str, str, str]], tables: list[Any]) -> None:
    from psycopg import sql

    pk_of = {t[0].lower(): [c.lower() for c, _, pos in sorted(t[1], key=lambda c: c[2]) if pos] for t in tables}
    for column, parent, parent_column in keys:
        target = parent_column.lower() or (pk_of.get(parent.lower()) or [""])[0]
        if not target or parent.lower() not in pk_of:
            continue
        _try(conn, sql.SQL("ALTER TABLE {s}.{t} ADD FOREIGN KEY ({c}) REFERENCES {s}.{p} ({pc})").format(
            s=schema, t=sql.Identifier(name.lower()), c=sql.Identifier(column.lower()),
            p=sql.Identifier(parent.lower()), pc=sql.Identifier(target),
        ))  # fmt: skip
