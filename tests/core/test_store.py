"""The run store: migrations from old files, the cache rules, and crash-safe writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.core.store import MIGRATIONS, ScoreRow, Store, StoreError


def test_a_version_1_file_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Store(path, migrations=MIGRATIONS[:1])
    assert old.version == 1
    ds = old.dataset_id("/data/demo", "demo")
    vid = old.variant_id("base", "http://x/v1", "m", {"temperature": 0})
    run = old.create_run("r", ds, "dev", None, [vid])
    old.db.execute(
        "INSERT INTO scores (run_id, variant_id, item_index, db_id, status, reason, created_at, exec_match) "
        "VALUES (?, ?, 0, 'library', 'scored', 'same rows', 'then', 1)",
        (run, vid),
    )
    old.close()

    store = Store(path)
    assert store.version == len(MIGRATIONS)
    (row,) = list(store.scores(run))
    assert row.exec_match is True and row.cost == 0.0 and row.cached is False
    assert store.db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    store.close()


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'future')")
    with pytest.raises(StoreError, match="newer workbench"):
        Store(path)


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path, migrations=MIGRATIONS[:1]).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        Store(path, migrations=[*MIGRATIONS[:1], broken])
    store = Store(path, migrations=MIGRATIONS[:1])
    assert store.version == 1
    assert store.db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_errors_are_stored_but_never_served_from_the_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.save_response("h1", "http://x", "m", [{"role": "user", "content": "q"}], {}, False, None, error="http 500")
    assert store.cached_response("h1") is None
    store.save_response("h1", "http://x", "m", [{"role": "user", "content": "q"}], {}, True, "SELECT 1", 10, 2, 5.0)
    assert store.cached_response("h1") == ("SELECT 1", 10, 2, 5.0)
    assert store.db.execute("SELECT count(*) FROM responses WHERE request_hash = 'h1'").fetchone()[0] == 2


def test_run_names_are_unique_and_done_items_skip_failures(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    ds = store.dataset_id("/d", "d")
    vid = store.variant_id("v", "e", "m", {})
    run = store.create_run("r", ds, "dev", 5, [vid])
    with pytest.raises(StoreError, match="already exists; pass --resume"):
        store.create_run("r", ds, "dev", 5, [vid])
    ok = ScoreRow(variant_id=vid, item_index=0, db_id="db", status="scored", reason="ok", hardness="easy",
                  exec_match=True, exact_match=True, predicted_sql="SELECT 1", request_hash="h", latency_ms=1.0,
                  prompt_tokens=1, completion_tokens=1)  # fmt: skip
    failed = ScoreRow(variant_id=vid, item_index=1, db_id="db", status="failed", reason="timeout", request_hash="h2")
    store.save_score(run, ok)
    store.save_score(run, failed)
    assert store.done_items(run) == {(vid, 0)}
    assert store.run("r").item_limit == 5 and store.run(run).name == "r"
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.run("nope")
