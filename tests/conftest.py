"""Shared fixtures: the bundled demo dataset and small SQLite files built per test."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from workbench.paths import DEMO_DATASET

SHARED_SPIDER = Path(__file__).resolve().parents[2] / "shared" / "spider"


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
