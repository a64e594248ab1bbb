"""Run untrusted SQL against a dataset's SQLite file without any way to change it.

Defence in depth, each layer enough on its own for the common attacks:
  * the file is opened through a URI with ``mode=ro&immutable=1``: SQLite takes no lock
    and creates no journal, WAL or shared-memory file beside it;
  * ``PRAGMA query_only`` and ``SQLITE_LIMIT_ATTACHED = 0``;
  * only statements that start with SELECT, WITH or VALUES are prepared at all;
  * an authorizer that admits only reading (SELECT, READ, functions other than
    ``load_extension``, recursive CTEs) and denies everything else: writes, DDL,
    ATTACH/DETACH, PRAGMA, transactions;
  * a progress handler that interrupts a statement past its time limit, a length limit
    on any string or blob (``randomblob`` bombs), and a row limit on the result.
Every failure comes back as a :class:`QueryError` with a ``kind``; nothing raises.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

ErrorKind = Literal["denied", "timeout", "too_many_rows", "syntax", "runtime", "open"]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_ROWS = 100_000
MAX_VALUE_BYTES = 10_000_000
_PROGRESS_STEPS = 2_000

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_RECURSIVE = getattr(sqlite3, "SQLITE_RECURSIVE", 33)
_ALLOWED_ACTIONS.add(_RECURSIVE)
# a query must start (after comments and brackets) with SELECT, WITH or VALUES
_READ_START = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*(select|with|values)\b", re.IGNORECASE | re.DOTALL)
# printf/format are denied too: a huge width ("%.*c") spins for seconds inside one call,
# where neither the progress handler nor the length limit can stop it
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "printf", "format"}


@dataclass(frozen=True)
class QueryResult:
    rows: list[tuple[Any, ...]]
    columns: list[str]
    elapsed_s: float


@dataclass(frozen=True)
class QueryError:
    kind: ErrorKind
    message: str
    elapsed_s: float = 0.0

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


Outcome = QueryResult | QueryError


def _authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
    if action not in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _decode_lossy(raw: bytes) -> str:
    return raw.decode(errors="ignore")


def _connect_immutable(path: str | Path) -> sqlite3.Connection:
    p = Path(path)
    if not p.is_file():
        raise sqlite3.OperationalError(f"no such database file: {p}")
    uri = f"file:{quote(str(p.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)


def table_columns(path: str | Path) -> dict[str, list[str]]:
    """Tables and their columns as stored in the file (our own fixed statements only)."""
    conn = _connect_immutable(path)
    try:
        conn.execute("PRAGMA query_only = ON")
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (name,))] for name in names}
    finally:
        conn.close()


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open ``path`` read-only, immutable and sandboxed; raises sqlite3.Error if unusable."""
    conn = _connect_immutable(path)
    conn.text_factory = _decode_lossy
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 1_000_000)
    conn.execute("PRAGMA query_only = ON")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails fast if not a database
    conn.set_authorizer(_authorize)
    return conn


def _classify(exc: sqlite3.Error, timed_out: bool) -> ErrorKind:
    text = str(exc).lower()
    if timed_out and "interrupt" in text:
        return "timeout"
    if "not authorized" in text or "prohibited" in text or "readonly" in text or "read-only" in text:
        return "denied"
    if "one statement at a time" in text:
        return "denied"
    if "syntax error" in text or "incomplete input" in text or isinstance(exc, sqlite3.ProgrammingError):
        return "syntax"
    return "runtime"


class SandboxedDatabase:
    """One read-only connection to one database file, reused for many queries."""

    def __init__(
        self, path: str | Path, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self._conn = open_readonly(self.path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SandboxedDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str) -> Outcome:
        if not _READ_START.match(sql):
            return QueryError("denied", "only SELECT, WITH or VALUES queries may run")
        start = time.perf_counter()
        deadline = start + self.timeout_s
        timed_out = False

        def check_time() -> int:
            nonlocal timed_out
            timed_out = time.perf_counter() > deadline
            return int(timed_out)

        self._conn.set_progress_handler(check_time, _PROGRESS_STEPS)
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql)
            rows = self._fetch(cursor)
            if rows is None:
                return QueryError("too_many_rows", f"more than {self.max_rows} rows", time.perf_counter() - start)
            columns = [d[0] for d in cursor.description or ()]
            return QueryResult(rows, columns, time.perf_counter() - start)
        except sqlite3.Error as exc:
            kind = _classify(exc, timed_out)
            message = f"exceeded {self.timeout_s:g} s" if kind == "timeout" else str(exc)
            return QueryError(kind, message, time.perf_counter() - start)
        except (OverflowError, MemoryError, ValueError) as exc:
            return QueryError("runtime", str(exc) or type(exc).__name__, time.perf_counter() - start)
        finally:
            cursor.close()
            self._conn.set_progress_handler(None, 0)
            if self._conn.in_transaction:  # never expected: the authorizer denies writes
                self._conn.rollback()

    def _fetch(self, cursor: sqlite3.Cursor) -> list[tuple[Any, ...]] | None:
        rows: list[tuple[Any, ...]] = []
        while True:
            batch = cursor.fetchmany(1_000)
            if not batch:
                return rows
            rows.extend(batch)
            if len(rows) > self.max_rows:
                return None


def execute(
    path: str | Path, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS
) -> Outcome:
    """Run one query against ``path`` in a fresh sandboxed connection."""
    try:
        db = SandboxedDatabase(path, timeout_s, max_rows)
    except sqlite3.Error as exc:
        return QueryError("open", f"{path}: {exc}")
    with db:
        return db.execute(sql)


def execute_many(path: str | Path, statements: Sequence[str], **limits: Any) -> list[Outcome]:
    """Run several queries on one connection (cheaper than one connection each)."""
    try:
        db = SandboxedDatabase(path, **limits)
    except sqlite3.Error as exc:
        return [QueryError("open", f"{path}: {exc}") for _ in statements]
    with db:
        return [db.execute(sql) for sql in statements]
