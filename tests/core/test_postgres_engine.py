"""The PostgreSQL engine against a real server (tests/pg_server.py): the demo copied in, its gold
queries answering as on SQLite, hostile SQL changing nothing, and the role and password rules."""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import ADMIN, OWNER, READER, PgServer
from workbench.core.data.schema import REQUIRED_KEYS
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError, normalise_row
from workbench.core.sandbox import sqlexec
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
def demo_pg(pg_server: PgServer, demo_path: Path) -> dict[str, DatabaseRef]:
    """The demo's databases copied into the server, one schema each, with a few things for the attacks."""
    refs = pg_server.copy_databases(demo_path / "database")
    with pg_server.connect(OWNER) as conn:
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
    return refs


def checksum(server: PgServer) -> dict[str, Any]:
    """Everything a write could touch: each table's rows, the relations and functions, roles, large objects."""
    found: dict[str, Any] = {}
    with server.connect() as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            (digest,) = conn.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{schema}\".\"{table}\" t"
            ).fetchone()
            found[f"{schema}.{table}"] = digest
        found["relations"] = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2"
        ).fetchall()
        found["functions"] = conn.execute("SELECT count(*) FROM pg_proc").fetchone()
        found["roles"] = conn.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1").fetchall()
        found["large objects"] = conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
        found["sequence"] = conn.execute("SELECT last_value, is_called FROM traps.ticket").fetchone()
    return found


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
            expected = sqlexec.execute(demo_path / "database" / db_id / f"{db_id}.sqlite", sql)
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


def test_copy_keeps_types_keys_and_order_comparisons(demo_pg: dict[str, DatabaseRef], demo_path: Path) -> None:
    with registry.open_database(demo_pg["shop"], 10.0, 1000, 10_000_000) as db:
        out = db.execute("SELECT order_date FROM orders WHERE order_date > '2023-06-01' ORDER BY order_date LIMIT 1")
        assert isinstance(out, QueryResult) and isinstance(out.rows[0][0], str) and out.rows[0][0] > "2023-06-01"
        out = db.execute("SELECT unit_price, stock FROM product ORDER BY product_id LIMIT 1")
        assert isinstance(out, QueryResult) and isinstance(out.rows[0][0], float) and isinstance(out.rows[0][1], int)
    found = registry.introspect(demo_pg["shop"], "shop")
    assert set(REQUIRED_KEYS) <= set(found.entry)
    assert found.entry["table_names_original"] == ["customer", "product", "orders", "order_item"]
    names = [name for _, name in found.entry["column_names_original"]]
    order_item = [names.index("order_id", names.index("status")), len(names) - 2]
    assert order_item in found.entry["primary_keys"]  # the composite key of order_item
    assert len(found.entry["foreign_keys"]) == 3
    assert found.samples[("product", "category")]


def test_introspection_matches_the_sqlite_file_and_reads_comments(
    demo_pg: dict[str, DatabaseRef], demo_path: Path
) -> None:
    from workbench.core.data.introspect import introspect as introspect_sqlite

    found = registry.introspect(demo_pg["library"], "library")
    sqlite_schema = introspect_sqlite(demo_path / "database" / "library" / "library.sqlite", "library").raw
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
    ("SELECT * FROM dblink('host=/nonexistent dbname=workbench', 'DROP TABLE library.book') AS t(x text)", "runtime"),
    ("SELECT generate_series(1, 1000000000000)", "too_many_rows"),
    ("SELECT * FROM generate_series(1, 1e12)", "timeout"),
    ("SELECT repeat('x', 2000000) FROM generate_series(1, 100)", "too_large"),
    ("SELECT count(*) FROM generate_series(1, 1e12)", "timeout"),
]


@pytest.mark.parametrize("role", [READER, OWNER])
def test_hostile_sql_changes_nothing(role: str, pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    """As the read-only reader, and as the table owner let in with allow_privileged_role: the read-only
    transaction, the one-statement cursor and the bounds hold without the role check."""
    before = checksum(pg_server)
    ref = pg_server.ref(role, "library", allow_privileged_role=role != READER)
    dblink = (
        f"SELECT dblink_exec('host=127.0.0.1 port={pg_server.port} dbname=workbench user={READER} "
        f"password={pg_server.passwords[READER]}', 'DELETE FROM library.book')"
    )
    trusted = f"SELECT * FROM dblink('{pg_server.socket_url(ADMIN)}', 'DROP TABLE library.book') AS t(x text)"
    cases = [*HOSTILE, (dblink, "runtime" if role == READER else None), (trusted, "runtime")]
    outcomes = {}
    with registry.open_database(ref, 1.5, 10_000, 20_000_000) as db:
        for sql, _ in cases:
            outcomes[sql] = db.execute(sql)
        after_attacks = db.execute("SELECT current_setting('default_transaction_read_only'), current_user")
    wrong = {
        sql: str(outcomes[sql])
        for sql, kind in cases
        if ((kind is None and not isinstance(outcomes[sql], QueryResult)) and not (role != READER and sql == dblink))
        or (kind is not None and (not isinstance(outcomes[sql], QueryError) or outcomes[sql].kind != kind))
    }
    assert wrong == {}
    assert isinstance(after_attacks, QueryResult) and after_attacks.rows == [("on", role)]
    assert checksum(pg_server) == before
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


def refused(ref: DatabaseRef) -> str:
    with pytest.raises(EngineError) as caught:
        registry.open_database(ref, 5.0, 10, 1_000)
    assert registry.problem(ref) == str(caught.value)
    message = str(caught.value)
    assert "\n" not in message and "--allow-privileged-role" in message
    assert "CREATE ROLE reader LOGIN PASSWORD" in message and "GRANT SELECT ON ALL TABLES IN SCHEMA library" in message
    return message


def test_privileged_roles_are_refused_unless_allowed(pg_server: PgServer, demo_pg: dict[str, DatabaseRef]) -> None:
    superuser = DatabaseRef("postgres", pg_server.socket_url(ADMIN), "library")
    assert "refusing to connect as role workbench_admin: it is a superuser" in refused(superuser)
    assert "owns table library.author, library.book, library.loan" in refused(pg_server.ref(OWNER, "library"))
    with pg_server.connect() as admin:
        for name, grant in (
            ("writer", "GRANT INSERT ON library.loan TO {}"),
            ("creator", "GRANT CREATE ON SCHEMA library TO {}"),
            ("filer", "GRANT pg_read_server_files TO {}"),
        ):
            admin.execute(f"DROP ROLE IF EXISTS wb_{name}")
            admin.execute(f"CREATE ROLE wb_{name} LOGIN")
            admin.execute(f"GRANT USAGE ON SCHEMA library TO wb_{name}")
            admin.execute(grant.format(f"wb_{name}"))
    sock = pg_server.socket_url
    assert "may INSERT, UPDATE, DELETE or TRUNCATE table library.loan" in refused(
        DatabaseRef("postgres", sock("wb_writer"), "library")
    )
    assert "may CREATE in schema library" in refused(DatabaseRef("postgres", sock("wb_creator"), "library"))
    assert "is a member of pg_read_server_files" in refused(DatabaseRef("postgres", sock("wb_filer"), "library"))
    allowed = DatabaseRef("postgres", pg_server.socket_url(ADMIN), "library", allow_privileged_role=True)
    assert registry.problem(allowed) == ""
    before = checksum(pg_server)
    with registry.open_database(allowed, 5.0, 10, 1_000) as db:
        out = db.execute("WITH x AS (DELETE FROM loan RETURNING 1) SELECT count(*) FROM x")
        assert isinstance(out, QueryError) and out.kind == "denied"
        assert isinstance(db.execute("SELECT count(*) FROM loan"), QueryResult)
    assert checksum(pg_server) == before


def test_the_password_never_shows(
    pg_server: PgServer, demo_pg: dict[str, DatabaseRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = pg_server.passwords[READER]
    with registry.open_database(demo_pg["library"], 5.0, 10, 1_000) as db:
        echoed = db.execute(f"SELECT '{password}'::int")  # the server quotes the bad value back
        assert isinstance(echoed, QueryError) and password not in str(echoed) and "invalid input syntax" in str(echoed)
        assert password not in repr(db)
    monkeypatch.setenv("WB_WRONG", "not-the-password-" + password)
    wrong = DatabaseRef("postgres", pg_server.url(READER), "library", "WB_WRONG")
    problem = registry.problem(wrong)
    assert "password authentication failed" in problem and pg_server.url(READER) in problem
    assert password not in problem and "not-the-password" not in problem
    in_url = pg_server.url(READER).replace(f"{READER}@", f"{READER}:{password}@")
    for ref in (DatabaseRef("postgres", in_url, "library"), DatabaseRef("postgres", in_url + "?password=x", "")):
        with pytest.raises(EngineError) as caught:
            registry.open_database(ref, 5.0, 10, 1_000)
        assert "put it in the keyring or an environment variable" in str(caught.value)
        assert password not in str(caught.value)
    unset = DatabaseRef("postgres", pg_server.url(READER), "library", "WB_NOT_SET")
    assert "the environment variable WB_NOT_SET" in registry.problem(unset)


def test_the_password_comes_from_the_keyring_without_a_variable(
    pg_server: PgServer, demo_pg: dict[str, DatabaseRef], memory_keyring: Any
) -> None:
    ref = DatabaseRef("postgres", pg_server.url(READER), "library")
    assert "password" in registry.problem(ref)  # none anywhere: the server asks for one
    memory_keyring.set_password("workbench-postgres", pg_server.url(READER), pg_server.passwords[READER])
    assert registry.problem(ref) == ""
    with registry.open_database(ref, 5.0, 10, 1_000) as db:
        out = db.execute("SELECT current_user")
        assert isinstance(out, QueryResult) and out.rows == [(READER,)]


def test_problems_name_the_database(pg_server: PgServer, demo_pg: dict[str, DatabaseRef], tmp_path: Path) -> None:
    missing = pg_server.ref(READER, "no_such_db")
    assert registry.problem(missing).endswith("no schema no_such_db in this database")
    unreachable = DatabaseRef("postgres", "postgresql://workbench_reader@127.0.0.1:1/workbench", "library")
    assert "127.0.0.1:1/workbench#library: cannot connect" in registry.problem(unreachable)
    assert "not a PostgreSQL URL" in registry.problem(DatabaseRef("postgres", "mysql://x@y/z"))
    with pytest.raises(EngineError, match="allow_privileged_role"):
        registry.copy_from_sqlite(tmp_path / "x.sqlite", pg_server.ref(OWNER, "library"))


LOOSE_SQL = """
CREATE TABLE "Singer" (Singer_ID INTEGER PRIMARY KEY, Name TEXT, Born DATE, Height REAL, Votes, Photo BLOB);
CREATE TABLE concert (id INT, singer INTEGER REFERENCES Singer(Singer_ID), held DATETIME, fee NUMERIC, code INTEGER,
                      PRIMARY KEY (id, code));
CREATE TABLE orphan (a INTEGER REFERENCES "Singer"(Singer_ID), note VARCHAR(3));
INSERT INTO "Singer" VALUES (1, 'Ann', '1990-05-01', 1.7, 10, x'00ff'), (2, 'Bo', 'May 1990', 2, 'many', NULL),
                            (3, NULL, NULL, NULL, NULL, x'');
INSERT INTO concert VALUES (1, 1, '2020-01-02 20:00:00', 12.5, 7), (2, 2, '2021-03-04 19:30:00', 3, 8);
INSERT INTO orphan VALUES (99, 'much longer than three'), (1, 'nul' || char(0) || 'byte');
"""


def test_a_loosely_typed_sqlite_file_copies_whole(pg_server: PgServer, tmp_path: Path) -> None:
    """SQLite's loose typing (text in an INTEGER column, non-ISO dates, untyped columns, blobs) and keys that
    rows break: every row arrives, each column keeps the widest type its values allow, names in lower case."""
    from tests.conftest import make_db

    source = make_db(tmp_path / "loose.sqlite", LOOSE_SQL)
    owner = pg_server.ref(OWNER, "loose", allow_privileged_role=True)
    registry.copy_from_sqlite(source, owner)
    found = registry.introspect(pg_server.ref(READER, "loose"), "loose")
    assert found.entry["table_names_original"] == ["singer", "concert", "orphan"]
    types = dict(zip((n for _, n in found.entry["column_names_original"]), found.entry["column_types"], strict=True))
    assert types == {
        "*": "text", "singer_id": "bigint", "name": "text", "born": "text", "height": "double precision",
        "votes": "text", "photo": "bytea", "id": "bigint", "singer": "bigint", "held": "timestamp without time zone",
        "fee": "numeric", "code": "bigint", "a": "bigint", "note": "text",
    }  # fmt: skip
    assert len(found.entry["primary_keys"]) == 2 and [8, 1] in found.entry["foreign_keys"]
    assert all(pair[0] != 13 for pair in found.entry["foreign_keys"])  # orphan's key is broken by its rows: left out
    with registry.open_database(pg_server.ref(READER, "loose"), 5.0, 100, 1_000_000) as db:
        for sql in ("SELECT * FROM singer ORDER BY singer_id", "SELECT * FROM concert ORDER BY id",
                    "SELECT a, note FROM orphan ORDER BY a"):  # fmt: skip
            got = db.execute(sql)
            expected = sqlexec.execute(source, sql)
            assert isinstance(got, QueryResult) and isinstance(expected, QueryResult)
            if "orphan" in sql:  # PostgreSQL's text holds no NUL: it is dropped
                expected = QueryResult([(1, "nulbyte"), (99, "much longer than three")], [], 0.0)
            elif "singer" in sql:  # an untyped column mixing numbers and text becomes text
                expected = QueryResult([(1, "Ann", "1990-05-01", 1.7, "10", b"\x00\xff"),
                                        (2, "Bo", "May 1990", 2.0, "many", None), (3, None, None, None, None, b"")],
                                       [], 0.0)  # fmt: skip
            assert got.rows == [normalise_row(r) for r in expected.rows], sql
