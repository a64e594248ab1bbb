"""The store's write-ahead log copied into its file by a thread of its own, never by a commit.

SQLite copies the log into the database file once it passes 1,000 pages, inside the commit
that crosses that size, and syncs the file to disk there. In the app every commit runs on the
event loop, so that one commit stalled the window: 50-90 ms, the longest stalls of a run
streaming in (bench/ui_latency.py, 10,000 results). A store opened with
``checkpoint_every_s`` turns SQLite's own checkpoints off for its connection and has a
:class:`Checkpointer` look at the log that often; when it was written since the last look,
it checkpoints PASSIVE (waiting for no reader or writer) on a connection of its own: at most
one sync of the file per interval, none of them on the event loop. What was committed is in
the log either way: a crash loses nothing, and the next open reads it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path


class Checkpointer:
    """Checkpoints the log of the database at ``path`` every ``every_s`` seconds when it was written since, in a
    daemon thread, until :meth:`close`."""

    def __init__(self, path: Path, every_s: float) -> None:
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self.every_s = every_s
        self.checkpoints = 0  # done so far (tests)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        seen = 0
        try:
            while not self._stop.wait(self.every_s):
                try:
                    written = self.wal.stat().st_mtime_ns
                except OSError:  # no log (yet, or any more)
                    continue
                if written == seen:
                    continue
                seen = written
                if db is None:
                    db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
                with contextlib.suppress(sqlite3.Error):  # busy: the next round tries again
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
        finally:
            if db is not None:
                db.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
