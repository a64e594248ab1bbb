"""The persistent gold-result cache: a second score in a new process runs no gold query; a changed database does.

Executions are counted by the sandbox's own log (``WORKBENCH_EXECUTION_LOG``), which every
worker process appends to; the cache lives in the test's XDG cache folder.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import make_db
from tests.own_data import write_questions_csv
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.sandbox.sqlexec import EXECUTION_LOG, QueryError, QueryResult
from workbench.core.scoring import gold_cache
from workbench.core.scoring.gold_cache import GoldCache, decode, encode

ROOT = Path(__file__).resolve().parents[2]
PREDICTIONS = ["SELECT name FROM pet WHERE id = 1", "SELECT 'rex'", "SELECT count(*) FROM pet"]


def pets(folder: Path) -> tuple[Path, Path, Path]:
    """A database, a question file and predictions for it: the second prediction is right only while pet 1 is rex."""
    db = make_db(folder / "pets.sqlite", "CREATE TABLE pet (id INTEGER PRIMARY KEY, name TEXT);"
                 "INSERT INTO pet VALUES (1, 'rex'), (2, 'tom');")  # fmt: skip
    questions = write_questions_csv(
        folder / "q.csv",
        [("Pet 1?", "SELECT name FROM pet WHERE id = 1", ""), ("Pet 1 again?", "SELECT name FROM pet WHERE id = 1", ""),
         ("How many?", "SELECT count(*) FROM pet", "")],
    )  # fmt: skip
    predictions = folder / "p.sql"
    predictions.write_text("\n".join(PREDICTIONS) + "\n")
    return db, questions, predictions


def score(db: Path, questions: Path, predictions: Path, log: Path, *extra: str) -> tuple[list[str], Counter[str]]:
    """``workbench score`` as a new process: its verdict lines and what it executed, by phase."""
    log.unlink(missing_ok=True)
    out = log.with_suffix(".jsonl")
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "score", "--dataset", str(db), "--questions", str(questions),
         "--predictions", str(predictions), "--jsonl", str(out), "--workers", "2", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, EXECUTION_LOG: str(log)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    phases = Counter(line.split("\t")[0] for line in log.read_text().splitlines()) if log.exists() else Counter()
    return out.read_text().splitlines(), phases


def change_keeping_size_and_mtime(db: Path, sql: str) -> None:
    before = db.stat()
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = db.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_second_score_runs_only_the_predictions_and_a_changed_database_runs_its_gold_again(tmp_path: Path) -> None:
    db, questions, predictions = pets(tmp_path)
    log = tmp_path / "executed.log"
    first, ran = score(db, questions, predictions, log)
    assert ran["gold query"] >= 2 and ran["prediction"] == 3
    assert (Path(os.environ["XDG_CACHE_HOME"]) / "workbench" / gold_cache.FILE_NAME).is_file()

    second, ran = score(db, questions, predictions, log)
    assert ran == Counter({"prediction": 3})
    assert second == first
    assert '"exec_match": true' in first[1]

    change_keeping_size_and_mtime(db, "UPDATE pet SET name = 'max' WHERE id = 1")  # same length: same size
    third, ran = score(db, questions, predictions, log)
    assert ran["gold query"] >= 2 and ran["prediction"] == 3
    assert '"exec_match": false' in third[1]  # a stale gold result ("rex") would have passed it
    assert third == score(db, questions, predictions, log, "--no-gold-cache")[0]


def test_no_gold_cache_executes_every_gold_query_and_keeps_no_file(tmp_path: Path) -> None:
    db, questions, predictions = pets(tmp_path)
    log = tmp_path / "executed.log"
    for _ in range(2):
        _, ran = score(db, questions, predictions, log, "--no-gold-cache")
        assert ran["gold query"] >= 2 and ran["prediction"] == 3
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "workbench" / gold_cache.FILE_NAME).exists()


def test_several_score_processes_share_the_cache_at_once(tmp_path: Path) -> None:
    db, questions, predictions = pets(tmp_path)
    args = ["--dataset", str(db), "--questions", str(questions), "--predictions", str(predictions)]
    procs = [
        subprocess.Popen([sys.executable, "-m", "workbench", "score", *args, "--jsonl", str(tmp_path / f"{k}.jsonl")],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(3)
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    texts = {(tmp_path / f"{k}.jsonl").read_text() for k in range(3)}
    assert len(texts) == 1
    _, ran = score(db, questions, predictions, tmp_path / "executed.log")
    assert ran == Counter({"prediction": 3})


def gold_runs(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith("gold query")) if log.exists() else 0


def test_a_damaged_entry_is_ignored_and_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_file, _, _ = pets(tmp_path)
    log = tmp_path / "executed.log"
    monkeypatch.setenv(EXECUTION_LOG, str(log))
    path = tmp_path / "cache" / "gold.sqlite"
    sql = "SELECT id, name FROM pet ORDER BY id"
    with registry.open_database(DatabaseRef("sqlite", str(db_file))) as db:
        expected = db.execute(sql)
        assert isinstance(expected, QueryResult)
        assert GoldCache(path).result(db, sql).rows == expected.rows and gold_runs(log) == 1
        assert GoldCache(path).result(db, sql).rows == expected.rows and gold_runs(log) == 1  # from the file
        damaged = encode(["id", "name"], [(1, "tom"), (2, "rex")])  # well formed, but not what the digest says
        raw = sqlite3.connect(path)
        raw.execute("UPDATE results SET payload = ?", (damaged,))
        raw.commit()
        assert GoldCache(path).result(db, sql).rows == expected.rows and gold_runs(log) == 2
        assert GoldCache(path).result(db, sql).rows == expected.rows and gold_runs(log) == 2  # rewritten
        raw.execute("UPDATE results SET payload = ?", (b"\x00garbage",))
        raw.commit()
        raw.close()
        assert GoldCache(path).result(db, sql).rows == expected.rows and gold_runs(log) == 3


def test_a_cache_file_that_is_not_a_database_is_replaced(tmp_path: Path) -> None:
    db_file, _, _ = pets(tmp_path)
    path = tmp_path / "gold.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with registry.open_database(DatabaseRef("sqlite", str(db_file))) as db:
        assert GoldCache(path).result(db, "SELECT count(*) FROM pet").rows == [(2,)]
        assert GoldCache(path).result(db, "SELECT count(*) FROM pet").rows == [(2,)]
    assert sqlite3.connect(path).execute("SELECT count(*) FROM results").fetchone() == (1,)


def test_errors_are_never_kept_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_file, _, _ = pets(tmp_path)
    log = tmp_path / "executed.log"
    monkeypatch.setenv(EXECUTION_LOG, str(log))
    with registry.open_database(DatabaseRef("sqlite", str(db_file))) as db:
        for runs in (1, 2):
            cache = GoldCache(tmp_path / "gold.sqlite")
            assert isinstance(cache.result(db, "SELECT nope FROM pet"), QueryError)
            assert isinstance(cache.result(db, "SELECT nope FROM pet"), QueryError)  # once per process
            assert gold_runs(log) == runs
    assert sqlite3.connect(tmp_path / "gold.sqlite").execute("SELECT count(*) FROM results").fetchone() == (0,)


def test_the_file_stays_within_its_bound_dropping_the_oldest(tmp_path: Path) -> None:
    db_file, _, _ = pets(tmp_path)
    path = tmp_path / "gold.sqlite"
    queries = [f"SELECT name, {k} FROM pet" for k in range(40)]
    with registry.open_database(DatabaseRef("sqlite", str(db_file))) as db:
        cache = GoldCache(path, max_bytes=10**6)
        for sql in queries:
            cache.result(db, sql)
        sizes = [row[0] for row in sqlite3.connect(path).execute("SELECT size FROM results ORDER BY created")]
        assert len(sizes) == 40
        cache.max_bytes = sum(sizes[-10:])
        cache.evict()
    kept = sqlite3.connect(path).execute("SELECT count(*) FROM results").fetchone()[0]
    assert kept == 10


def test_rows_keep_their_value_types() -> None:
    rows = [(1, 1.0, "1", b"1", None), (-(2**62), 1e300, "", b"", None)]
    assert decode(encode(["a", "b", "c", "d", "e"], rows)) == (["a", "b", "c", "d", "e"], rows)
    assert [type(v) for v in decode(encode(["a"], rows))[1][0]] == [int, float, str, bytes, type(None)]  # type: ignore[index]
    for odd in ([{1}], [(1, [2])], "rows", [(compile("1", "x", "eval"),)]):
        assert decode(zlib.compress(marshal.dumps((["a"], odd)))) is None
    assert decode(b"\x00garbage") is None


def test_a_cache_folder_that_cannot_be_written_leaves_scoring_in_memory(tmp_path: Path) -> None:
    db_file, _, _ = pets(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    cache = GoldCache(blocked / "workbench" / gold_cache.FILE_NAME)
    with registry.open_database(DatabaseRef("sqlite", str(db_file))) as db:
        assert cache.result(db, "SELECT count(*) FROM pet").rows == [(2,)]
        assert cache.result(db, "SELECT count(*) FROM pet").rows == [(2,)]
    assert cache.path is None and blocked.is_file()


def test_a_files_digest_is_kept_per_stamp_so_a_new_process_does_not_hash_it_again(tmp_path: Path) -> None:
    db, _, _ = pets(tmp_path)
    ref = DatabaseRef("sqlite", str(db))
    cache_path = tmp_path / "cache" / gold_cache.FILE_NAME
    first = GoldCache(cache_path)
    digest = first.identity(ref)
    assert digest == registry.identity(ref)
    first.close()
    stamp = registry.stamp(ref)
    with sqlite3.connect(cache_path) as conn:
        assert conn.execute("SELECT stamp, digest FROM files").fetchall() == [(stamp, digest)]
    change_keeping_size_and_mtime(db, "UPDATE pet SET name = 'max' WHERE id = 1")  # the ctime still moves
    assert registry.stamp(ref) != stamp
    again = GoldCache(cache_path)
    changed = again.identity(ref)
    again.close()
    assert changed is not None and changed != digest
    with sqlite3.connect(cache_path) as conn:
        assert dict(conn.execute("SELECT stamp, digest FROM files").fetchall()) == {
            stamp: digest,
            registry.stamp(ref): changed,
        }
    assert registry.stamp(DatabaseRef("postgres", "postgresql://u@h/db")) is None
