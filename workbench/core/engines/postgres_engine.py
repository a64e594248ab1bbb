"""PostgreSQL: untrusted SQL against a real server, with no way to change anything there.

Layers, each enough on its own for the common attacks:
  * the role: connecting as one that could write (superuser, owner, writer, CREATE, server-file
    roles) is refused unless ``allow_privileged_role`` (``postgres_connect.check_role``);
  * only a statement that starts with SELECT, WITH or VALUES is sent (``sqlexec.starts_with_read``),
    and it is sent alone, as a server-side cursor's query over the extended protocol, which takes
    exactly one statement (and no SELECT INTO, no data-modifying WITH);
  * every statement runs in a ``READ ONLY`` transaction (the session's default too) that is always
    rolled back, with ``statement_timeout``, ``lock_timeout`` and ``idle_in_transaction_session_timeout``
    set and ``search_path`` set to the database's schema; after it, ``DISCARD ALL`` drops whatever
    the session kept (advisory locks, ``set_config`` values, temporary tables, LISTEN);
  * rows are read through the cursor in batches (``FETCH``), so the row and byte caps stop a huge
    result before it arrives whole; a client-side deadline cancels the backend query
    (``cancel_safe``), and ``watchdog.bounded`` lets a ``BoundedPool``'s supervisor kill the worker.
One connection per ``open_database`` (each worker process opens its own: that is the pool).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from workbench.core.engines import postgres_catalog, postgres_copy
from workbench.core.engines.base import DatabaseRef, EngineError, Introspection, normalise_row
from workbench.core.engines.postgres_connect import check_role, connect, first_line, resolve_password, safe_url, scrub
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

CANCEL_GRACE_S = 1.0  # after the client's cancel, how long the server has to stop before its own timeout does
LOCK_TIMEOUT_MS = 1_000
_CURSOR = "workbench_rows"
_DENIED_STATES = {"25006", "42501", "0A000"}  # read-only transaction, insufficient privilege, not supported here
_TIMEOUT_STATES = {"57014", "55P03"}  # query canceled (statement timeout or our cancel), lock not available


def _classify(exc: Any) -> ErrorKind:
    """The kind of a server's error on a session that is still up."""
    state = getattr(exc, "sqlstate", None) or ""
    message = str(exc)
    if state in _TIMEOUT_STATES and ("statement timeout" in message or state != "57014"):
        return "timeout"  # the server's statement_timeout or lock_timeout (a self-cancel is no timeout)
    if state in _DENIED_STATES or "multiple commands" in message:
        return "denied"
    if state == "42601":
        return "syntax"
    if state.startswith("53"):  # insufficient resources (out of memory, disk full)
        return "memory"
    return "runtime"


class PostgresDatabase:
    """One read-only session on one PostgreSQL database (one schema of it), reused for many statements."""

    def __init__(
        self,
        ref: DatabaseRef,
        timeout_s: float,
        max_rows: int,
        max_bytes: int,
        phase: int = watchdog.PREDICTION,
    ) -> None:
        self.ref = ref
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.phase = phase
        self._password = resolve_password(ref)
        self._conn: Any = None
        self._open()

    def __repr__(self) -> str:
        return f"PostgresDatabase({safe_url(self.ref.label())!r})"

    def _open(self) -> None:
        conn = connect(self.ref, self._password, "-c default_transaction_read_only=on")
        try:
            check_role(conn, self.ref, self._password)
        except BaseException:
            conn.close()
            raise
        conn.read_only = True
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, phase: int | None = None) -> Outcome:
        if not starts_with_read(sql):
            return QueryError("denied", "only SELECT, WITH or VALUES queries may run")
        phase = self.phase if phase is None else phase
        log_execution(phase, safe_url(self.ref.label()))
        with watchdog.bounded(self.timeout_s + CANCEL_GRACE_S, phase):
            return self._execute(sql)

    def _execute(self, sql: str) -> Outcome:
        import psycopg

        start = time.perf_counter()
        if self._conn is None or self._conn.closed:
            try:
                self._open()
            except EngineError as exc:
                return QueryError("open", str(exc), time.perf_counter() - start)
        conn = self._conn
        cancelled = threading.Event()

        def cancel() -> None:
            cancelled.set()
            with contextlib.suppress(psycopg.Error):
                conn.cancel_safe(timeout=CANCEL_GRACE_S)

        timer = threading.Timer(self.timeout_s, cancel)
        timer.daemon = True
        try:
            self._begin(conn)
            timer.start()
            with conn.cursor(name=_CURSOR, scrollable=False) as cur:
                cur.execute(sql)
                rows = fetch_capped(cur.fetchmany, self.max_rows, self.max_bytes, normalise_row, first=1)
                columns = [d.name for d in cur.description or ()]
            if isinstance(rows, QueryError):
                return QueryError(rows.kind, rows.message, time.perf_counter() - start)
            return QueryResult(rows, columns, time.perf_counter() - start)
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                kind: ErrorKind = "open"
            else:
                kind = "timeout" if cancelled.is_set() else _classify(exc)
            message = f"exceeded {self.timeout_s:g} s" if kind == "timeout" else first_line(exc)
            if kind == "timeout" and getattr(exc, "sqlstate", None) == "55P03":
                message = f"waited more than {LOCK_TIMEOUT_MS / 1000:g} s for a lock"
            if kind == "open":
                message = f"the connection to the server was lost: {message}"
            elif "multiple commands" in message:
                message = "exactly one statement may run, and this holds several"
            return QueryError(kind, scrub(message, self._password), time.perf_counter() - start)
        except MemoryError:
            return QueryError("memory", "the query needed more memory than allowed", time.perf_counter() - start)
        finally:
            timer.cancel()
            if timer.is_alive():
                timer.join()
            self._reset(conn)

    def _begin(self, conn: Any) -> None:
        from psycopg import sql

        server_ms = int((self.timeout_s + CANCEL_GRACE_S) * 1000)
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {server_ms}")  # the first statement opens READ ONLY
            cur.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
            cur.execute(f"SET LOCAL idle_in_transaction_session_timeout = {server_ms + 5000}")
            if self.ref.namespace:
                cur.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(self.ref.namespace)))

    def _reset(self, conn: Any) -> None:
        """Roll back, and drop every trace the statement left in the session; a broken session is closed."""
        import psycopg

        try:
            conn.rollback()
            conn.autocommit = True
            try:
                conn.execute("DISCARD ALL")
            finally:
                conn.autocommit = False
        except psycopg.Error:
            conn.close()
            self._conn = None


def open_database(
    ref: DatabaseRef,
    timeout_s: float,
    max_rows: int,
    max_bytes: int,
    phase: int = watchdog.PREDICTION,
    reverse_unordered: bool = False,  # SQLite only
) -> PostgresDatabase:
    return PostgresDatabase(ref, timeout_s, max_rows, max_bytes, phase)


def problem(ref: DatabaseRef) -> str:
    """Why ``ref`` cannot be used ("" when it can): a password in the URL, unreachable, refused role, no schema."""
    try:
        db = PostgresDatabase(ref, 10.0, 1, 1_000)
    except EngineError as exc:
        return str(exc)
    with db:
        if ref.namespace and not postgres_catalog.schema_exists(db._conn, ref.namespace):
            return f"{safe_url(ref.label())}: no schema {ref.namespace} in this database"
    return ""


def introspect(ref: DatabaseRef, db_id: str) -> Introspection:
    import psycopg

    with PostgresDatabase(ref, 30.0, 1, 1_000) as db:
        try:
            return postgres_catalog.introspect(db._conn, ref, db_id)
        except psycopg.Error as exc:
            password = db._password
            raise EngineError(
                scrub(f"{safe_url(ref.label())}: cannot read its schema: {first_line(exc)}", password)
            ) from None


def identity(ref: DatabaseRef) -> str | None:
    """None: a server's contents can change at any time, so gold results on it are never cached on disk."""
    return None


def copy_from_sqlite(source: Path, ref: DatabaseRef) -> None:
    postgres_copy.copy_from_sqlite(source, ref)
