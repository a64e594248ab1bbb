"""The DuckDB engine: copies of the demo answer like SQLite, and hostile SQL changes nothing and reaches nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import make_db
from workbench.core.data.schema import REQUIRED_KEYS, schema_from_entry
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.engines.files import content_digest
from workbench.core.sandbox.bounded_pool import BoundedPool
from workbench.core.sandbox.sqlexec import EXECUTION_LOG, QueryError, QueryResult, SandboxedDatabase
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.paths import DEMO_DATASET

DEMO_DBS = ("library", "clinic", "shop", "transit")

# (statement, the kind of error it must give); each leaves the file's bytes as they were
HOSTILE = [
    ("COPY book TO '/tmp/workbench-evil.csv'", "denied"),
    ("COPY (SELECT * FROM book) TO '/tmp/workbench-evil.csv' (FORMAT csv)", "denied"),
    ("EXPORT DATABASE '/tmp/workbench-evil'", "denied"),
    ("ATTACH '/tmp/workbench-evil.duckdb' AS evil", "denied"),
    ("ATTACH ':memory:' AS m", "denied"),
    ("DETACH library", "denied"),
    ("USE memory", "denied"),
    ("INSTALL httpfs", "denied"),
    ("FORCE INSTALL httpfs", "denied"),
    ("LOAD httpfs", "denied"),
    ("LOAD '/tmp/evil.duckdb_extension'", "denied"),
    ("SELECT * FROM read_csv('/etc/passwd')", "denied"),
    ("SELECT * FROM read_csv_auto('/etc/hosts')", "denied"),
    ("SELECT * FROM read_text('/etc/passwd')", "denied"),
    ("SELECT * FROM read_blob('/etc/passwd')", "denied"),
    ("SELECT * FROM read_json_auto('/etc/hosts')", "denied"),
    ("SELECT * FROM read_parquet('/tmp/workbench-evil.parquet')", "denied"),
    ("SELECT * FROM glob('/*')", "denied"),
    ("WITH f AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM f", "denied"),
    ("SELECT * FROM '/etc/passwd'", "runtime"),
    ("SELECT getenv('HOME')", "runtime"),
    ("SET memory_limit = '100GB'", "denied"),
    ("SET enable_external_access = true", "denied"),
    ("SET threads = 8", "denied"),
    ("RESET enable_external_access", "denied"),
    ("RESET ALL", "denied"),
    ("PRAGMA threads = 8", "denied"),
    ("PRAGMA enable_profiling", "denied"),
    ("CREATE TABLE evil (x INTEGER)", "denied"),
    ("CREATE TEMP TABLE evil (x INTEGER)", "denied"),
    ("CREATE VIEW v AS SELECT 1", "denied"),
    ("CREATE MACRO m(x) AS x", "denied"),
    ("CREATE SEQUENCE s", "denied"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')", "denied"),
    ("INSERT INTO book SELECT * FROM book", "denied"),
    ("WITH x AS (SELECT 1) INSERT INTO book SELECT * FROM book", "denied"),
    ("UPDATE book SET title = 'x'", "denied"),
    ("DELETE FROM book", "denied"),
    ("DROP TABLE book", "denied"),
    ("ALTER TABLE book RENAME TO b", "denied"),
    ("CALL pragma_version()", "denied"),
    ("CHECKPOINT", "denied"),
    ("VACUUM", "denied"),
    ("BEGIN TRANSACTION", "denied"),
    ("EXPLAIN ANALYZE SELECT 1", "denied"),
    ("SELECT 1; ATTACH ':memory:' AS m", "denied"),
    ("SELECT 1; DROP TABLE book", "denied"),
    ("SELECT * FROM book; DELETE FROM book", "denied"),
    ("SELECT * FROM query('DROP TABLE book')", "syntax"),
    ("SELECT * FROM range(1000000000000)", "too_many_rows"),
    ("SELECT * FROM range(CAST(1e12 AS BIGINT))", "too_many_rows"),
    ("SELECT * FROM book a, book b, book c, book d", "too_many_rows"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", "timeout"),
    ("SELECT string_agg(repeat('x', 1000), '') FROM range(1000000)", "memory"),
    ("SELECT repeat('x', 3000000) FROM range(30)", "too_large"),
    ("SELECT title FROM book WHERE", "syntax"),
    ("SELEC title FROM book", "denied"),
    ("SELECT nope FROM book", "runtime"),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ref(folder: Path, db_id: str) -> DatabaseRef:
    return DatabaseRef("duckdb", str(folder / db_id / f"{db_id}.duckdb"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's four databases copied into DuckDB files (the layout ``dataset convert`` writes)."""
    folder = tmp_path_factory.mktemp("duck")
    for db_id in DEMO_DBS:
        registry.copy_from_sqlite(DEMO_DATASET / "database" / db_id / f"{db_id}.sqlite", _ref(folder, db_id))
    return folder


@pytest.fixture()
def library(converted: Path, tmp_path: Path) -> Path:
    """A private copy of the library database: a test may attack it."""
    path = tmp_path / "library" / "library.duckdb"
    path.parent.mkdir()
    path.write_bytes((converted / "library" / "library.duckdb").read_bytes())
    return path


def test_the_copy_keeps_tables_types_keys_and_rows(converted: Path) -> None:
    conn = duckdb.connect(str(converted / "shop" / "shop.duckdb"), read_only=True)
    try:
        types = dict(
            conn.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'product'").fetchall()
        )
        keys = conn.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        orders = conn.execute("SELECT count(*), min(order_date) FROM orders").fetchone()
    finally:
        conn.close()
    assert types == {"product_id": "BIGINT", "name": "VARCHAR", "category": "VARCHAR", "unit_price": "DOUBLE",
                     "stock": "BIGINT"}  # fmt: skip
    assert ("order_item", ["order_id", "product_id"]) in keys and ("product", ["product_id"]) in keys
    source = sqlite3.connect(DEMO_DATASET / "database" / "shop" / "shop.sqlite")
    expected = source.execute("SELECT count(*), min(order_date) FROM orders").fetchone()
    source.close()
    assert orders is not None and (orders[0], orders[1].isoformat()) == expected  # a DATE column, ISO text in SQLite


def test_demo_gold_gives_sqlites_rows(converted: Path) -> None:
    """Every gold query DuckDB accepts as written gives SQLite's rows; the others are SQLite's bare columns
    beside GROUP BY, which DuckDB refuses (``dataset convert`` rewrites them)."""
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    same, refused = 0, []
    for item in dev:
        db_id = item["db_id"]
        with (
            registry.open_database(_ref(converted, db_id)) as duck,
            SandboxedDatabase(DEMO_DATASET / "database" / db_id / f"{db_id}.sqlite") as lite,
        ):
            got, want = duck.execute(item["query"]), lite.execute(item["query"])
        assert isinstance(want, QueryResult)
        if isinstance(got, QueryError):
            refused.append(got)
            continue
        ordered = "order by" in item["query"].lower() and "limit" not in item["query"].lower()
        assert (got.rows if ordered else sorted(got.rows, key=repr)) == (
            want.rows if ordered else sorted(want.rows, key=repr)
        ), item["query"]
        same += 1
    assert same >= 70
    assert refused and all(e.kind == "runtime" and "GROUP BY" in e.message for e in refused)


def test_at_least_fifty_hostile_statements() -> None:
    assert len(HOSTILE) >= 50


@pytest.mark.parametrize(("sql", "kind"), HOSTILE)
def test_hostile_sql_changes_nothing_and_reaches_nothing(library: Path, sql: str, kind: str) -> None:
    before = _sha(library)
    ref = DatabaseRef("duckdb", str(library))
    with registry.open_database(ref, timeout_s=2.0, max_rows=1000, max_bytes=50_000_000) as db:
        out = db.execute(sql)
        assert isinstance(db.execute("SELECT count(*) FROM book"), QueryResult)  # the connection still works
    assert isinstance(out, QueryError), f"{sql!r} was allowed: {out}"
    assert out.kind == kind, out
    assert _sha(library) == before
    assert sorted(p.name for p in library.parent.iterdir()) == ["library.duckdb"]  # no WAL, nothing beside it
    for path in ("/tmp/workbench-evil.csv", "/tmp/workbench-evil", "/tmp/workbench-evil.duckdb"):
        assert not Path(path).exists()
    writer = duckdb.connect(str(library))  # nothing holds the file once the connection is closed
    writer.close()


def test_a_timeout_really_stops_the_statement(library: Path) -> None:
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r"
    with registry.open_database(DatabaseRef("duckdb", str(library)), timeout_s=0.5) as db:
        started = time.monotonic()
        out = db.execute(endless)
        elapsed = time.monotonic() - started
        assert isinstance(out, QueryError) and out.kind == "timeout" and str(out) == "timeout: exceeded 0.5 s"
        assert elapsed < 3.0
        started = time.monotonic()
        assert db.execute("SELECT count(*) FROM book").rows == [(40,)]  # type: ignore[union-attr]
        assert time.monotonic() - started < 1.0  # nothing left running on the connection


def _execute_bounded(location: str, sql: str) -> object:
    """In a worker: one statement through the registry with the pool's limits."""
    from workbench.core.sandbox import watchdog

    bounds = watchdog.limits()
    ref = DatabaseRef("duckdb", location)
    with registry.open_database(ref, bounds.time_limit_s, bounds.max_rows, bounds.max_result_bytes) as db:
        return db.execute(sql)


def test_a_memory_bomb_is_stopped_in_a_bounded_worker(library: Path) -> None:
    before = _sha(library)
    pool = BoundedPool(1, ExecLimits(time_limit_s=10.0, memory_limit_mb=1024), context="fork")
    try:
        for bomb in ("SELECT repeat('x', 1000000000)", "SELECT length(repeat('x', CAST(1e9 AS BIGINT)))"):
            out = pool.submit(_execute_bounded, str(library), bomb).result(timeout=60)
            assert isinstance(out, QueryError) and out.kind == "memory", out
        after = pool.submit(_execute_bounded, str(library), "SELECT count(*) FROM book").result(timeout=60)
        assert after.rows == [(40,)]  # type: ignore[attr-defined]
    finally:
        pool.shutdown()
    assert _sha(library) == before


def test_rows_are_normalised_like_sqlites(tmp_path: Path) -> None:
    path = tmp_path / "types.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE t (b BOOLEAN, d DECIMAL(10, 2), i DECIMAL(10, 0), day DATE, stamp TIMESTAMP, blob BLOB,"
        " n INTEGER)"
    )
    conn.execute(
        "INSERT INTO t VALUES (true, 2.50, 7, DATE '2024-02-29', TIMESTAMP '2024-02-29 10:30:00', '\\xAA'::BLOB, NULL)"
    )
    conn.close()
    with registry.open_database(DatabaseRef("duckdb", str(path))) as db:
        out = db.execute("SELECT * FROM t")
    assert isinstance(out, QueryResult)
    assert out.rows == [(1, 2.5, 7, "2024-02-29", "2024-02-29 10:30:00", b"\xaa", None)]
    assert [type(v) for v in out.rows[0][:3]] == [int, float, int]


def test_missing_and_foreign_files_cannot_be_opened(tmp_path: Path) -> None:
    missing = DatabaseRef("duckdb", str(tmp_path / "none.duckdb"))
    assert registry.problem(missing) == f"{tmp_path / 'none.duckdb'}: no such DuckDB file"
    with pytest.raises(EngineError, match="no such DuckDB file"):
        registry.open_database(missing)
    lite = make_db(tmp_path / "lite.duckdb", "CREATE TABLE t (x INTEGER);")
    text = registry.problem(DatabaseRef("duckdb", str(lite)))
    assert text.startswith(f"{lite}: DuckDB cannot open it: ") and "\n" not in text
    assert registry.identity(missing) is None


def test_identity_is_the_content_digest(library: Path) -> None:
    ref = DatabaseRef("duckdb", str(library))
    first = registry.identity(ref)
    sqlite_copy = registry.identity(DatabaseRef("sqlite", str(library)))  # what the gold cache keys a SQLite file by
    assert first == content_digest(library) == sqlite_copy
    conn = duckdb.connect(str(library))
    conn.execute("UPDATE book SET pages = pages + 1")
    conn.close()
    assert registry.identity(ref) != first


def test_statements_are_logged_with_their_phase(library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "executions.log"
    monkeypatch.setenv(EXECUTION_LOG, str(log))
    with registry.open_database(DatabaseRef("duckdb", str(library))) as db:
        db.execute("SELECT 1")
        db.execute("DROP TABLE book")  # refused before it runs: not logged
    assert log.read_text() == f"prediction\t{library}\n"


def test_the_copy_types_by_what_a_column_holds(tmp_path: Path) -> None:
    source = make_db(
        tmp_path / "messy.sqlite",
        """
        CREATE TABLE "odd name" ("the id" INTEGER, amount NUMERIC, day DATE, born DATE, stamp DATETIME,
                                 code INTEGER, raw BLOB, [say "hi"] TEXT, PRIMARY KEY ("the id"));
        INSERT INTO "odd name" VALUES (1, 2, '2024-01-05', '2024-02-30', '2024-01-05 10:00:00', 7, x'00ff', 'a');
        INSERT INTO "odd name" VALUES (2, 2.5, NULL, 'unknown', NULL, 'n/a', NULL, NULL);
        CREATE TABLE dup (k INTEGER, v TEXT, PRIMARY KEY (k, v));
        INSERT INTO dup VALUES (1, NULL), (1, NULL);
        CREATE TABLE empty (a INTEGER, b REAL, c TEXT, d DATE);
        """,
    )
    target = tmp_path / "messy.duckdb"
    registry.copy_from_sqlite(source, DatabaseRef("duckdb", str(target)))
    found = registry.introspect(DatabaseRef("duckdb", str(target)), "messy")
    entry = found.entry
    assert entry["table_names_original"] == ["dup", "empty", "odd name"]  # by name
    names = [n for _, n in entry["column_names_original"]]
    types = dict(zip(names, entry["column_types"], strict=True))
    assert types["the id"] == "BIGINT" and types["amount"] == "DOUBLE" and types["day"] == "DATE"
    assert types["born"] == "VARCHAR"  # 2024-02-30 is no date
    assert types["stamp"] == "TIMESTAMP" and types["code"] == "VARCHAR" and types["raw"] == "BLOB"
    assert entry["column_types"][names.index("a") : names.index("a") + 4] == ["BIGINT", "DOUBLE", "VARCHAR", "DATE"]
    assert entry["primary_keys"] == [names.index("the id")]  # dup's key does not hold in its rows: not kept
    with registry.open_database(DatabaseRef("duckdb", str(target))) as db:
        out = db.execute('SELECT "the id", amount, day, code, raw, "say ""hi""" FROM "odd name" ORDER BY 1')
        assert db.execute("SELECT count(*) FROM dup").rows == [(2,)]  # type: ignore[union-attr]
    assert isinstance(out, QueryResult)
    assert out.rows == [(1, 2.0, "2024-01-05", "7", b"\x00\xff", "a"), (2, 2.5, None, "n/a", None, None)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.duckdb", "messy.sqlite"]  # no partial file left


def test_a_copy_replaces_the_file_and_names_a_bad_source(tmp_path: Path) -> None:
    target = tmp_path / "t.duckdb"
    target.write_bytes(b"old")
    registry.copy_from_sqlite(
        make_db(tmp_path / "a.sqlite", "CREATE TABLE a (x INTEGER);"), DatabaseRef("duckdb", str(target))
    )
    assert registry.introspect(DatabaseRef("duckdb", str(target)), "t").entry["table_names_original"] == ["a"]
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(EngineError, match=r"bad\.sqlite"):
        registry.copy_from_sqlite(bad, DatabaseRef("duckdb", str(tmp_path / "b.duckdb")))
    assert not (tmp_path / "b.duckdb").exists()


def test_introspection_reads_foreign_keys_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "own.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE team (league VARCHAR, code VARCHAR, name VARCHAR, PRIMARY KEY (league, code));"
        "CREATE TABLE player (id INTEGER PRIMARY KEY, league VARCHAR, code VARCHAR, born DATE,"
        " FOREIGN KEY (league, code) REFERENCES team (league, code));"
        "COMMENT ON COLUMN player.born IS 'day of birth';"
        "INSERT INTO team VALUES ('A', 'x', 'Xs'), ('A', 'y', 'Ys'); INSERT INTO player VALUES (1, 'A', 'x', NULL);"
    )
    conn.close()
    found = registry.introspect(DatabaseRef("duckdb", str(path)), "own")
    assert set(REQUIRED_KEYS) <= found.entry.keys()
    schema = schema_from_entry(found.entry, str(path))
    assert [(fk.table, fk.column, fk.ref_table, fk.ref_column) for fk in schema.foreign_keys] == [
        ("player", "league", "team", "league"),
        ("player", "code", "team", "code"),
    ]
    assert schema.table("team").primary_key == ("league", "code") and schema.table("player").primary_key == ("id",)
    assert found.descriptions == {("player", "born"): "day of birth"}
    assert found.samples[("team", "code")] == ("x", "y") and found.samples[("player", "born")] == ()
