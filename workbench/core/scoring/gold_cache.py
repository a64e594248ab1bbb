"""Gold query results kept on disk, so a second score of a split executes only the predictions.

An entry is keyed by the database's identity as its engine gives it (``engines.registry.identity``:
for a SQLite or DuckDB file a BLAKE2b digest of its bytes, remembered in the cache file per stamp:
path, device, inode, size, mtime and ctime, so an unchanged file is hashed once, not once per
process, and any write makes it hashed again),
the gold SQL as it runs and the execution limits; it holds the result's columns and rows,
marshalled and zlib-compressed, with a digest of its own. A database without an identity (a
PostgreSQL server, whose contents may change unseen) has its gold results kept in the process's
memory only, never on disk. Only successful results of gold
queries are stored on disk, never a prediction's and never an error (an error is remembered in
memory, for the process, so a gold query that times out is not run again for each item).

One SQLite file in WAL mode serves several worker processes and several ``score``
processes at once; each process opens its own connection after it starts. The file is
bounded: past ``max_bytes`` of entries, the oldest go. Nothing in it can change a verdict:
an entry that does not decode, fails its digest or holds anything but rows of plain values
is ignored and written again, and a cache file that cannot be opened is replaced (or, if
that fails, the cache runs in memory only).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sqlite3
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import Outcome, QueryResult

FILE_NAME = "gold-results.sqlite"
FORMAT = 3  # PRAGMA user_version; a file of another format is emptied
DEFAULT_MAX_BYTES = 256_000_000
MAX_ENTRY_BYTES = 16_000_000  # a larger result is not kept on disk (still in memory)
MEMORY_ENTRIES = 512
_PLAIN = (type(None), int, float, str, bytes)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload BLOB NOT NULL, digest BLOB NOT NULL,
                                    size INTEGER NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS results_by_age ON results (created);
CREATE TABLE IF NOT EXISTS files (stamp TEXT PRIMARY KEY, digest TEXT NOT NULL);
"""


def default_path() -> Path:
    """The cache file in the user's cache folder (``$XDG_CACHE_HOME/workbench``), as the app and CLI use it."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("workbench")) / FILE_NAME


def cache_file(choice: bool | Path) -> Path | None:
    """Where to keep gold results: True the default file, False none (memory only), else the path given."""
    if choice is True:
        return default_path()
    return None if choice is False else Path(choice)


def encode(columns: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    return zlib.compress(marshal.dumps((columns, rows)), 1)


def decode(payload: bytes) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """The columns and rows in ``payload``, or None if it is not exactly what :func:`encode` writes."""
    try:
        value = marshal.loads(zlib.decompress(payload))
    except (ValueError, EOFError, TypeError, zlib.error):
        return None
    if not (type(value) is tuple and len(value) == 2 and type(value[0]) is list and type(value[1]) is list):
        return None
    columns, rows = value
    if not all(type(c) is str for c in columns):
        return None
    if not all(type(row) is tuple and all(type(v) in _PLAIN for v in row) for row in rows):
        return None
    return columns, rows


def _check(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=16).digest()


class GoldCache:
    """Gold results by (database content, gold SQL, limits): in memory, and on disk at ``path`` unless it is None."""

    def __init__(self, path: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._memory: OrderedDict[str, Outcome] = OrderedDict()
        self._identities: dict[str, str] = {}  # a file's stamp -> its content digest
        self._pins: dict[DatabaseRef, str | None] | None = None  # within ``pinned``: each database's identity
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._written = 0

    # --- the one call scoring makes ----------------------------------------------------
    def result(self, db: ReadOnlyDatabase, sql: str) -> Outcome:
        """The gold query's outcome on ``db``: from the cache, else executed (and kept if it succeeded)."""
        key, on_disk = self._key(db, sql)
        found = self._memory.get(key) or (self._read(key) if on_disk else None)
        if found is None:
            outcome = db.execute(sql, watchdog.GOLD)
            if isinstance(outcome, QueryResult):
                found = QueryResult(outcome.rows, outcome.columns, 0.0)
                if on_disk:
                    self._write(key, found)
            else:
                found = outcome  # an error is remembered in this process only (a timeout is not paid twice)
        self._memory[key] = found
        self._memory.move_to_end(key)
        while len(self._memory) > MEMORY_ENTRIES:
            self._memory.popitem(last=False)
        return found

    def _key(self, db: ReadOnlyDatabase, sql: str) -> tuple[str, bool]:
        """The entry's key, and whether it may be kept on disk (the database has an identity)."""
        digest = self.identity(db.ref)
        where = digest if digest is not None else ("memory", db.ref)
        limits = (db.timeout_s, db.max_rows, db.max_bytes, watchdog.limits().memory_limit_mb)
        return hashlib.blake2b(repr((where, limits, sql)).encode(), digest_size=20).hexdigest(), digest is not None

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Within: each database's identity is taken once, at its first query, and kept to the end. For a job that
        reads its databases as they are at its start (one chunk of a score); outside, every query checks the file's
        stamp again (a ``stat`` and a path resolved: most of a cached gold result's cost)."""
        self._pins = {}
        try:
            yield
        finally:
            self._pins = None

    def identity(self, ref: DatabaseRef) -> str | None:
        """The database's content identity (``registry.identity``), remembered in the cache file per file stamp
        (``registry.stamp``), so an unchanged database file is hashed once, not once per process."""
        pins = self._pins
        if pins is None:
            return self._identity(ref)
        if ref not in pins:
            pins[ref] = self._identity(ref)
        return pins[ref]

    def _identity(self, ref: DatabaseRef) -> str | None:
        stamp = registry.stamp(ref)
        if stamp is None:
            return registry.identity(ref)
        known = self._identities.get(stamp)
        if known is None:
            known = self._query("SELECT digest FROM files WHERE stamp = ?", (stamp,)) if self.path else None
            if known is None:
                known = registry.identity(ref)
                if known is None:
                    return None
                if self.path is not None:
                    self._execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (stamp, known))
            self._identities[stamp] = str(known)
        return str(known)

    # --- the file --------------------------------------------------------------------
    def _read(self, key: str) -> QueryResult | None:
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT payload, digest FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or _check(row[0]) != row[1]:
            return None  # missing or damaged: the caller executes and writes it again
        decoded = decode(row[0])
        return None if decoded is None else QueryResult(decoded[1], decoded[0], 0.0)

    def _write(self, key: str, result: QueryResult) -> None:
        if self.path is None:
            return
        payload = encode(result.columns, result.rows)
        if len(payload) > MAX_ENTRY_BYTES:
            return
        stored = self._execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
            (key, payload, _check(payload), len(payload), time.time()),
        )
        if stored:
            self._written += len(payload)
            if self._written > self.max_bytes // 8:
                self.evict()

    def evict(self) -> None:
        """Drop the oldest entries until the rest fit in ``max_bytes``."""
        self._written = 0
        self._execute(
            "DELETE FROM results WHERE created <= (SELECT created FROM (SELECT created, SUM(size) OVER "
            "(ORDER BY created DESC, key) AS total FROM results) WHERE total > ? ORDER BY created DESC LIMIT 1)",
            (self.max_bytes,),
        )

    def _query(self, sql: str, params: tuple[Any, ...]) -> Any:
        db = self._connection()
        try:
            row = db.execute(sql, params).fetchone() if db is not None else None
        except sqlite3.Error:
            return None
        return None if row is None else row[0]

    def _execute(self, sql: str, params: tuple[Any, ...]) -> bool:
        db = self._connection()
        if db is None:
            return False
        try:
            db.execute(sql, params)
        except sqlite3.Error:
            return False
        return True

    def _connection(self) -> sqlite3.Connection | None:
        """This process's connection (a forked worker opens its own), or None when there is no usable file."""
        if self.path is None:
            return None
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self._db, self._pid = None, os.getpid()  # a connection inherited over fork is never used
        for attempt in range(2):
            try:
                self._db = _open(self.path)
                return self._db
            except sqlite3.OperationalError:  # locked past the timeout, or no permission: leave the file be
                break
            except (sqlite3.DatabaseError, OSError):
                if attempt == 0:  # not a database (or a damaged one): start a new file
                    for suffix in ("", "-wal", "-shm"):
                        with contextlib.suppress(OSError):
                            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.path = None  # memory only from now on
        return None

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if db.execute("PRAGMA user_version").fetchone()[0] != FORMAT:
            db.executescript("DROP TABLE IF EXISTS results; DROP TABLE IF EXISTS files;")
            db.execute(f"PRAGMA user_version = {FORMAT}")
        db.executescript(_SCHEMA)
    except sqlite3.Error:
        db.close()
        raise
    return db


_SHARED: dict[Path | None, GoldCache] = {}


def for_process(path: Path | None) -> GoldCache:
    """The cache at ``path`` for this process (one per path, reused by every chunk a worker scores)."""
    if path not in _SHARED:
        _SHARED[path] = GoldCache(path)
    return _SHARED[path]
