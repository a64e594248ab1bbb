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
