"""The app's store copies its log into the file in a thread of its own: no commit of its connection does it."""

from __future__ import annotations

import time
from pathlib import Path

from workbench.core.store import Store

COMMITS = 1500  # each a few pages of log: past SQLite's own checkpoint size (1,000 pages) several times


def _write(store: Store) -> None:
    for k in range(COMMITS):
        store.dataset_id(f"/data/{k:05d}/" + "x" * 3000, f"d{k}")


def _rows(path: Path) -> int:
    store = Store(path)
    try:
        return int(store.db.execute("SELECT count(*) FROM datasets").fetchone()[0])
    finally:
        store.close()


def test_sqlites_own_checkpoints_copy_the_log_in_at_a_commit(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    empty = store.path.stat().st_size
    _write(store)
    assert store.path.stat().st_size > empty + 2_000_000  # some commit copied the log into the file
    store.close()


def test_with_background_checkpoints_no_commit_copies_the_log_and_nothing_is_lost(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite", checkpoint_every_s=3600.0)  # the thread does not come round in this test
    empty = store.path.stat().st_size
    _write(store)
    assert store.path.stat().st_size == empty  # every commit's pages are still in the log only
    store.close()  # the last connection to close copies the log in
    assert _rows(tmp_path / "w.sqlite") == COMMITS


def test_the_checkpointer_thread_copies_the_log_in_while_the_store_is_open(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite", checkpoint_every_s=0.05)
    empty = store.path.stat().st_size
    _write(store)
    checkpointer = store._checkpointer
    assert checkpointer is not None

    def copied() -> bool:  # the file grows while a checkpoint runs, before the thread counts it: wait for both
        return store.path.stat().st_size > empty + 2_000_000 and checkpointer.checkpoints >= 1

    deadline = time.monotonic() + 30
    while not copied() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert copied()
    store.close()
    assert not checkpointer._thread.is_alive()
    assert _rows(tmp_path / "w.sqlite") == COMMITS
