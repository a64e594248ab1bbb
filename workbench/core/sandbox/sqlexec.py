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
    on any string or blob (``randomblob`` bombs), and limits on the result's rows and bytes;
  * in a worker of a ``BoundedPool``, a supervisor outside the process that kills it when a
    statement passes its deadline inside one long C call (``watchdog.bounded``), and a
    memory ceiling on the whole worker.
Every failure comes back as a :class:`QueryError` with a ``kind``; nothing raises. The
check that a statement starts with SELECT/WITH/VALUES is linear in its length.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from workbench.core import startup
from workbench.core.sandbox import watchdog

ErrorKind = Literal["denied", "timeout", "too_many_rows", "too_large", "memory", "syntax", "runtime", "open"]
# how each kind reads in a verdict's reason: the bound that was hit, in words
LABELS = {"timeout": "timeout", "too_many_rows": "too many rows", "too_large": "result too large",
          "memory": "memory limit"}  # fmt: skip

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_BYTES = 256_000_000
MAX_VALUE_BYTES = 10_000_000
EXECUTION_LOG = "WORKBENCH_EXECUTION_LOG"  # names a file: every statement executed is logged to it
_PROGRESS_STEPS = 2_000

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_RECURSIVE = getattr(sqlite3, "SQLITE_RECURSIVE", 33)
_ALLOWED_ACTIONS.add(_RECURSIVE)
# a query must start (after whitespace, comments and brackets) with SELECT, WITH or VALUES
_SPACE_OR_BRACKET = re.compile(r"[\s(]*")
_READ_KEYWORD = re.compile(r"(?:select|with|values)\b", re.IGNORECASE)
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
        return f"{LABELS.get(self.kind, self.kind)}: {self.message}"


Outcome = QueryResult | QueryError


def starts_with_read(sql: str) -> bool:
    """Does ``sql`` start, after whitespace, comments and opening brackets, with SELECT, WITH or VALUES?

    A scan, not a backtracking pattern: linear in the text's length whatever it holds.
    """
    at, end = 0, len(sql)
    while at < end:
        at = _SPACE_OR_BRACKET.match(sql, at).end()  # type: ignore[union-attr]
        if sql.startswith("--", at):
            newline = sql.find("\n", at + 2)
            if newline < 0:
                return False
            at = newline + 1
        elif sql.startswith("/*", at):
            close = sql.find("*/", at + 2)
            if close < 0:
                return False
            at = close + 2
        else:
            break
    return _READ_KEYWORD.match(sql, at) is not None


def value_size(value: object) -> int:
    """About what a fetched value costs in memory (bytes), for the cap on a result's size."""
    return 49 + len(value) if isinstance(value, str | bytes | bytearray | memoryview) else 28


def fetch_capped(
    fetchmany: Callable[[int], Sequence[Any]],
    max_rows: int,
    max_bytes: int,
    convert: Callable[[Any], tuple[Any, ...]] = tuple,
    first: int = 256,
) -> list[tuple[Any, ...]] | QueryError:
    """A cursor's rows (``fetchmany(n)``), each ``convert``-ed, or the cap they pass: never more than
    ``max_rows + 1`` rows fetched, and batches shrink as the rows so far say the byte cap nears, so a
    whole batch cannot overrun it (any engine: SQLite, DuckDB, a PostgreSQL server-side cursor)."""
    rows: list[tuple[Any, ...]] = []
    size = 0
    batch_size = first
    while True:
        batch = [convert(row) for row in fetchmany(min(batch_size, max_rows + 1 - len(rows)))]
        if not batch:
            return rows
        rows.extend(batch)
        if len(rows) > max_rows:
            return QueryError("too_many_rows", f"more than {max_rows} rows")
        size += 64 * len(batch) + sum(map(value_size, itertools.chain.from_iterable(batch)))
        if size > max_bytes:
            return QueryError("too_large", f"more than {max_bytes / 1e6:g} MB")
        batch_size = max(1, min(256, 2 * batch_size, (max_bytes - size) * len(rows) // (size * 4)))


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
    startup.mark("first database opened")
    return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)


def _probe(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Fail fast if the file is not a usable database: sqlite3.Error, never another exception."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except UnicodeDecodeError:  # SQLite's own message quotes schema text that is not UTF-8
        conn.close()
        raise sqlite3.DatabaseError("database disk image is malformed (schema text is not UTF-8)") from None
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def open_for_introspection(path: str | Path) -> sqlite3.Connection:
    """Open ``path`` read-only and immutable for our own fixed statements (schema pragmas, sample values)."""
    conn = _connect_immutable(path)
    conn.text_factory = _decode_lossy
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.execute("PRAGMA query_only = ON")
    return _probe(conn)


def table_columns(path: str | Path) -> dict[str, list[str]]:
    """Tables and their columns as stored in the file (our own fixed statements only)."""
    conn = _connect_immutable(path)
    conn.text_factory = _decode_lossy
    try:
        conn.execute("PRAGMA query_only = ON")
        _probe(conn)
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (name,))] for name in names}
    except UnicodeDecodeError:
        raise sqlite3.DatabaseError("database disk image is malformed (schema text is not UTF-8)") from None
    finally:
        conn.close()


def open_readonly(path: str | Path, reverse_unordered: bool = False) -> sqlite3.Connection:
    """Open ``path`` read-only, immutable and sandboxed; raises sqlite3.Error if unusable.

    ``reverse_unordered`` makes SQLite scan in reverse wherever the order is unspecified, so a
    query whose rows depend on that order (``LIMIT`` without ``ORDER BY``) shows it."""
    conn = _connect_immutable(path)
    if reverse_unordered:
        conn.execute("PRAGMA reverse_unordered_selects = ON")
    conn.text_factory = _decode_lossy
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, 1_000_000)
    conn.execute("PRAGMA query_only = ON")
    _probe(conn)
    conn.set_authorizer(_authorize)
    return conn


def log_execution(phase: int, where: object) -> None:
    """With ``WORKBENCH_EXECUTION_LOG=FILE``: one line per statement run (``PHASE<TAB>database``), appended from
    any process, for checks that count what a command executed (any engine; ``where`` never holds a password)."""
    if EXECUTION_LOG in os.environ:
        with open(os.environ[EXECUTION_LOG], "a", encoding="utf-8") as out:
            out.write(f"{watchdog.PHASES[phase]}\t{where}\n")


def _classify(exc: sqlite3.Error, timed_out: bool) -> ErrorKind:
    text = str(exc).lower()
    if timed_out and "interrupt" in text:
        return "timeout"
    if "not authorized" in text or "prohibited" in text or "readonly" in text or "read-only" in text:
        return "denied"
    if "one statement at a time" in text:
        return "denied"
    if "out of memory" in text:
        return "memory"
    if "syntax error" in text or "incomplete input" in text or isinstance(exc, sqlite3.ProgrammingError):
        return "syntax"
    return "runtime"


class SandboxedDatabase:
    """One read-only connection to one database file, reused for many queries."""

    def __init__(
        self,
        path: str | Path,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        phase: int = watchdog.PREDICTION,
        reverse_unordered: bool = False,
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.phase = phase  # what the supervisor says it stopped, if it has to (gold or prediction)
        self._conn = open_readonly(self.path, reverse_unordered)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SandboxedDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, phase: int | None = None) -> Outcome:
        if not starts_with_read(sql):
            return QueryError("denied", "only SELECT, WITH or VALUES queries may run")
        phase = self.phase if phase is None else phase
        log_execution(phase, self.path)
        with watchdog.bounded(self.timeout_s, phase):
            return self._execute(sql)

    def _execute(self, sql: str) -> Outcome:
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
            rows = fetch_capped(cursor.fetchmany, self.max_rows, self.max_bytes)
            if isinstance(rows, QueryError):
                return QueryError(rows.kind, rows.message, time.perf_counter() - start)
            columns = [d[0] for d in cursor.description or ()]
            return QueryResult(rows, columns, time.perf_counter() - start)
        except sqlite3.Error as exc:
            kind = _classify(exc, timed_out)
            message = f"exceeded {self.timeout_s:g} s" if kind == "timeout" else str(exc)
            return QueryError(kind, message, time.perf_counter() - start)
        except MemoryError:
            return QueryError("memory", "the query needed more memory than allowed", time.perf_counter() - start)
        except (OverflowError, ValueError) as exc:
            return QueryError("runtime", str(exc) or type(exc).__name__, time.perf_counter() - start)
        finally:
            cursor.close()
            self._conn.set_progress_handler(None, 0)
            if self._conn.in_transaction:  # never expected: the authorizer denies writes
                self._conn.rollback()
