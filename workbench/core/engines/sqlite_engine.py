"""The SQLite engine behind the seam's contract: the sandbox's connection, the file checks, the catalog.

Execution is ``sandbox/sqlexec.SandboxedDatabase`` (read-only and immutable, authorizer,
progress handler, size limits); this module names it by a :class:`DatabaseRef`, says why a
file cannot be used, reads the schema from ``sqlite_master`` and the table pragmas (our own
fixed statements only), and gives the file's content digest for the gold cache.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from workbench.core.engines.base import DatabaseRef, EngineError, Introspection, catalog_entry
from workbench.core.engines.files import file_identity
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import SandboxedDatabase, open_for_introspection, open_readonly
from workbench.core.sandbox.sqlexec import table_columns as file_table_columns

SQLITE_HEADER = b"SQLite format 3\x00"
SAMPLE_VALUES = 3  # distinct non-NULL values kept per column
UNTYPED = "ANY"  # what a column declared without a type is called (SQLite's STRICT tables say ANY)


class SqliteDatabase(SandboxedDatabase):
    """The sandboxed connection to one SQLite file, named by its :class:`DatabaseRef`."""

    def __init__(
        self,
        ref: DatabaseRef,
        timeout_s: float,
        max_rows: int,
        max_bytes: int,
        phase: int = watchdog.PREDICTION,
        reverse_unordered: bool = False,
    ) -> None:
        super().__init__(ref.path, timeout_s, max_rows, max_bytes, phase, reverse_unordered)
        self.ref = ref

    def __enter__(self) -> SqliteDatabase:
        return self


def open_database(
    ref: DatabaseRef, timeout_s: float, max_rows: int, max_bytes: int, phase: int, reverse_unordered: bool
) -> SqliteDatabase:
    try:
        return SqliteDatabase(ref, timeout_s, max_rows, max_bytes, phase, reverse_unordered)
    except sqlite3.Error as exc:
        raise EngineError(f"{ref.label()}: SQLite cannot open it: {exc}") from None


# --- is it a database -----------------------------------------------------------------
def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a file that starts with SQLite's 16-byte header."""
    try:
        with path.open("rb") as f:
            return f.read(16) == SQLITE_HEADER
    except OSError:
        return False


def file_problem(path: Path) -> str:
    """Why ``path`` cannot be a SQLite database ('' when its header says it is one); the file is not opened."""
    if not path.exists():
        return "missing"
    if not path.is_file():
        return "not a file"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if size == 0:
        return "empty file"
    if not is_sqlite_file(path):
        return "no SQLite header (expected a file starting 'SQLite format 3')"
    return ""


def problem(ref: DatabaseRef) -> str:
    """Why the file cannot be used ('missing', 'empty file', ...), or '' when SQLite opens it."""
    found = file_problem(ref.path)
    if found:
        return found
    try:
        open_readonly(ref.path).close()
    except sqlite3.Error as exc:
        return f"SQLite cannot open it: {exc}"
    return ""


# --- the catalog ------------------------------------------------------------------------
def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
    return catalog_entry(db_id, tables, columns, types, primary, foreign)


def _samples(conn: sqlite3.Connection, entry: dict[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    tables = entry["table_names_original"]
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for t_idx, column in entry["column_names_original"][1:]:
        table = tables[t_idx]
        sql = (
            f"SELECT DISTINCT {_quoted(column)} FROM {_quoted(table)} WHERE {_quoted(column)} IS NOT NULL "
            f"LIMIT {SAMPLE_VALUES}"
        )
        found[(table, column)] = tuple(v.hex() if isinstance(v, bytes) else str(v) for (v,) in conn.execute(sql))
    return found


def introspect(ref: DatabaseRef, db_id: str) -> Introspection:
    """Tables (not SQLite's own ``sqlite_*``), columns with declared types, keys and a few sample values."""
    try:
        conn = open_for_introspection(ref.path)
    except sqlite3.Error as exc:
        raise EngineError(f"{ref.label()}: SQLite cannot open it: {exc}") from None
    try:
        entry = _entry(conn, db_id)
        return Introspection(entry, _samples(conn, entry))
    except sqlite3.Error as exc:
        raise EngineError(f"{ref.label()}: cannot read its schema: {exc}") from None
    finally:
        conn.close()


def table_columns(ref: DatabaseRef) -> dict[str, list[str]]:
    """Tables and their columns as stored in the file (the pragmas only, no sample values)."""
    try:
        return file_table_columns(ref.path)
    except sqlite3.Error as exc:
        raise EngineError(f"{ref.label()}: {exc}") from None


# --- for caches -------------------------------------------------------------------------
identity = file_identity  # the file's content digest (engines/files.py)


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    """A SQLite copy is the file itself."""
    import shutil  # here: it loads the compression modules, which opening a database does not need

    try:
        ref.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, ref.path)
    except OSError as exc:
        raise EngineError(f"{ref.label()}: cannot copy {source} there: {exc.strerror or exc}") from None
