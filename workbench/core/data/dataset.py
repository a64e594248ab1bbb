"""Datasets: schemas, question splits, gold SQL and database files, in one shape whatever the layout.

Three layouts are read (see :func:`open_source`):

- Spider (``spider.py``): ``tables.json``, question or gold files, ``database/<db_id>/<db_id>.sqlite``.
- BIRD (``bird.py``): ``dev.json``/``train.json``, ``dev_tables.json``/``train_tables.json`` and
  ``dev_databases/<db_id>/<db_id>.sqlite`` with column descriptions; BIRD's difficulty and metrics.
- Your own data: one SQLite file (``.sqlite``, ``.sqlite3``, ``.db``) or DuckDB file
  (``.duckdb``) plus a question file (``questions=``), a folder holding one such file and its
  question files, or a ``postgresql://`` URL and a question file. The schema is introspected
  from the database; each question file is a split named by its stem.

A Spider or BIRD folder's ``engine.toml`` names the engine of its databases
(``engine_setting.py``); every database is reached by its :class:`DatabaseRef`
(:meth:`Dataset.database`) through ``engines.registry``.

Bad input raises :class:`DatasetError` naming the file and the item; items whose database
file is missing stay in the split, flagged, and are counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from workbench.core.data.bird import BirdSource, is_bird_folder
from workbench.core.data.engine_setting import ENGINE_LABELS, is_url, url_database_ref
from workbench.core.data.items import HARDNESS_LEVELS, DatasetError, Item
from workbench.core.data.spider import SpiderSource
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineName
from workbench.core.engines.postgres_url import url_database
from workbench.core.engines.sqlite_engine import file_problem, is_sqlite_file

if TYPE_CHECKING:  # score reaches its first database without these (your own data's readers, the schema module)
    from workbench.core.data.schema import Schema

DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".duckdb")


@dataclass
class Split:
    name: str
    items: list[Item]
    missing_db: dict[str, int] = field(default_factory=dict)  # db_id -> items affected
    unusable_db: dict[str, tuple[str, int]] = field(default_factory=dict)  # db_id -> (why, items affected)
    # db_id -> why its database cannot be used ("" when it can), for every database the items use: what
    # load_split found, so that the scorer need not ask again (Scorer.score's database_problems)
    database_problems: dict[str, str] = field(default_factory=dict)

    @property
    def missing_count(self) -> int:
        return sum(self.missing_db.values())

    def database_warnings(self) -> list[str]:
        """One line per missing or unusable database, with the items it leaves unscorable (an engine's message can
        hold any character the file did: whatever would break the line is escaped)."""
        from workbench.core.data.inputs import one_line

        lines = [
            f"database {db_id!r} is missing: {count} item(s) cannot be scored"
            for db_id, count in sorted(self.missing_db.items())
        ]
        lines += [
            f"database {db_id!r} is unusable ({why}): {count} item(s) cannot be scored"
            for db_id, (why, count) in sorted(self.unusable_db.items())
        ]
        return [one_line(line) for line in lines]

    def __len__(self) -> int:
        return len(self.items)


class DatasetSource(Protocol):
    """Where a layout keeps its schemas, database files and question splits (see :func:`open_source`)."""

    name: str
    tables_path: Path | None  # Spider's tables.json; None when schemas are read from the database files
    questions: Path | None  # the question file given with the dataset, if one was
    has_test_suites: bool  # whether other *.sqlite files beside a database are test-suite copies of it
    hardness_levels: tuple[str, ...]  # the hardness axis of its items, in order (Spider's four, BIRD's three)
    bird_metrics: bool  # BIRD's metrics: EX as set equality of rows, Soft-F1, no exact-set match
    engine: EngineName  # which engine holds its databases (engine.toml in a Spider/BIRD folder)

    def load_schemas(self) -> Mapping[str, Schema]: ...  # a tables file's are built on first use (schemas.py)

    def database(self, db_id: str) -> DatabaseRef: ...

    def splits(self) -> list[str]: ...

    def default_split(self, preferred: str) -> str: ...

    def items(self, split: str) -> list[Item]: ...

    def unknown_db(self, db_id: str) -> str: ...


class OwnDataSource:
    """One database (a SQLite or DuckDB file, or a PostgreSQL URL; its schema introspected) and question files,
    each a split named by its stem."""

    has_test_suites = False
    tables_path = None
    hardness_levels = HARDNESS_LEVELS
    bird_metrics = False

    def __init__(self, root: Path, database: DatabaseRef, questions: Path | None) -> None:
        self.root = root
        self.ref = database
        self.engine: EngineName = database.engine
        self.db_id = database.path.stem if database.is_file else url_database(database.location)
        self.name = self.db_id
        self.questions = questions
        if questions is not None:
            self._files = {questions.stem: questions}
        elif database.is_file and root.is_dir():  # a URL's question file is always given
            found = sorted(p for p in root.iterdir() if p.suffix.lower() in _question_suffixes() and p.is_file())
            stems = [p.stem for p in found]  # q.csv beside q.jsonl: each is named in full
            self._files = {p.stem if stems.count(p.stem) == 1 else p.name: p for p in found}
        else:
            self._files = {}

    def load_schemas(self) -> dict[str, Schema]:
        from workbench.core.data.introspect import introspect

        return {self.db_id: introspect(self.ref, self.db_id, error=DatasetError)}

    def database(self, db_id: str) -> DatabaseRef:
        return self.ref

    def unknown_db(self, db_id: str) -> str:
        return f"unknown db_id {db_id!r} (the database is {self.db_id!r}, {self.ref.label()}; leave db_id empty)"

    def splits(self) -> list[str]:
        return list(self._files)

    def default_split(self, preferred: str) -> str:
        return next(iter(self._files), preferred)

    def items(self, split: str) -> list[Item]:
        from workbench.core.data.questions import QUESTION_SUFFIXES, read_questions

        path = self._files.get(split)
        if path is None:
            candidate = Path(split)
            if candidate.suffix.lower() not in QUESTION_SUFFIXES or not candidate.is_file():
                found = ", ".join(self._files) or "none; pass a question file (--questions FILE.csv|.jsonl)"
                raise DatasetError(f"{self.root}: no split {split!r} (found: {found})")
            path = candidate
        return [
            Item(k, row.db_id or self.db_id, row.question, row.sql, str(path), row.evidence, row.hardness, row.position)
            for k, row in enumerate(read_questions(path, DatasetError))
        ]


def _question_suffixes() -> tuple[str, ...]:
    """``.csv``, ``.jsonl``: your own data's question files (their reader loads when one is given or found)."""
    from workbench.core.data.questions import QUESTION_SUFFIXES

    return QUESTION_SUFFIXES


def _databases_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in DATABASE_SUFFIXES and p.is_file() and (p.suffix == ".duckdb" or is_sqlite_file(p))
    )


def _missing(root: Path) -> str:
    """The one line for a dataset path where nothing is: a database file, by its name, or a folder."""
    suffix = root.suffix.lower()
    if suffix in DATABASE_SUFFIXES:
        engine = "DuckDB" if suffix == ".duckdb" else "SQLite"
        return f"{root}: no such file; expected a {engine} database file"
    return f"{root}: no such folder or file; expected a dataset folder or a database file"


def _file_ref(path: Path) -> DatabaseRef:
    return DatabaseRef("duckdb" if path.suffix.lower() == ".duckdb" else "sqlite", str(path))


def open_source(root: Path, questions: Path | None = None, url: str = "") -> DatasetSource:
    """The layout at ``root``: a Spider folder, a BIRD folder, a database file, or a folder with one database;
    or the PostgreSQL database at ``url``."""
    if questions is not None and questions.suffix.lower() not in _question_suffixes():
        raise DatasetError(f"{questions}: expected a question file ending .csv or .jsonl")
    if url:
        return OwnDataSource(root, url_database_ref(url), questions)
    if root.is_file() and root.suffix.lower() == ".duckdb":
        return OwnDataSource(root, _file_ref(root), questions)
    if root.is_file():
        problem = file_problem(root)
        if problem:
            raise DatasetError(f"{root}: not a SQLite database ({problem}); expected a dataset folder or a database")
        return OwnDataSource(root, _file_ref(root), questions)
    if not root.exists():
        raise DatasetError(_missing(root))
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    spider = (root / "tables.json").exists()
    if spider or is_bird_folder(root):
        if questions is not None:
            kind = "a Spider folder (tables.json)" if spider else "a BIRD folder (dev_tables.json)"
            raise DatasetError(
                f"{root}: {kind}; --questions goes with a database file or a folder holding one database"
            )
        return SpiderSource(root) if spider else BirdSource(root)
    databases = _databases_in(root)
    if len(databases) == 1:
        return OwnDataSource(root, _file_ref(databases[0]), questions)
    if databases:
        names = ", ".join(p.name for p in databases)
        raise DatasetError(f"{root}: {len(databases)} databases ({names}) and no tables.json; expected one database")
    return SpiderSource(root)  # reports the missing tables.json


class Dataset:
    """A dataset of any layout: schemas, databases and question splits.

    ``root`` is a folder, a database file or a ``postgresql://`` URL (``location`` keeps it as given);
    ``allow_privileged_role`` goes into every :class:`DatabaseRef` (``--allow-privileged-role``).
    ``lazy_schemas`` builds each schema of a tables file when first used (``schemas.py``), so a malformed entry
    is reported there, if ever; by default all are built here, a malformed entry raising DatasetError at once.
    """

    def __init__(
        self,
        root: str | Path,
        questions: str | Path | None = None,
        allow_privileged_role: bool = False,
        lazy_schemas: bool = False,
    ) -> None:
        url = str(root) if is_url(root) else ""
        self.root = Path(url_database(url) if url else root)
        self.location = url or str(self.root)
        self.allow_privileged_role = allow_privileged_role
        self.source = open_source(self.root, None if questions is None else Path(questions), url)
        self.tables_path = self.source.tables_path
        self.questions = self.source.questions
        self._schemas = self.source.load_schemas()
        if not lazy_schemas:
            self.check_schemas()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def identity(self) -> tuple[str, str | None]:
        """What a run records to reopen this dataset: the resolved root (or the URL, never with a password) and
        question file (None: none given)."""
        root = self.location if is_url(self.location) else str(self.root.resolve())
        return root, None if self.questions is None else str(self.questions.resolve())

    @property
    def engine(self) -> EngineName:
        return self.source.engine

    @property
    def has_test_suites(self) -> bool:
        return self.source.has_test_suites

    @property
    def hardness_levels(self) -> tuple[str, ...]:
        return self.source.hardness_levels

    @property
    def bird_metrics(self) -> bool:
        return self.source.bird_metrics

    @property
    def db_ids(self) -> list[str]:
        return list(self._schemas)

    def schema(self, db_id: str) -> Schema:
        """``db_id``'s schema, built from its tables.json entry on first use: DatasetError naming the file and
        the entry when that entry is malformed, or when there is none."""
        if db_id not in self._schemas:
            raise DatasetError(f"{self.tables_path or self.root}: no schema for db_id {db_id!r}")
        return self._schemas[db_id]

    @property
    def built_schemas(self) -> list[str]:
        """The db_ids whose schemas are built so far (all of them unless ``lazy_schemas``)."""
        built = getattr(self._schemas, "built", None)
        return list(self._schemas) if built is None else list(built)

    def check_schemas(self) -> None:
        """Build every schema now (they are otherwise built on first use): DatasetError for a malformed entry."""
        for db_id in self._schemas:
            self.schema(db_id)

    def database(self, db_id: str) -> DatabaseRef:
        """Where ``db_id``'s database is, for ``engines.registry``."""
        ref = self.source.database(db_id)
        return replace(ref, allow_privileged_role=True) if self.allow_privileged_role else ref

    def db_path(self, db_id: str) -> Path:
        """The database file of ``db_id`` (SQLite, DuckDB); DatasetError for a database on a server."""
        ref = self.database(db_id)
        if not ref.is_file:
            raise DatasetError(f"{ref.label()}: a {ref.engine} database, not a file")
        return ref.path

    def has_database(self, db_id: str) -> bool:
        ref = self.database(db_id)
        return ref.path.is_file() if ref.is_file else True

    def database_problem(self, db_id: str) -> str:
        """Why the database cannot be used ('missing', 'empty file', unreachable...), or '' when it can."""
        return registry.problem(self.database(db_id))

    def check_database(self, db_id: str) -> None:
        """Raise DatasetError if the database is missing or unusable."""
        ref = self.database(db_id)
        if ref.is_file and not ref.path.is_file():
            raise DatasetError(f"{ref.label()}: database file missing for db_id {db_id!r}")
        problem = self.database_problem(db_id)
        if problem:
            raise DatasetError(f"{ref.label()}: not a usable {ENGINE_LABELS[ref.engine]} database ({problem})")

    @cached_property
    def splits(self) -> list[str]:
        return self.source.splits()

    def default_split(self, preferred: str) -> str:
        """``preferred`` for a Spider folder; the (first) question file's split for your own data."""
        return self.source.default_split(preferred)

    def load_split(self, split: str) -> Split:
        """Load a split by name (``dev``, ``train``, a question file's stem) or path (a question or gold file)."""
        items = self.source.items(split)
        missing: dict[str, int] = {}
        unusable: dict[str, tuple[str, int]] = {}
        problems: dict[str, str] = {}
        for item in items:
            if item.db_id not in self._schemas:
                raise DatasetError(f"{item.where}: {self.source.unknown_db(item.db_id)}")
            if item.db_id not in problems:
                problems[item.db_id] = self.database_problem(item.db_id)
            problem = problems[item.db_id]
            if problem == "missing":
                missing[item.db_id] = missing.get(item.db_id, 0) + 1
            elif problem:
                count = unusable.get(item.db_id, ("", 0))[1] + 1
                unusable[item.db_id] = (f"{self.database(item.db_id).label()}: {problem}", count)
        return Split(split, items, missing, unusable, problems)
