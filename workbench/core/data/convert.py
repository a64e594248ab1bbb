"""``dataset convert``: a SQLite dataset (Spider or BIRD layout) copied into DuckDB files or a PostgreSQL database.

Every database is copied through ``registry.copy_from_sqlite``: into ``<out>/<db folder>/<db_id>/<db_id>.duckdb``
(the source's layout, ``.duckdb`` where it had ``.sqlite``), or into the schema named by the db_id of the
PostgreSQL database at ``url``. ``<out>`` gets ``engine.toml`` naming the engine, the schemas file(s), BIRD's
column descriptions and the question files, whose gold queries are transpiled (``transpile``). Each gold
query is then run on the source (SQLite) and, transpiled, on the target; every one whose result changes
(rows differ, it fails on the target, or it runs on the target only) is reported with its position.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.bird import BirdSource
from workbench.core.data.dataset import DatasetError, SpiderSource, open_source
from workbench.core.data.transpile import transpile
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError
from workbench.core.engines.postgres_url import URL_FORM, url_problem
from workbench.core.sandbox.sqlexec import Outcome, QueryError

TARGETS = ("duckdb", "postgres")
GOLD_KEYS = ("query", "SQL")  # Spider's and BIRD's key of the gold query in a question file
GOLD_SUFFIXES = (".sql", ".txt")  # gold files: one ``SQL<TAB>db_id`` per line


@dataclass(frozen=True)
class ChangedQuery:
    file: str
    position: str  # "item 12" (a question file's list index) or "line 7" (a gold file)
    db_id: str
    gold: str
    converted: str
    reason: str

    def line(self) -> str:
        return f"{self.file} {self.position} ({self.db_id}): {self.reason}"


@dataclass
class Conversion:
    engine: str
    out: Path
    databases: int = 0
    queries: int = 0
    changed: list[ChangedQuery] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"converted {self.databases} databases, {self.queries} gold queries; "
            f"{len(self.changed)} changed their result"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "out": str(self.out),
            "databases": self.databases,
            "gold_queries": self.queries,
            "changed": [asdict(c) for c in self.changed],
            "summary": self.summary(),
        }


@dataclass(frozen=True)
class Target:
    """Where the copies go: DuckDB files under ``out``, or schemas of the PostgreSQL database at ``url``."""

    engine: str
    out: Path
    url: str = ""
    password_env: str = ""

    def ref(self, db_id: str, source_file: Path, source_root: Path) -> DatabaseRef:
        if self.engine == "duckdb":
            relative = source_file.relative_to(source_root).with_suffix(".duckdb")
            return DatabaseRef("duckdb", str(self.out / relative))
        return DatabaseRef("postgres", self.url, db_id, self.password_env, allow_privileged_role=True)

    def setting(self) -> str:
        if self.engine == "duckdb":
            return 'engine = "duckdb"\n'
        text = f'engine = "postgres"\nurl = {json.dumps(self.url)}\n'
        return text + (f"password_env = {json.dumps(self.password_env)}\n" if self.password_env else "")


def check_target(engine: str, out: Path, url: str) -> None:
    """Refuse what cannot be converted into: one clear line each."""
    if engine not in TARGETS:
        raise DatasetError(f"--to {engine}: expected one of {', '.join(TARGETS)}")
    if engine == "postgres":
        if not url:
            raise DatasetError(f"--url (none): expected a {URL_FORM} URL")
        problem = url_problem(url)
        if problem:  # the URL is not repeated: it may hold the password being refused
            raise DatasetError(f"--url: {problem}")
    elif url:
        raise DatasetError("--url goes with --to postgres; DuckDB files are written under --out")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out}: already exists and is not an empty folder; choose a new --out folder")


def _source_engine(root: Path) -> None:
    setting = root / "engine.toml"
    if not setting.is_file():
        return
    try:
        engine = tomllib.loads(setting.read_text(encoding="utf-8")).get("engine", "sqlite")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise DatasetError(f"{setting}: cannot be read: {exc}") from None
    if engine != "sqlite":
        raise DatasetError(f"{setting}: engine {engine!r}; convert copies a SQLite dataset")


def _plain(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with floats rounded (engines sum and average in different orders)."""
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _difference(source: Outcome, target: Outcome, engine: str, gold: str) -> str:
    """Why the result changed ("" when it did not)."""
    if isinstance(source, QueryError):
        return "" if isinstance(target, QueryError) else f"runs on {engine} only (on sqlite: {source})"
    if isinstance(target, QueryError):
        return f"fails on {engine}: {target}"
    left, right = _plain(source.rows), _plain(target.rows)
    if Counter(left) == Counter(right):
        return "" if left == right or "order by" not in gold.lower() else "the same rows in another order"
    only = list((Counter(left) - Counter(right)).elements()) or list((Counter(right) - Counter(left)).elements())
    side = "sqlite" if Counter(left) - Counter(right) else engine
    return f"result differs: {len(left)} rows on sqlite, {len(right)} on {engine}; only on {side}: {_short(only[0])}"


class _Checker:
    """Runs each (database, gold) pair once on both engines and remembers what changed."""

    def __init__(
        self, engine: str, sources: dict[str, Path], refs: dict[str, DatabaseRef], columns: dict[str, frozenset[str]]
    ) -> None:
        self.engine, self.sources, self.refs, self.columns = engine, sources, refs, columns
        self._seen: dict[tuple[str, str], str] = {}
        self._open: dict[str, tuple[Any, Any]] = {}

    def transpile(self, db_id: str, gold: str) -> str:
        return transpile(gold, self.engine, self.columns.get(db_id, frozenset()))

    def reason(self, db_id: str, gold: str, converted: str) -> str:
        key = (db_id, gold)
        if key not in self._seen:
            if db_id not in self.refs:
                self._seen[key] = f"unknown db_id {db_id!r}"
            else:
                source, target = self._connections(db_id)
                self._seen[key] = _difference(source.execute(gold), target.execute(converted), self.engine, gold)
        return self._seen[key]

    def _connections(self, db_id: str) -> tuple[Any, Any]:
        if db_id not in self._open:
            self.close()  # one database pair open at a time: questions come grouped by database
            source = registry.open_database(DatabaseRef("sqlite", str(self.sources[db_id])))
            self._open[db_id] = (source, registry.open_database(self.refs[db_id]))
        return self._open[db_id]

    def close(self) -> None:
        for source, target in self._open.values():
            source.close()
            target.close()
        self._open.clear()


def _question_rows(data: Any) -> list[dict[str, Any]] | None:
    rows = isinstance(data, list) and data and all(isinstance(r, dict) for r in data)
    if rows and all(any(isinstance(r.get(k), str) for k in GOLD_KEYS) for r in data):
        return data
    return None


def _convert_questions(path: Path, dest: Path, checker: _Checker, found: Conversion) -> None:
    rows = _question_rows(json.loads(path.read_text(encoding="utf-8")))
    if rows is None:
        shutil.copy2(path, dest)
        return
    for k, row in enumerate(rows):
        key = next(key for key in GOLD_KEYS if isinstance(row.get(key), str))
        gold, db_id = row[key], str(row.get("db_id", ""))
        row[key] = checker.transpile(db_id, gold)
        found.queries += 1
        reason = checker.reason(db_id, gold, row[key])
        if reason:
            found.changed.append(ChangedQuery(path.name, f"item {k}", db_id, gold, row[key], reason))
    dest.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _convert_gold_lines(path: Path, dest: Path, checker: _Checker, found: Conversion) -> None:
    lines = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        gold, sep, db_id = line.strip().rpartition("\t")
        if not sep or not gold.strip():
            lines.append(line)
            continue
        converted = checker.transpile(db_id.strip(), gold.strip())
        found.queries += 1
        reason = checker.reason(db_id.strip(), gold.strip(), converted)
        if reason:
            found.changed.append(ChangedQuery(path.name, f"line {lineno}", db_id.strip(), gold, converted, reason))
        lines.append(f"{converted}\t{db_id.strip()}")
    dest.write_text("\n".join(lines), encoding="utf-8")


def convert_dataset(root: Path, target: Target, progress: Callable[[str], None] = lambda _: None) -> Conversion:
    """Copy the SQLite dataset at ``root`` to ``target`` and check its gold queries there."""
    check_target(target.engine, target.out, target.url)
    _source_engine(root)
    source = open_source(root)
    if not isinstance(source, SpiderSource | BirdSource):
        raise DatasetError(f"{root}: convert takes a Spider or BIRD folder (tables.json or dev_tables.json)")
    schemas = dict(source.load_schemas())  # every schema built now: a malformed entry stops it here
    target.out.mkdir(parents=True, exist_ok=True)
    located = {db_id: source.database(db_id).path for db_id in schemas}
    files = {db_id: path for db_id, path in located.items() if path.is_file()}
    refs: dict[str, DatabaseRef] = {}
    found = Conversion(target.engine, target.out)
    for k, (db_id, path) in enumerate(files.items(), start=1):
        progress(f"copying {k}/{len(files)}: {db_id}")
        ref = target.ref(db_id, path, root)
        try:
            registry.copy_from_sqlite(path, ref)
        except EngineError as exc:
            raise DatasetError(str(exc)) from None
        refs[db_id] = ref
        for extra in path.parent.rglob("*"):  # BIRD's column descriptions, Spider's schema.sql: all but databases
            if extra.is_file() and extra.suffix.lower() not in (".sqlite", ".db", ".sqlite3"):
                dest = target.out / extra.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(extra, dest)
    found.databases = len(refs)
    (target.out / "engine.toml").write_text(target.setting(), encoding="utf-8")
    columns = {db_id: frozenset(c.name for c in schema.columns) for db_id, schema in schemas.items()}
    checker = _Checker(target.engine, files, refs, columns)
    try:
        for path in sorted(p for p in root.iterdir() if p.is_file() and p.name != "engine.toml" and p.suffix != ".py"):
            progress(f"checking {path.name}")
            dest = target.out / path.name
            if path.suffix == ".json" and not path.name.endswith("tables.json"):
                _convert_questions(path, dest, checker, found)
            elif path.suffix in GOLD_SUFFIXES:
                _convert_gold_lines(path, dest, checker, found)
            else:
                shutil.copy2(path, dest)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{root}: cannot convert its question files: {exc}") from None
    except EngineError as exc:
        raise DatasetError(str(exc)) from None
    finally:
        checker.close()
    return found
