"""The PostgreSQL engine's role and password rules, against a real server (tests/pg_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import ADMIN, OWNER, READER, PgServer
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.sandbox.sqlexec import QueryError, QueryResult


def refused(ref: DatabaseRef) -> str:
    with pytest.raises(EngineError) as caught:
        registry.open_database(ref, 5.0, 10, 1_000)
    assert registry.problem(ref) == str(caught.value)
    message = str(caught.value)
    assert "\n" not in message and "--allow-privileged-role" in message
    assert "CREATE ROLE reader LOGIN PASSWORD" in message and "GRANT SELECT ON ALL TABLES IN SCHEMA library" in message
    return message


def test_privileged_roles_are_refused_unless_allowed(pg_server: PgServer, pg_demo: dict[str, DatabaseRef]) -> None:
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
    before = pg_server.checksum()
    with registry.open_database(allowed, 5.0, 10, 1_000) as db:
        out = db.execute("WITH x AS (DELETE FROM loan RETURNING 1) SELECT count(*) FROM x")
        assert isinstance(out, QueryError) and out.kind == "denied"
        assert isinstance(db.execute("SELECT count(*) FROM loan"), QueryResult)
    assert pg_server.checksum() == before


def test_the_password_never_shows(
    pg_server: PgServer, pg_demo: dict[str, DatabaseRef], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = pg_server.passwords[READER]
    with registry.open_database(pg_demo["library"], 5.0, 10, 1_000) as db:
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
    pg_server: PgServer, pg_demo: dict[str, DatabaseRef], memory_keyring: Any
) -> None:
    ref = DatabaseRef("postgres", pg_server.url(READER), "library")
    assert "password" in registry.problem(ref)  # none anywhere: the server asks for one
    memory_keyring.set_password("workbench-postgres", pg_server.url(READER), pg_server.passwords[READER])
    assert registry.problem(ref) == ""
    with registry.open_database(ref, 5.0, 10, 1_000) as db:
        out = db.execute("SELECT current_user")
        assert isinstance(out, QueryResult) and out.rows == [(READER,)]


def test_problems_name_the_database(pg_server: PgServer, pg_demo: dict[str, DatabaseRef], tmp_path: Path) -> None:
    missing = pg_server.ref(READER, "no_such_db")
    assert registry.problem(missing).endswith("no schema no_such_db in this database")
    unreachable = DatabaseRef("postgres", "postgresql://workbench_reader@127.0.0.1:1/workbench", "library")
    assert "127.0.0.1:1/workbench#library: cannot connect" in registry.problem(unreachable)
    assert "mysql://x@y/z: expected a URL starting postgresql://" in registry.problem(
        DatabaseRef("postgres", "mysql://x@y/z")
    )
    with pytest.raises(EngineError, match="allow_privileged_role"):
        registry.copy_from_sqlite(tmp_path / "x.sqlite", pg_server.ref(OWNER, "library"))
