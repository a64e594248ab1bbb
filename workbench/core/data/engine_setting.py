"""Which engine holds a dataset's databases, and where each one is (a :class:`DatabaseRef` per db_id).

A Spider- or BIRD-layout folder may hold ``engine.toml``::

    engine = "sqlite" | "duckdb" | "postgres"
    url = "postgresql://user@host:port/dbname"   # postgres only; never a password in it
    password_env = "VAR"                         # optional: the password's environment variable
    allow_privileged_role = true                 # optional: connect even as a role that could write

Without the file the engine is SQLite. A DuckDB database is ``<db folder>/<db_id>/<db_id>.duckdb``
where SQLite's is ``<db_id>.sqlite``; on PostgreSQL each db_id's tables live in the schema named
by the db_id. Your own data may be one ``.duckdb`` file, or a ``postgresql://`` URL given where a
dataset path goes: one database, its db_id the URL's database name, its tables in the default
search path. Bad values raise :class:`DatasetError` naming the file, the key's line and what was
expected; a URL is checked by ``engines/postgres_url.url_problem``, the one check of every URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.data import inputs
from workbench.core.data.items import DatasetError
from workbench.core.engines.base import ENGINES, DatabaseRef, EngineName
from workbench.core.engines.postgres_url import URL_FORM, URL_SCHEMES, url_problem

SETTING_FILE = "engine.toml"
ENGINE_LABELS: dict[str, str] = {"sqlite": "SQLite", "duckdb": "DuckDB", "postgres": "PostgreSQL"}
FILE_SUFFIXES: dict[str, str] = {"sqlite": ".sqlite", "duckdb": ".duckdb"}
_KEYS = {"engine": "string", "url": "string", "password_env": "string", "allow_privileged_role": "boolean"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class EngineSetting:
    """A dataset's engine and, for PostgreSQL, how to reach the server."""

    engine: EngineName = "sqlite"
    url: str = ""  # postgres: the server and database, without a password
    password_env: str = ""
    allow_privileged_role: bool = False

    def database(self, db_folder: Path, db_id: str) -> DatabaseRef:
        """Where ``db_id`` lives: its file under ``db_folder`` (SQLite, DuckDB) or its schema on the server."""
        if self.engine == "postgres":
            return DatabaseRef("postgres", self.url, db_id, self.password_env, self.allow_privileged_role)
        suffix = FILE_SUFFIXES[self.engine]
        return DatabaseRef(self.engine, str(db_folder / db_id / f"{db_id}{suffix}"))


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def url_database_ref(url: str, allow_privileged_role: bool = False) -> DatabaseRef:
    """Your own data on a server: the URL's database, tables in its default search path."""
    problem = url_problem(url)
    if problem:
        # the URL is not repeated: it may hold the password being refused
        raise DatasetError(f"dataset URL: {problem}")
    return DatabaseRef("postgres", url, "", "", allow_privileged_role)


def _line_of(text: str, key: str) -> str:
    found = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return inputs.position(text, found.start()) if found else "line 1, column 1"


def read_engine_setting(folder: Path) -> EngineSetting:
    """The folder's ``engine.toml``, checked; SQLite when there is none."""
    path = folder / SETTING_FILE
    if not path.exists():
        return EngineSetting()
    data: dict[str, Any] = inputs.read_toml(path, DatasetError)
    text = inputs.read_text(path, DatasetError)

    def fail(key: str, what: str) -> DatasetError:
        return DatasetError(f"{path}: {_line_of(text, key)}: {key}: {what}")

    for key, value in data.items():
        if key not in _KEYS:
            raise fail(key, f"unknown key; expected one of: {', '.join(_KEYS)}")
        if not isinstance(value, bool if _KEYS[key] == "boolean" else str):
            raise fail(key, f"expected a {_KEYS[key]}, got {inputs.type_name(value)}")
    engine = data.get("engine")
    if engine is None:
        raise DatasetError(f"{path}: line 1, column 1: engine: missing; expected one of: {', '.join(ENGINES)}")
    if engine not in ENGINES:
        raise fail("engine", f"expected one of: {', '.join(ENGINES)}, got {engine!r}")
    url, password_env = data.get("url", ""), data.get("password_env", "")
    if engine != "postgres":
        for key in ("url", "password_env", "allow_privileged_role"):
            if key in data:
                raise fail(key, f'only for engine = "postgres" (this file says {engine!r})')
        return EngineSetting(engine)
    if not url:
        raise DatasetError(f"{path}: line 1, column 1: url: missing; expected {URL_FORM}")
    problem = url_problem(url)
    if problem:
        raise fail("url", problem)
    if password_env and not _ENV_NAME.fullmatch(password_env):
        raise fail("password_env", f"expected an environment variable's name, got {password_env!r}")
    return EngineSetting("postgres", url, password_env, bool(data.get("allow_privileged_role", False)))
