"""The PostgreSQL engine against a real server (tests/pg_server.py): the demo copied in, its gold
queries answering as on SQLite, introspection, and hostile SQL changing nothing."""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import ADMIN, OWNER, READER, PgServer
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, normalise_row
from workbench.core.sandbox.sqlexec import QueryError, QueryResult

# gold queries whose result really differs between SQLite and PostgreSQL (query -> why)
GROUPED = "PostgreSQL refuses a selected column that is neither grouped nor functionally dependent on the GROUP BY"
NULLS = "NULL sorts first under ORDER BY ... DESC on PostgreSQL, last on SQLite"
DIALECT_DIFFERENCES: dict[str, str] = {
    (
        "SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre "
        "= 'History' GROUP BY T1.book_id ORDER BY count(*) DESC LIMIT 3"
    ): GROUPED,
    (
        "SELECT T2.title FROM loan AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre "
        "= 'Mystery' GROUP BY T1.book_id ORDER BY count(*) DESC LIMIT 3"
    ): GROUPED,
    (
        "SELECT T2.name, count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = "
        "T2.doctor_id WHERE T2.specialty = 'Pediatrics' GROUP BY T1.doctor_id"
    ): GROUPED,
    (
        "SELECT T2.name, count(*) FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = "
        "T2.doctor_id WHERE T2.specialty = 'Neurology' GROUP BY T1.doctor_id"
    ): GROUPED,
    (
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "GROUP BY T1.doctor_id HAVING count(DISTINCT T1.patient_id) > 9"
    ): GROUPED,
    (
        "SELECT T2.name FROM appointment AS T1 JOIN doctor AS T2 ON T1.doctor_id = T2.doctor_id "
        "GROUP BY T1.doctor_id HAVING count(DISTINCT T1.patient_id) > 10"
    ): GROUPED,
    (
        "SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = "
        "T2.patient_id ORDER BY T1.fee DESC LIMIT 1"
    ): NULLS,
    (
        "SELECT T2.name, T1.visit_date FROM appointment AS T1 JOIN patient AS T2 ON T1.patient_id = "
        "T2.patient_id ORDER BY T1.fee DESC LIMIT 2"
    ): NULLS,
    (
        "SELECT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id GROUP BY "
        "T1.line_id HAVING sum(T1.passengers) > 3000"
    ): GROUPED,
    (
        "SELECT T2.name FROM trip AS T1 JOIN line AS T2 ON T1.line_id = T2.line_id GROUP BY "
        "T1.line_id HAVING sum(T1.passengers) > 4000"
    ): GROUPED,
    (
        "SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "GROUP BY T1.customer_id HAVING count(*) > 0"
    ): GROUPED,
    (
        "SELECT T2.name FROM orders AS T1 JOIN customer AS T2 ON T1.customer_id = T2.customer_id "
        "GROUP BY T1.customer_id HAVING count(*) > 2"
    ): GROUPED,
}


@pytest.fixture(scope="module")
def demo_pg(pg_server: PgServer, pg_demo: dict[str, DatabaseRef]) -> dict[str, DatabaseRef]:
    """The demo in the server, with a few things for the attacks (in schema traps) and a column comment."""
    with pg_server.connect(OWNER) as conn:
        conn.execute("DROP SCHEMA IF EXISTS traps CASCADE")
        conn.execute("CREATE SCHEMA traps")  # the attacks' own objects, beside the copied schemas
        conn.execute("GRANT USAGE ON SCHEMA traps TO workbench_reader")
        conn.execute("CREATE SEQUENCE traps.ticket")
        conn.execute("CREATE TABLE traps.audit (note text)")
        for name, security in (("add_book", "INVOKER"), ("add_book_definer", "DEFINER")):
            conn.execute(
                f"CREATE FUNCTION traps.{name}() RETURNS int LANGUAGE sql VOLATILE SECURITY {security} "
                "AS $$ INSERT INTO traps.audit VALUES ('written'); SELECT 1 $$"
            )
        conn.execute("GRANT SELECT ON traps.audit TO workbench_reader")
        conn.execute("COMMENT ON COLUMN library.book.title IS 'The title as printed on the cover'")
    return pg_demo


def gold_lines(demo_path: Path) -> list[tuple[str, str]]:
    lines = (demo_path / "dev_gold.sql").read_text().splitlines()
    return [(sql, db_id) for sql, db_id in (line.rsplit("\t", 1) for line in lines if line.strip())]


def comparable(rows: list[tuple[Any, ...]]) -> collections.Counter[tuple[Any, ...]]:
    return collections.Counter(tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows)


def test_every_demo_gold_query_gives_sqlite_rows(demo_pg: dict[str, DatabaseRef], demo_path: Path) -> None:
    different = {}
    open_dbs = {db_id: registry.open_database(ref, 10.0, 100_000, 50_000_000) for db_id, ref in demo_pg.items()}
    try:
        for sql, db_id in gold_lines(demo_path):
            expected = registry.execute_one(
                DatabaseRef("sqlite", str(demo_path / "database" / db_id / f"{db_id}.sqlite")), sql
            )
            got = open_dbs[db_id].execute(sql)
            assert isinstance(expected, QueryResult), sql
            if not isinstance(got, QueryResult) or comparable(got.rows) != comparable(
                [normalise_row(r) for r in expected.rows]
            ):
                different[sql] = got
    finally:
        for db in open_dbs.values():
            db.close()
    unexplained = {sql: str(got) for sql, got in different.items() if sql not in DIALECT_DIFFERENCES}
    assert unexplained == {}
    assert sorted(different) == sorted(DIALECT_DIFFERENCES)  # each listed difference is still one
    assert len(gold_lines(demo_path)) > 50


def test_introspection_matches_the_sqlite_file_and_reads_comments(
    demo_pg: dict[str, DatabaseRef], demo_path: Path
) -> None:
    from workbench.core.data.introspect import introspect as introspect_sqlite

    found = registry.introspect(demo_pg["library"], "library")
    library = DatabaseRef("sqlite", str(demo_path / "database" / "library" / "library.sqlite"))
    sqlite_schema = introspect_sqlite(library, "library").raw
    for key in ("table_names_original", "column_names_original", "primary_keys", "column_names"):
        assert found.entry[key] == sqlite_schema[key], key
    assert sorted(found.entry["foreign_keys"]) == sorted(sqlite_schema["foreign_keys"])
    assert found.entry["column_types"][:3] == ["text", "bigint", "text"]
    assert found.descriptions == {("book", "title"): "The title as printed on the cover"}
    assert len(found.samples[("book", "genre")]) == 3
    assert registry.identity(demo_pg["library"]) is None


HOSTILE: list[tuple[str, str | None]] = [  # (SQL, the kind it must fail with; None: it may run, changing nothing)
    ("COPY library.book TO PROGRAM 'touch /tmp/workbench-pwned'", "denied"),
    ("COPY library.book TO '/tmp/workbench-pwned'", "denied"),
    ("SELECT 1; DROP TABLE library.book", "denied"),
    ("SELECT count(*) FROM book; DELETE FROM book", "denied"),
    ("BEGIN; DROP TABLE library.book; COMMIT", "denied"),
    ("DELETE FROM book", "denied"),
    ("CREATE TEMP TABLE t AS SELECT * FROM book", "denied"),
    ("SELECT * INTO TEMP stolen FROM book", "syntax"),
    ("WITH gone AS (DELETE FROM book RETURNING *) SELECT * FROM gone", "denied"),
    ("SELECT * FROM book FOR UPDATE", "denied"),
    ("NOTIFY workbench", "denied"),
    ("SET ROLE workbench_owner", "denied"),
    ("SET SESSION AUTHORIZATION workbench_admin", "denied"),
    ("RESET ALL", "denied"),
    ("SELECT set_config('role', 'workbench_admin', false)", "denied"),
    ("SET ROLE workbench_admin", "denied"),
    ("SELECT set_config('session_authorization', 'workbench_admin', false)", "denied"),
    (
        "SELECT set_config('default_transaction_read_only', 'off', false), set_config('search_path', 'public', false)",
        None,
    ),
    ("SELECT set_config('transaction_read_only', 'off', true)", "runtime"),
    ("SELECT lo_import('/etc/hostname')", "denied"),
    ("SELECT lo_from_bytea(0, 'x')", None),  # runs (a read-only transaction allows it), and is rolled back
    ("SELECT pg_read_file('/etc/hostname')", "denied"),
    ("SELECT traps.add_book()", "denied"),
    ("SELECT traps.add_book_definer()", "denied"),
    ("SELECT nextval('traps.ticket')", "denied"),
    ("SELECT setval('traps.ticket', 99)", "denied"),
    ("SELECT txid_current()", None),
    ("SELECT pg_notify('workbench', 'x')", None),
    ("SELECT pg_advisory_lock(42)", None),
    ("SELECT pg_cancel_backend(pg_backend_pid())", None),
    (
        "SELECT * FROM public.dblink('host=/nonexistent dbname=workbench', 'DROP TABLE library.book') AS t(x text)",
        "runtime",
    ),
    ("SELECT generate_series(1, 1000000000000)", "too_many_rows"),
    ("SELECT * FROM generate_series(1, 1e12)", "timeout"),
    ("SELECT repeat('x', 2000000) FROM generate_series(1, 100)", "too_large"),
    ("SELECT count(*) FROM generate_series(1, 1e12)", "timeout"),
]


@pytest.mark.parametrize("role", [READER, OWNER])
def test_hostile_sql_changes_nothing(role: str, pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    """As the read-only reader, and as the table owner let in with allow_privileged_role: the read-only
    transaction, the one-statement cursor and the bounds hold without the role check."""
    before = pg_server.checksum()
    ref = pg_server.ref(role, "library", allow_privileged_role=role != READER)
    # dblink's own session is not read-only: it writes only as a role whose password the query holds (the
    # reader's here, which may not write), and a trusted (passwordless) connection is refused to non-superusers
    dblink = (
        f"SELECT public.dblink_exec('host=127.0.0.1 port={pg_server.port} dbname=workbench user={READER} "
        f"password={pg_server.passwords[READER]}', 'DELETE FROM library.book')"
    )
    trusted = f"SELECT * FROM public.dblink('{pg_server.socket_url(ADMIN)}', 'DROP TABLE library.book') AS t(x text)"
    cases = [*HOSTILE, (dblink, "denied"), (trusted, "runtime")]
    outcomes = {}
    with registry.open_database(ref, 1.5, 10_000, 20_000_000) as db:
        for sql, _ in cases:
            outcomes[sql] = db.execute(sql)
        after_attacks = db.execute("SELECT current_setting('default_transaction_read_only'), current_user")
    wrong = {
        sql: str(outcomes[sql])
        for sql, kind in cases
        if (kind is None and not isinstance(outcomes[sql], QueryResult))
        or (kind is not None and (not isinstance(outcomes[sql], QueryError) or outcomes[sql].kind != kind))
    }
    assert wrong == {}
    assert isinstance(after_attacks, QueryResult) and after_attacks.rows == [("on", role)]
    assert pg_server.checksum() == before
    assert not Path("/tmp/workbench-pwned").exists()


def test_a_timeout_really_stops_the_backend_query(pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    logged = len(pg_server.log_file.read_text())
    with registry.open_database(demo_pg["library"], 1.0, 100, 1_000_000) as db:
        start = time.monotonic()
        out = db.execute("SELECT pg_sleep(60)")
        assert isinstance(out, QueryError) and out.kind == "timeout" and str(out) == "timeout: exceeded 1 s"
        assert time.monotonic() - start < 3
        with pg_server.connect() as admin:
            running = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
        assert running == (0,)
        again = db.execute("SELECT count(*) FROM book")  # the same session goes on
        assert isinstance(again, QueryResult) and again.rows[0][0] > 0
    # our cancel stopped it, before the server's own statement_timeout (a second later) would have
    since = pg_server.log_file.read_text()[logged:]
    assert "canceling statement due to user request" in since and "statement timeout" not in since


def test_a_query_waiting_for_a_lock_stops(pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    with pg_server.connect() as admin, admin.transaction():
        admin.execute("LOCK TABLE library.member IN ACCESS EXCLUSIVE MODE")
        with registry.open_database(demo_pg["library"], 10.0, 100, 1_000_000) as db:
            start = time.monotonic()
            out = db.execute("SELECT count(*) FROM member")
        assert isinstance(out, QueryError) and str(out) == "timeout: waited more than 1 s for a lock"
        assert time.monotonic() - start < 5


def test_session_state_is_dropped_after_every_statement(pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    with registry.open_database(demo_pg["library"], 5.0, 100, 1_000_000) as db:
        assert isinstance(db.execute("SELECT pg_advisory_lock(4242)"), QueryResult)
        with pg_server.connect() as admin:
            assert admin.execute("SELECT pg_try_advisory_lock(4242)").fetchone() == (True,)
            admin.execute("LISTEN workbench_probe")
            assert isinstance(db.execute("SELECT pg_notify('workbench_probe', 'leak')"), QueryResult)
            assert list(admin.notifies(timeout=0.5, stop_after=1)) == []
        assert isinstance(db.execute("SELECT set_config('application_name', 'leaked', false)"), QueryResult)
        out = db.execute("SELECT current_setting('application_name'), current_setting('search_path')")
        assert isinstance(out, QueryResult) and out.rows == [("workbench", "library")]


def test_a_killed_session_is_reopened(demo_pg: dict[str, DatabaseRef]) -> None:
    with registry.open_database(demo_pg["library"], 5.0, 100, 1_000_000) as db:
        out = db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert isinstance(out, QueryError) and out.kind == "open"
        again = db.execute("SELECT count(*) FROM author")
        assert isinstance(again, QueryResult) and again.rows[0][0] > 0
