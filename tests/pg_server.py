"""A real PostgreSQL server for tests and benches, in a temporary folder, stopped when done.

``start_server(tmp_dir)`` finds the server binaries (``pg_config --bindir``, else the newest
``/usr/lib/postgresql/*/bin``; never PATH), runs ``initdb`` as an unprivileged user (PostgreSQL
refuses root: as root it runs them as the ``postgres`` system user, else ``nobody``) and starts
the server with ``pg_ctl -w`` on a Unix socket and a free loopback port, ``fsync=off`` and small
buffers. Local (socket) connections are trusted; loopback TCP ones need a password (SCRAM).

The cluster holds one database, ``workbench``, owned by the superuser ``workbench_admin``, with
two login roles that have passwords: ``workbench_owner`` (may create schemas: it writes) and
``workbench_reader`` (nothing but CONNECT until a copy grants it SELECT), and the ``dblink``
extension (so the tests can show it cannot be used to write). ``stop()`` (also run by a
finaliser at exit) stops the server immediately and removes its folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef

DATABASE = "workbench"
ADMIN, OWNER, READER = "workbench_admin", "workbench_owner", "workbench_reader"
# while a server runs, its roles' passwords are in these variables (worker processes inherit them)
PASSWORD_ENV = {OWNER: "WORKBENCH_TEST_PG_OWNER_PASSWORD", READER: "WORKBENCH_TEST_PG_READER_PASSWORD"}
MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found (looked in `pg_config --bindir` and "
    "/usr/lib/postgresql/*/bin): scripts/setup.sh installs the Debian `postgresql` package the tests need"
)


class PgServerError(RuntimeError):
    """The test server cannot be found or started; the message says why."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: ``pg_config --bindir``, else the newest Debian one."""
    candidates: list[Path] = []
    for pg_config in ("/usr/bin/pg_config", "/usr/local/bin/pg_config"):
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            continue

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PgServerError(MISSING)


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root; then ``postgres``, else ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PgServerError("running as root, and neither a `postgres` nor a `nobody` user exists to run the server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PgServer:
    bindir: Path
    root: Path  # everything of this server: data, socket, log
    port: int
    user: pwd.struct_passwd | None
    passwords: dict[str, str] = field(default_factory=dict)
    _finalizer: Any = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, role: str = READER, database: str = DATABASE) -> str:
        """A loopback TCP URL for ``role`` (no password in it: give it from the environment or the keyring)."""
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def socket_url(self, role: str = ADMIN, database: str = DATABASE) -> str:
        """A URL through the Unix socket, where every role is trusted (no password asked)."""
        return f"postgresql://{role}@/{database}?host={self.socket_dir}&port={self.port}"

    def connect(self, role: str = ADMIN, database: str = DATABASE) -> Any:
        """An autocommit psycopg connection through the socket (the tests' own, privileged access)."""
        import psycopg

        return psycopg.connect(self.socket_url(role, database), autocommit=True)

    def ref(self, role: str = READER, namespace: str = "", allow_privileged_role: bool = False) -> DatabaseRef:
        """A DatabaseRef to this server as ``role`` (its password from ``PASSWORD_ENV``), tables in ``namespace``."""
        options = (("reader_role", READER),) if role != READER else ()
        return DatabaseRef("postgres", self.url(role), namespace, PASSWORD_ENV.get(role, ""), allow_privileged_role,
                           options)  # fmt: skip

    def copy_databases(self, folder: Path) -> dict[str, DatabaseRef]:
        """Copy every ``<db_id>/<db_id>.sqlite`` under ``folder`` into schema ``db_id`` (as the owner, SELECT
        granted to the reader); the reader's refs by db_id."""
        refs = {}
        for sqlite_file in sorted(folder.glob("*/*.sqlite")):
            db_id = sqlite_file.parent.name
            registry.copy_from_sqlite(sqlite_file, self.ref(OWNER, db_id, allow_privileged_role=True))
            refs[db_id] = self.ref(READER, db_id)
        return refs

    def checksum(self) -> dict[str, Any]:
        """Everything a write could touch: each table's rows, the relations, functions, roles, large objects and
        sequences of the whole database (compare before and after)."""
        found: dict[str, Any] = {}
        with self.connect() as conn:
            tables = conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
            ).fetchall()
            for schema, table in tables:
                rows = sql_module().SQL("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t")
                (digest,) = conn.execute(rows.format(sql_module().Identifier(schema, table))).fetchone()
                found[f"{schema}.{table}"] = digest
            found["relations"] = conn.execute(
                "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2"
            ).fetchall()
            found["functions"] = conn.execute("SELECT count(*) FROM pg_proc").fetchone()
            found["roles"] = conn.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1").fetchall()
            found["large objects"] = conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
            found["sequences"] = conn.execute(
                "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
            ).fetchall()
        return found

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


def sql_module() -> Any:
    from psycopg import sql

    return sql


def _run(server_user: pwd.struct_passwd | None, args: list[str], what: str, log: Path | None = None) -> None:
    ids: dict[str, Any] = {}
    if server_user is not None:
        ids = {"user": server_user.pw_uid, "group": server_user.pw_gid, "extra_groups": []}
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": server_user.pw_dir if server_user else str(Path.home())}
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, **ids)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PgServerError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise PgServerError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()} {tail}".strip())


def _shutdown(bindir: Path, root: Path, server_user: pwd.struct_passwd | None) -> None:
    data = root / "data"
    pid_file = data / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(PgServerError):
            _run(server_user, [str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate", "-w", "-t", "30"],
                 "pg_ctl stop")  # fmt: skip
        if pid_file.exists():  # pg_ctl could not: end the postmaster ourselves (SIGQUIT = immediate)
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
    shutil.rmtree(root, ignore_errors=True)
    for variable in PASSWORD_ENV.values():
        os.environ.pop(variable, None)


def _reachable(path: Path, server_user: pwd.struct_passwd | None) -> bool:
    """Can the server's user reach ``path`` (every folder above it searchable by others)?"""
    if server_user is None:
        return True
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def start_server(tmp_dir: Path) -> PgServer:
    """Initialise and start a private PostgreSQL server under ``tmp_dir``; raises PgServerError saying why not.

    When the server's user cannot reach ``tmp_dir`` (pytest's temporary folders are private to
    root), the cluster goes in a fresh folder of the system's temporary directory instead.
    """
    bindir = find_bindir()
    server_user = _server_user()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    base = tmp_dir if _reachable(tmp_dir, server_user) else Path(tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix="pg-", dir=base))
    server = PgServer(
        bindir, root, _free_port(), server_user, {role: secrets.token_urlsafe(18) for role in (ADMIN, OWNER, READER)}
    )
    server._finalizer = weakref.finalize(server, _shutdown, bindir, root, server_user)
    server.socket_dir.mkdir()
    password_file = root / "admin-password"
    password_file.write_text(server.passwords[ADMIN])
    if server_user is not None:
        for path in (root, server.socket_dir, password_file):
            os.chown(path, server_user.pw_uid, server_user.pw_gid)
    os.chmod(root, 0o700)
    try:
        _run(server_user, [str(bindir / "initdb"), "-D", str(server.data_dir), "-U", ADMIN, "-E", "UTF8",
                           "--locale=C", "--no-sync", "--auth-local=trust", "--auth-host=scram-sha-256",
                           f"--pwfile={password_file}"], "initdb")  # fmt: skip
        password_file.unlink()
        settings = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={server.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB "
            "-c max_connections=60 -c max_wal_size=64MB"
        )
        _run(server_user, [str(bindir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(server.log_file), "-w",
                           "-t", "60", "-o", settings, "start"], "pg_ctl start", server.log_file)  # fmt: skip
        _create_roles(server)
        for role, variable in PASSWORD_ENV.items():
            os.environ[variable] = server.passwords[role]
    except BaseException:
        server.stop()
        raise
    return server


def _create_roles(server: PgServer) -> None:
    from psycopg import sql

    with server.connect(database="postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        for role in (OWNER, READER):
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(server.passwords[role])
                )
            )
    with server.connect() as conn:
        conn.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(DATABASE), sql.Identifier(OWNER))
        )
        conn.execute("CREATE EXTENSION dblink")
