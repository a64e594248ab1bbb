"""Shared fixtures: the bundled demo dataset and small SQLite files built per test.

Tests never write outside their temporary folders: every XDG folder (where the app keeps
its store, profiles, logs, caches and models) points into the test's ``tmp_path``, and a
check at the end of the session fails it when anything new appeared under the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.paths import DEMO_DATASET

SHARED_SPIDER = Path(__file__).resolve().parents[2] / "shared" / "spider"
XDG_FOLDERS = {
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
    "XDG_CACHE_HOME": "cache",
}
_HOME = Path.home()
WATCHED = [_HOME / ".config", _HOME / ".local" / "share", _HOME / ".local" / "state", _HOME / ".cache"]
_WATCH_DEPTH = 3  # below that, only folders of ours are listed in full


def home_listing() -> set[str]:
    """What the real home folders hold: every path up to three levels down, and all of any folder of ours."""
    found: set[str] = set()
    for top in WATCHED:
        for folder, dirs, files in os.walk(top):
            depth = len(Path(folder).relative_to(top).parts)
            ours = "workbench" in Path(folder).relative_to(top).parts
            found.update(os.path.join(folder, name) for name in dirs + files)
            if depth + 1 >= _WATCH_DEPTH and not ours:
                dirs[:] = [d for d in dirs if d == "workbench"]
    return found


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BEFORE] = home_listing()
    session_home = Path(tempfile.mkdtemp(prefix="workbench-tests-"))
    config.stash[_SESSION_HOME] = session_home
    for variable, name in XDG_FOLDERS.items():  # for whatever runs outside a test (collection, session fixtures)
        os.environ[variable] = str(session_home / name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None:
        return
    new = sorted(home_listing() - before)
    if new:
        shown = "\n  ".join(new[:20]) + (f"\n  … and {len(new) - 20} more" if len(new) > 20 else "")
        print(f"\nerror: the tests wrote outside their temporary folders:\n  {shown}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    shutil.rmtree(session.config.stash[_SESSION_HOME], ignore_errors=True)


_BEFORE = pytest.StashKey[set[str]]()
_SESSION_HOME = pytest.StashKey[Path]()


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every folder the app would use (store, profiles, logs, caches, models) lies in this test's tmp_path."""
    home = tmp_path / "xdg"
    for variable, name in XDG_FOLDERS.items():
        monkeypatch.setenv(variable, str(home / name))
    yield home


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return DEMO_DATASET


@pytest.fixture()
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo dataset that a test may damage."""
    dest = tmp_path / "demo"
    shutil.copytree(DEMO_DATASET, dest, ignore=shutil.ignore_patterns("source", "*.py", "__pycache__"))
    return dest


def repeated_demo(folder: Path, size: int) -> Path:
    """A Spider-format copy of the demo whose dev split repeats its questions up to ``size``.

    Each copy's question is marked ("… [copy 3]"), so every request is distinct; the test
    server still answers it with the original's gold SQL; databases are the demo's (linked).
    """
    dest = folder / "demo-large"
    dest.mkdir(parents=True)
    shutil.copy(DEMO_DATASET / "tables.json", dest / "tables.json")
    shutil.copy(DEMO_DATASET / "train.json", dest / "train.json")
    (dest / "database").symlink_to(DEMO_DATASET / "database")
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    rows = []
    for i in range(size):
        row = dict(dev[i % len(dev)])
        if i >= len(dev):
            row["question"] = f"{row['question']} [copy {i // len(dev)}]"
        rows.append(row)
    (dest / "dev.json").write_text(json.dumps(rows))
    return dest


def make_db(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def openai_server(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A running OpenAI-protocol test server; configure with @pytest.mark.server(**ServerConfig fields)."""
    from tests.servers.openai import ServerConfig, ServerThread, load_answers

    marker = request.node.get_closest_marker("server")
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("answers", load_answers(DEMO_DATASET))
    with ServerThread(ServerConfig(**options)) as server:
        yield server


@pytest.fixture(autouse=True)
def memory_keyring():  # type: ignore[no-untyped-def]
    """Tests never touch a real OS keyring: an in-memory backend stands in for it."""
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.secrets: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.secrets.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.secrets[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.secrets.pop((service, username), None)

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


class ServerProcess:
    """The test server in its own process (its own GIL and clock), stats over HTTP."""

    def __init__(self, *args: str) -> None:
        import subprocess
        import sys

        root = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.servers.openai", "--port", "0", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"test server did not start: {line!r}")
        self.base_url = line.split()[-1]

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.base_url.removesuffix("/v1") + "/stats", timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def undecodable_schema(path: Path) -> Path:
    """A database whose schema text is not UTF-8 where SQLite's error message quotes it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE tbl_zzzz (a)")
    conn.commit()
    conn.close()
    raw = path.read_bytes()
    assert raw.count(b"tbl_zzzz (a)") == 1
    path.write_bytes(raw.replace(b"tbl_zzzz (a)", b"tbl_zzzz \x80a)"))
    return path


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real PostgreSQL server for the session (see tests/pg_server.py), stopped at the end."""
    from tests.pg_server import PgServerError, start_server

    try:
        server = start_server(tmp_path_factory.mktemp("postgres"))
    except PgServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_demo(pg_server):  # type: ignore[no-untyped-def]
    """The demo's databases copied into the session's PostgreSQL server, one schema per db_id; the reader's refs."""
    return pg_server.copy_databases(DEMO_DATASET / "database")
