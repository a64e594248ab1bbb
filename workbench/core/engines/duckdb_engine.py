"""DuckDB, embedded: a ``.duckdb`` file read by untrusted SQL without any way to change it or reach outside.

Each layer is enough on its own for the common attacks:
  * the file is opened ``read_only``: no write, DDL or ATTACH can change it;
  * ``enable_external_access = false``: no other file, no URL (``read_csv``, ``COPY … TO``,
    ``ATTACH``, ``INSTALL``), extensions neither autoloaded nor autoinstalled, unsigned ones
    refused, and ``lock_configuration`` so that no ``SET`` or ``PRAGMA`` can undo any of it;
  * a memory limit (half the pool's per-worker ceiling), one thread, no spilling to disk;
  * exactly one statement, which DuckDB's own parser says is a SELECT and which starts with
    SELECT, WITH or VALUES (``sqlexec.starts_with_read``);
  * a timer that interrupts the statement at its deadline, and ``watchdog.bounded`` so a
    ``BoundedPool`` supervisor kills the worker past the grace;
  * rows and bytes of the result capped while fetching, every value normalised
    (``base.normalise_row``) so results compare equal to SQLite's.
Every failure comes back as a :class:`QueryError` with the same kinds as ``sqlexec``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from workbench.core import startup
from workbench.core.engines.base import DatabaseRef, EngineError, Introspection, entry_columns, normalise_row
from workbench.core.engines.files import file_identity
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import (
    ErrorKind,
    Outcome,
    QueryError,
    QueryResult,
    fetch_capped,
    log_execution,
    starts_with_read,
)

THREADS = 1
MIN_MEMORY_MB = 64


def _config() -> dict[str, Any]:
    memory_mb = max(MIN_MEMORY_MB, watchdog.limits().memory_limit_mb // 2)
    return {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": f"{memory_mb}MB",
        "threads": THREADS,
        "temp_directory": "",
        "lock_configuration": True,
    }


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """``path`` opened read-only and locked down; raises :class:`EngineError` naming it when it cannot be."""
    if not path.is_file():
        raise EngineError(f"{path}: no such DuckDB file")
    try:
        startup.mark("first database opened")
        return duckdb.connect(str(path), read_only=True, config=_config())
    except duckdb.Error as exc:
        raise EngineError(f"{path}: DuckDB cannot open it: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _classify(exc: duckdb.Error, timed_out: bool) -> ErrorKind:
    text = str(exc).lower()
    if isinstance(exc, duckdb.InterruptException) or "interrupted" in text:
        return "timeout" if timed_out else "runtime"
    if isinstance(exc, duckdb.PermissionException) or "read-only" in text or "configuration has been locked" in text:
        return "denied"
    if isinstance(exc, duckdb.OutOfMemoryException) or "out of memory" in text or "bad_alloc" in text:
        return "memory"
    if isinstance(exc, duckdb.ParserException | duckdb.SyntaxException):
        return "syntax"
    return "runtime"


class DuckDBDatabase:
    """One read-only, locked-down connection to one ``.duckdb`` file, reused for many statements."""

    def __init__(self, ref: DatabaseRef, timeout_s: float, max_rows: int, max_bytes: int, phase: int) -> None:
        self.ref = ref
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.phase = phase
        self.path = ref.path
        self._conn = connect(ref.path)
        try:
            self._deadlines = _Interrupter(self._conn)
        except RuntimeError:  # no memory left for a thread under the worker's ceiling
            self._conn.close()
            raise EngineError(f"{ref.label()}: no memory left to start the statements' timer") from None

    def close(self) -> None:
        self._deadlines.close()
        self._conn.close()

    def __enter__(self) -> DuckDBDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one_select(self, sql: str) -> str | QueryError:
        """The one statement in ``sql`` when it is a SELECT, else why not."""
        if not starts_with_read(sql):
            return QueryError("denied", "only SELECT, WITH or VALUES queries may run")
        try:
            statements = self._conn.extract_statements(sql)
        except duckdb.Error as exc:
            return QueryError(_classify(exc, False), _first_line(exc))
        if len(statements) != 1:
            return QueryError("denied", f"exactly one statement may run, not {len(statements)}")
        if statements[0].type != duckdb.StatementType.SELECT:
            return QueryError("denied", f"only SELECT queries may run, not {statements[0].type.name}")
        return sql

    def execute(self, sql: str, phase: int | None = None) -> Outcome:
        checked = self._one_select(sql)
        if isinstance(checked, QueryError):
            return checked
        phase = self.phase if phase is None else phase
        log_execution(phase, self.path)
        with watchdog.bounded(self.timeout_s, phase):
            return self._execute(checked)

    def _execute(self, sql: str) -> Outcome:
        start = time.perf_counter()
        armed = self._deadlines.arm(self.timeout_s)
        try:
            cursor = self._conn.execute(sql)  # the connection itself: its result is replaced by the next statement
            rows = fetch_capped(cursor.fetchmany, self.max_rows, self.max_bytes, normalise_row)
            if isinstance(rows, QueryError):
                return QueryError(rows.kind, rows.message, time.perf_counter() - start)
            columns = [d[0] for d in cursor.description or ()]
            return QueryResult(rows, columns, time.perf_counter() - start)
        except duckdb.Error as exc:
            kind = _classify(exc, self._deadlines.fired(armed))
            message = f"exceeded {self.timeout_s:g} s" if kind == "timeout" else _first_line(exc)
            return QueryError(kind, message, time.perf_counter() - start)
        except MemoryError:
            return QueryError("memory", "the query needed more memory than allowed", time.perf_counter() - start)
        except (OverflowError, ValueError) as exc:
            return QueryError("runtime", str(exc) or type(exc).__name__, time.perf_counter() - start)
        finally:
            self._deadlines.disarm()


class _Interrupter:
    """One thread per connection that interrupts the statement running past its deadline (a thread per
    statement cost about a millisecond each)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        self._wake = threading.Condition()
        self._deadline: float | None = None
        self._armed = 0  # which statement the deadline is for
        self._fired = -1  # the last statement interrupted
        self._closed = False
        threading.Thread(target=self._watch, name="duckdb-deadline", daemon=True).start()

    def arm(self, seconds: float) -> int:
        with self._wake:
            self._armed += 1
            self._deadline = time.monotonic() + seconds
            self._wake.notify()
            return self._armed

    def disarm(self) -> None:
        with self._wake:
            self._deadline = None

    def fired(self, armed: int) -> bool:
        return self._fired == armed

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _watch(self) -> None:
        with self._wake:
            while not self._closed:
                if self._deadline is None:
                    self._wake.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                self._fired, self._deadline = self._armed, None
                self._conn.interrupt()


# --- the engine module's functions (see registry) --------------------------------------
def open_database(
    ref: DatabaseRef, timeout_s: float, max_rows: int, max_bytes: int, phase: int, reverse_unordered: bool
) -> DuckDBDatabase:
    """A read-only, bounded connection to the ``.duckdb`` file; ``reverse_unordered`` does not apply to DuckDB."""
    return DuckDBDatabase(ref, timeout_s, max_rows, max_bytes, phase)


def problem(ref: DatabaseRef) -> str:
    try:
        connect(ref.path).close()
    except EngineError as exc:
        return str(exc)
    return ""


def introspect(ref: DatabaseRef, db_id: str, samples_too: bool = True) -> Introspection:
    from workbench.core.engines.duckdb_catalog import read_catalog

    conn = connect(ref.path)
    try:
        return read_catalog(conn, db_id, samples_too)
    except duckdb.Error as exc:
        raise EngineError(f"{ref.path}: cannot read its schema: {_first_line(exc)}") from None
    finally:
        conn.close()


def table_columns(ref: DatabaseRef) -> dict[str, list[str]]:
    """Each table's columns, from the catalog alone (no sample values: what scoring needs, cheaply)."""
    return entry_columns(introspect(ref, "", samples_too=False).entry)


identity = file_identity  # the file's content digest (engines/files.py)


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    from workbench.core.engines.duckdb_copy import copy_sqlite_file

    copy_sqlite_file(source, ref.path)
