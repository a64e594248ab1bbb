"""The sandbox never changes or locks a database, whatever SQL it is given: on its own connection
(``SandboxedDatabase``) and through the product's one-statement path (``registry.execute_one``)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_db, undecodable_schema
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.sandbox.sqlexec import Outcome, QueryError, QueryResult, SandboxedDatabase, table_columns

SCHEMA = """
CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);
INSERT INTO person VALUES (1, 'Ada', 36), (2, 'Bram', NULL), (3, 'Chioma', 51);
CREATE TABLE pet (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES person(id), kind TEXT);
INSERT INTO pet VALUES (1, 1, 'cat'), (2, 3, 'dog');
"""

HOSTILE = [
    "DROP TABLE person",
    "DELETE FROM person",
    "DELETE FROM person WHERE id = 1",
    "UPDATE person SET name = 'x'",
    "INSERT INTO person VALUES (9, 'Eve', 1)",
    "INSERT OR REPLACE INTO person VALUES (1, 'Eve', 1)",
    "REPLACE INTO person VALUES (1, 'Eve', 1)",
    "CREATE TABLE evil (x)",
    "CREATE TEMP TABLE evil (x)",
    "CREATE INDEX idx ON person(name)",
    "CREATE VIEW v AS SELECT 1",
    "CREATE TRIGGER t AFTER INSERT ON person BEGIN DELETE FROM pet; END",
    "ALTER TABLE person ADD COLUMN evil TEXT",
    "ALTER TABLE person RENAME TO people",
    "DROP INDEX IF EXISTS sqlite_autoindex_person_1",
    "ATTACH DATABASE '/tmp/evil.db' AS evil",
    "ATTACH ':memory:' AS m",
    "DETACH DATABASE main",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA query_only = OFF",
    "PRAGMA user_version = 7",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA table_info(person)",
    "VACUUM",
    "VACUUM INTO '/tmp/workbench-evil-copy.db'",
    "REINDEX",
    "ANALYZE",
    "BEGIN EXCLUSIVE",
    "BEGIN IMMEDIATE; DELETE FROM person; COMMIT",
    "SAVEPOINT s1",
    "SELECT 1; DROP TABLE person",
    "SELECT * FROM person; DELETE FROM person",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT load_extension('libc.so.6', 'system')",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x FROM c) SELECT * FROM c",
    "SELECT count(*) FROM person a, person b, person c, person d, person e, person f, person g, person h, "
    "person i, person j, person k, person l, person m, person n, person o, person p, person q, person r",
    "SELECT randomblob(2000000000)",
    "SELECT zeroblob(2000000000)",
    "SELECT printf('%.*c', 2000000000, 'x')",
    "SELECT replace(hex(randomblob(5000000)), '0', hex(randomblob(5000000)))",
    "SELECT * FROM sqlite_master; UPDATE person SET age = 0",
    "UPDATE sqlite_master SET sql = 'x'",
    "INSERT INTO person SELECT * FROM person",
    "SELECT writefile('/tmp/evil', 'x')",
    "SELECT edit('x')",
    "DELETE FROM person RETURNING *",
]


def execute_one(path: Path, sql: str, timeout_s: float = 10.0, max_rows: int = 100_000) -> Outcome:
    """One statement on the SQLite file ``path`` as the product runs one (a fresh connection each)."""
    return registry.execute_one(DatabaseRef("sqlite", str(path)), sql, timeout_s, max_rows)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    return make_db(tmp_path / "people.sqlite", SCHEMA)


def test_reads_rows_and_columns(db_path: Path) -> None:
    out = execute_one(db_path, "SELECT name, age FROM person ORDER BY id")
    assert isinstance(out, QueryResult)
    assert out.rows == [("Ada", 36), ("Bram", None), ("Chioma", 51)]
    assert out.columns == ["name", "age"]


def test_at_least_forty_hostile_statements(db_path: Path) -> None:
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_changes_nothing_and_locks_nothing(db_path: Path, sql: str) -> None:
    before = digest(db_path)
    with SandboxedDatabase(db_path, timeout_s=0.5, max_rows=1000) as db:
        out = db.execute(sql)
        # the same connection still works afterwards
        assert isinstance(db.execute("SELECT count(*) FROM person"), QueryResult)
    assert isinstance(out, QueryError), f"{sql!r} was allowed: {out}"
    assert digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["people.sqlite"]  # no journal, no WAL
    assert not Path("/tmp/workbench-evil-copy.db").exists()
    assert isinstance(execute_one(db_path, sql, timeout_s=0.5, max_rows=1000), QueryError)  # the product's path
    assert digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["people.sqlite"]
    # nobody holds a lock: a writer can take an exclusive lock at once
    writer = sqlite3.connect(db_path, timeout=0)
    writer.execute("BEGIN EXCLUSIVE")
    writer.rollback()
    writer.close()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DROP TABLE person", "denied"),
        ("SELECT 1; SELECT 2", "denied"),
        ("SELECT name FROM person WHERE", "syntax"),
        ("SELEC name FROM person", "denied"),
        ("SELECT nope FROM person", "runtime"),
        ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c", "timeout"),
        ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000) SELECT x FROM c", "too_many_rows"),
        ("SELECT randomblob(2000000000)", "runtime"),
    ],
)
def test_errors_are_typed(db_path: Path, sql: str, kind: str) -> None:
    out = execute_one(db_path, sql, timeout_s=0.3, max_rows=1000)
    assert isinstance(out, QueryError)
    assert out.kind == kind, out


def test_missing_and_corrupt_files_are_open_errors(tmp_path: Path) -> None:
    missing = execute_one(tmp_path / "none.sqlite", "SELECT 1")
    assert isinstance(missing, QueryError) and missing.kind == "open" and "none.sqlite" in missing.message
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(os.urandom(4096))
    corrupt = execute_one(bad, "SELECT 1")
    assert isinstance(corrupt, QueryError) and corrupt.kind == "open"
    assert "bad.sqlite" in corrupt.message


def test_schema_text_that_is_not_utf8_is_an_open_error(tmp_path: Path) -> None:
    """SQLite's message about it is not UTF-8 either: the sqlite3 module cannot even decode it."""
    bad = undecodable_schema(tmp_path / "bad.sqlite")
    outcome = execute_one(bad, "SELECT 1")
    assert isinstance(outcome, QueryError) and outcome.kind == "open"
    assert "not UTF-8" in outcome.message and "bad.sqlite" in outcome.message
    with pytest.raises(sqlite3.DatabaseError, match="not UTF-8"):
        table_columns(bad)


def test_one_connection_serves_many_statements_past_a_refused_one(db_path: Path) -> None:
    with registry.open_database(DatabaseRef("sqlite", str(db_path))) as db:
        outs = [db.execute(sql) for sql in ("SELECT 1", "DROP TABLE pet", "SELECT count(*) FROM pet")]
    assert [type(o).__name__ for o in outs] == ["QueryResult", "QueryError", "QueryResult"]
    assert outs[2].rows == [(2,)]  # type: ignore[union-attr]


def test_invalid_utf8_text_is_decoded_lossily(tmp_path: Path) -> None:
    path = make_db(tmp_path / "bytes.sqlite", "CREATE TABLE t (x TEXT);")
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO t VALUES (CAST(X'41FF42' AS TEXT))")
    conn.commit()
    conn.close()
    out = execute_one(path, "SELECT x FROM t")
    assert isinstance(out, QueryResult) and out.rows == [("AB",)]
