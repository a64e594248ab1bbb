"""Reaching a PostgreSQL database safely: the password, the connection and the role check.

A URL never carries a password (``postgres_url.url_problem`` refuses one, here too before any
connection); the password comes from the environment variable ``ref.password_env`` names, else
the OS keyring (service ``workbench-postgres``, the URL as user name), else none. No message,
log or repr carries it: every text that leaves this module goes through :func:`scrub`.

Before any statement runs, :func:`check_role` refuses a role that could change anything (a
superuser; an owner of, or a writer to, any table of the schemas used; a role with CREATE on the
database or those schemas, CREATEROLE, or a member of the server-file roles) unless
``ref.allow_privileged_role``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import Any

from workbench.core import secrets
from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.engines.postgres_url import url_problem
from workbench.core.sandbox.bounded_pool import HANDED_PREFIX

KEYRING_SERVICE = "workbench-postgres"
CONNECT_TIMEOUT_S = 10
PRIVILEGED_FLAG = "--allow-privileged-role"
_SERVER_FILE_ROLES = ("pg_write_server_files", "pg_execute_server_program", "pg_read_server_files")
_MIN_SCRUBBED = 4  # a shorter password is replaced only through secrets.mask's own rules


def safe_url(url: str) -> str:
    """``url`` as messages show it: any password in it (``user:secret@`` or ``password=``) replaced by ``…``."""
    scheme, sep, rest = url.partition("://")
    if sep:
        authority, slash, tail = rest.partition("/")
        user, at, host = authority.rpartition("@")
        if at and ":" in user:
            authority = user.split(":", 1)[0] + ":…@" + host
        rest = authority + slash + tail
        url = scheme + sep + rest
    head, q, query = url.partition("?")
    if q:
        parts = [p.split("=", 1)[0] + "=…" if p.lower().startswith("password=") else p for p in query.split("&")]
        url = head + q + "&".join(parts)
    return url


def resolve_password(ref: DatabaseRef) -> str | None:
    """The password for ``ref``: its environment variable, else the keyring, else None.

    Whatever is found is handed to this process's worker processes with their tasks (``bounded_pool``): a
    worker's environment is the forkserver's, which may predate the variable, and its keyring may not reach it.
    """
    handed = handed_variable(ref)
    if ref.password_env:
        value = os.environ.get(ref.password_env) or os.environ.get(handed)
        if value is None:
            raise EngineError(
                f"{safe_url(ref.label())}: the environment variable {ref.password_env} "
                "(named for its password) is not set"
            )
    elif handed in os.environ:  # read by the process that started this worker
        value = os.environ[handed]
    else:
        value = _from_keyring(ref)
        if value is None:
            return None
    secrets.remember(value)
    os.environ[handed] = value
    return value


def _from_keyring(ref: DatabaseRef) -> str | None:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        value: str | None = keyring.get_password(KEYRING_SERVICE, ref.location)
    except (keyring.errors.KeyringError, RuntimeError, OSError):
        return None
    return value


def handed_variable(ref: DatabaseRef) -> str:
    """The variable a password is handed to worker processes in: named by a digest of the URL and of where the
    password comes from (its variable, or the keyring), so the name says nothing of either."""
    source = f"{ref.location}\0{ref.password_env}".encode()
    return HANDED_PREFIX + "PG_" + hashlib.blake2b(source, digest_size=8).hexdigest()


def store_password(ref: DatabaseRef, password: str) -> None:
    """Keep ``password`` for ``ref``'s URL in the OS keyring (where ``resolve_password`` finds it); raises
    EngineError when no secure keyring is available (it is never written anywhere else)."""
    import keyring
    import keyring.errors

    secrets.remember(password)
    os.environ.pop(handed_variable(replace(ref, password_env="")), None)  # read the keyring's again
    try:
        keyring.set_password(KEYRING_SERVICE, ref.location, password)
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        raise EngineError(f"{safe_url(ref.location)}: no secure keyring to keep the password in ({exc})") from None


def scrub(text: str, password: str | None) -> str:
    """``text`` with ``password`` (and any key-like string) hidden."""
    text = secrets.mask(text, [password])
    if password and len(password) >= _MIN_SCRUBBED:
        text = text.replace(password, secrets.ELLIPSIS)
    return text


def first_line(exc: BaseException) -> str:
    """The server's or driver's message, on one line (the server's primary message alone, without our cursor's text)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = " ".join(str(primary or exc).split())
    return text or type(exc).__name__


def connect(ref: DatabaseRef, password: str | None, options: str = "") -> Any:
    """A psycopg connection to ``ref`` (transactions, no autocommit); EngineError naming the URL when it fails."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    problem = url_problem(ref.location)
    if problem:
        raise EngineError(f"{safe_url(ref.label())}: {problem}")
    try:
        given = str(conninfo_to_dict(ref.location).get("options") or "")  # the URL's own (e.g. -c search_path=...)
        conn = psycopg.connect(
            ref.location,
            password=password,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="workbench",
            options=f"{given} {options}".strip(),
            prepare_threshold=None,  # never prepared: every session reset (DISCARD ALL) stays cheap and complete
        )
    except psycopg.Error as exc:
        raise EngineError(scrub(f"{safe_url(ref.label())}: cannot connect: {first_line(exc)}", password)) from None
    return conn


def _schemas(cur: Any, ref: DatabaseRef) -> list[str]:
    if ref.namespace:
        return [ref.namespace]
    cur.execute("SELECT unnest(current_schemas(false))")
    return [str(r[0]) for r in cur.fetchall()]


def privileges(conn: Any, ref: DatabaseRef) -> list[str]:
    """What the connected role could change, in words (empty: it can only read)."""
    found: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        superuser, createrole = cur.fetchone() or (False, False)
        if superuser:
            return ["is a superuser"]
        if createrole:
            found.append("may create roles (CREATEROLE)")
        schemas = _schemas(cur, ref)
        cur.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        if (cur.fetchone() or (False,))[0]:
            found.append("may CREATE in the database")
        cur.execute(
            "SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY(%s) AND has_schema_privilege(n.oid, 'CREATE')",
            (schemas,),
        )
        found += [f"may CREATE in schema {r[0]}" for r in cur.fetchall()]
        tables = (
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {} ORDER BY 1 LIMIT 3"
        )
        cur.execute(
            "SELECT n.nspname || '.' || c.relname " + tables.format("pg_has_role(c.relowner, 'USAGE')"), (schemas,)
        )
        owned = [str(r[0]) for r in cur.fetchall()]
        if owned:
            found.append("owns table " + ", ".join(owned))
        writable = "has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')"
        cur.execute("SELECT n.nspname || '.' || c.relname " + tables.format(writable), (schemas,))
        written = [str(r[0]) for r in cur.fetchall()]
        if written:
            found.append("may INSERT, UPDATE, DELETE or TRUNCATE table " + ", ".join(written))
        cur.execute("SELECT r FROM unnest(%s::text[]) AS r WHERE pg_has_role(r, 'MEMBER')", (list(_SERVER_FILE_ROLES),))
        found += [f"is a member of {r[0]}" for r in cur.fetchall()]
    conn.rollback()
    return found


def check_role(conn: Any, ref: DatabaseRef, password: str | None) -> None:
    """Refuse (EngineError, one line) a role that could write, unless ``ref.allow_privileged_role``."""
    if ref.allow_privileged_role:
        return
    import psycopg

    try:
        found = privileges(conn, ref)
        role = conn.info.user
    except psycopg.Error as exc:
        raise EngineError(
            scrub(f"{safe_url(ref.label())}: cannot check the role: {first_line(exc)}", password)
        ) from None
    if not found:
        return
    schema = ref.namespace or "public"
    raise EngineError(
        scrub(
            f"{safe_url(ref.label())}: refusing to connect as role {role}: it {'; it '.join(found)}, so a query "
            "could change the database. Connect as a read-only role instead: CREATE ROLE reader LOGIN PASSWORD '…'; "
            f"GRANT USAGE ON SCHEMA {schema} TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO reader; "
            f"(or pass {PRIVILEGED_FLAG} to connect as this role anyway)",
            password,
        )
    )
