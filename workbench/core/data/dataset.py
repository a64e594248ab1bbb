"""Datasets: schemas, question splits, gold SQL and database files, in one shape whatever the layout.

Three layouts are read (see :func:`open_source`):

- Spider: a folder with ``tables.json``, question files (``dev.json``, ``train.json`` or
  Spider's ``train_spider.json`` + ``train_others.json``) and
  ``database/<db_id>/<db_id>.sqlite``. A split may also be a gold file in the official
  ``SQL<TAB>db_id`` format.
- BIRD (``bird.py``): ``dev.json``/``train.json``, ``dev_tables.json``/``train_tables.json`` and
  ``dev_databases/<db_id>/<db_id>.sqlite`` with column descriptions; BIRD's difficulty and metrics.
- Your own data: one SQLite file (``.sqlite``, ``.sqlite3``, ``.db``) plus a question
  file (``questions=``), or a folder holding one such file and its question files. The
  schema is introspected from the file; each question file is a split named by its stem.

Bad input raises :class:`DatasetError` naming the file and the item; items whose database
file is missing stay in the split, flagged, and are counted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from workbench.core.data import inputs
from workbench.core.data.bird import BirdSource, is_bird_folder
from workbench.core.data.introspect import introspect
from workbench.core.data.items import HARDNESS_LEVELS, DatasetError, Item
from workbench.core.data.questions import QUESTION_SUFFIXES, read_questions
from workbench.core.data.schema import Schema, SchemaError, schema_from_entry
from workbench.core.sandbox.sqlexec import open_readonly

SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "train": ("train.json",),
    "dev": ("dev.json",),
    "test": ("test.json",),
}
SPIDER_TRAIN_FILES = ("train_spider.json", "train_others.json")
DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


@dataclass
class Split:
    name: str
    items: list[Item]
    missing_db: dict[str, int] = field(default_factory=dict)  # db_id -> items affected
    unusable_db: dict[str, tuple[str, int]] = field(default_factory=dict)  # db_id -> (why, items affected)

    @property
    def missing_count(self) -> int:
        return sum(self.missing_db.values())

    def database_warnings(self) -> list[str]:
        """One line per missing or unusable database, with the items it leaves unscorable."""
        lines = [
            f"database {db_id!r} is missing: {count} item(s) cannot be scored"
            for db_id, count in sorted(self.missing_db.items())
        ]
        lines += [
            f"database {db_id!r} is unusable ({why}): {count} item(s) cannot be scored"
            for db_id, (why, count) in sorted(self.unusable_db.items())
        ]
        return lines

    def __len__(self) -> int:
        return len(self.items)


def read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM accepted), or DatasetError saying why not."""
    return inputs.read_text(path, DatasetError)


def _read_json(path: Path) -> Any:
    return inputs.read_json(path, DatasetError)


def parse_question_file(path: Path, data: Any, offset: int = 0) -> list[Item]:
    """Validate a list of question objects; ``offset`` continues numbering across files."""
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    items = []
    for k, raw in enumerate(data):
        where = f"{path}: item {k}"
        if not isinstance(raw, dict):
            raise DatasetError(f"{where}: expected an object, got {inputs.type_name(raw)}")
        for key in ("db_id", "question", "query"):
            if key not in raw:
                raise DatasetError(f"{where}: missing field {key!r}")
            if not isinstance(raw[key], str):
                raise DatasetError(f"{where}: field {key!r} should be a string, got {inputs.type_name(raw[key])}")
        evidence = raw.get("evidence", "")
        items.append(
            Item(
                offset + k,
                raw["db_id"],
                raw["question"],
                raw["query"],
                str(path),
                evidence if isinstance(evidence, str) else "",
            )
        )
    return items


def parse_gold_lines(path: Path, text: str) -> list[Item]:
    """Items from a gold file: one ``SQL<TAB>db_id`` per line (blank lines are not items)."""
    items = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        sql, sep, db_id = line.strip().rpartition("\t")
        if not sep or not sql.strip() or not db_id.strip():
            raise DatasetError(f"{path}: line {lineno}: expected 'SQL<TAB>db_id'")
        items.append(Item(len(items), db_id.strip(), "", sql.strip(), str(path)))
    return items


class DatasetSource(Protocol):
    """Where a layout keeps its schemas, database files and question splits (see :func:`open_source`)."""

    name: str
    tables_path: Path | None  # Spider's tables.json; None when schemas are read from the database files
    questions: Path | None  # the question file given with the dataset, if one was
    has_test_suites: bool  # whether other *.sqlite files beside a database are test-suite copies of it
    hardness_levels: tuple[str, ...]  # the hardness axis of its items, in order (Spider's four, BIRD's three)
    bird_metrics: bool  # BIRD's metrics: EX as set equality of rows, Soft-F1, no exact-set match

    def load_schemas(self) -> dict[str, Schema]: ...

    def db_path(self, db_id: str) -> Path: ...

    def splits(self) -> list[str]: ...

    def default_split(self, preferred: str) -> str: ...

    def items(self, split: str) -> list[Item]: ...

    def unknown_db(self, db_id: str) -> str: ...


class SpiderSource:
    """A Spider-format folder: ``tables.json``, question JSON files, ``database/<db_id>/<db_id>.sqlite``."""

    has_test_suites = True
    questions = None
    hardness_levels = HARDNESS_LEVELS
    bird_metrics = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = root.name
        self.tables_path: Path | None = root / "tables.json"

    def load_schemas(self) -> dict[str, Schema]:
        path = self.root / "tables.json"
        data = _read_json(path)
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON list of schemas, got {inputs.type_name(data)}")
        schemas: dict[str, Schema] = {}
        for k, entry in enumerate(data):
            try:
                schema = schema_from_entry(entry, f"entry {k}")
            except SchemaError as exc:
                raise DatasetError(f"{path}: {exc}") from None
            if schema.db_id in schemas:
                raise DatasetError(f"{path}: entry {k}: db_id {schema.db_id!r} appears twice")
            schemas[schema.db_id] = schema
        return schemas

    def db_path(self, db_id: str) -> Path:
        return self.root / "database" / db_id / f"{db_id}.sqlite"

    def unknown_db(self, db_id: str) -> str:
        return f"unknown db_id {db_id!r} (not in tables.json)"

    def splits(self) -> list[str]:
        found = [name for name, files in SPLIT_FILES.items() if (self.root / files[0]).is_file()]
        if "train" not in found and (self.root / SPIDER_TRAIN_FILES[0]).is_file():
            found.insert(0, "train")
        return found

    def default_split(self, preferred: str) -> str:
        return preferred

    def _split_files(self, split: str) -> list[Path]:
        candidate = Path(split)
        if candidate.suffix in (".json", ".sql", ".txt") and (candidate.is_file() or (self.root / candidate).is_file()):
            return [candidate if candidate.is_file() else self.root / candidate]
        if split == "train" and not (self.root / "train.json").is_file():
            files = [self.root / f for f in SPIDER_TRAIN_FILES if (self.root / f).is_file()]
            if files:
                return files
        for name in SPLIT_FILES.get(split, (f"{split}.json",)):
            if (self.root / name).exists():  # a folder in its place is reported by the reader
                return [self.root / name]
        raise DatasetError(f"{self.root}: no split {split!r} (found: {', '.join(self.splits()) or 'none'})")

    def items(self, split: str) -> list[Item]:
        items: list[Item] = []
        for path in self._split_files(split):
            if path.suffix == ".json":
                items.extend(parse_question_file(path, _read_json(path), offset=len(items)))
            else:
                items.extend(parse_gold_lines(path, read_text(path)))
        return items


class OwnDataSource:
    """One SQLite database (its schema introspected) and question files, each a split named by its stem."""

    has_test_suites = False
    tables_path = None
    hardness_levels = HARDNESS_LEVELS
    bird_metrics = False

    def __init__(self, root: Path, database: Path, questions: Path | None) -> None:
        self.root = root
        self.database = database
        self.db_id = database.stem
        self.name = self.db_id
        self.questions = questions
        if questions is not None:
            self._files = {questions.stem: questions}
        elif root.is_dir():
            found = sorted(p for p in root.iterdir() if p.suffix.lower() in QUESTION_SUFFIXES and p.is_file())
            stems = [p.stem for p in found]  # q.csv beside q.jsonl: each is named in full
            self._files = {p.stem if stems.count(p.stem) == 1 else p.name: p for p in found}
        else:
            self._files = {}

    def load_schemas(self) -> dict[str, Schema]:
        return {self.db_id: introspect(self.database, self.db_id, error=DatasetError)}

    def db_path(self, db_id: str) -> Path:
        return self.database

    def unknown_db(self, db_id: str) -> str:
        return f"unknown db_id {db_id!r} (the database is {self.db_id!r}, {self.database}; leave db_id empty)"

    def splits(self) -> list[str]:
        return list(self._files)

    def default_split(self, preferred: str) -> str:
        return next(iter(self._files), preferred)

    def items(self, split: str) -> list[Item]:
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


def _databases_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in DATABASE_SUFFIXES and p.is_file() and inputs.is_sqlite_file(p)
    )


def open_source(root: Path, questions: Path | None = None) -> DatasetSource:
    """The layout at ``root``: a Spider folder, a BIRD folder, a SQLite file, or a folder with one SQLite file."""
    if questions is not None and questions.suffix.lower() not in QUESTION_SUFFIXES:
        raise DatasetError(f"{questions}: expected a question file ending .csv or .jsonl")
    if root.is_file():
        problem = inputs.sqlite_problem(root)
        if problem:
            raise DatasetError(f"{root}: not a SQLite database ({problem}); expected a dataset folder or a database")
        return OwnDataSource(root, root, questions)
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
        return OwnDataSource(root, databases[0], questions)
    if databases:
        names = ", ".join(p.name for p in databases)
        raise DatasetError(f"{root}: {len(databases)} databases ({names}) and no tables.json; expected one database")
    return SpiderSource(root)  # reports the missing tables.json


class Dataset:
    """A dataset of any layout: schemas, database files and question splits."""

    def __init__(self, root: str | Path, questions: str | Path | None = None) -> None:
        self.root = Path(root)
        self.source = open_source(self.root, None if questions is None else Path(questions))
        self.tables_path = self.source.tables_path
        self.questions = self.source.questions
        self._schemas = self.source.load_schemas()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def identity(self) -> tuple[str, str | None]:
        """What a run records to reopen this dataset: the resolved root and question file (None: none given)."""
        return str(self.root.resolve()), None if self.questions is None else str(self.questions.resolve())

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
        try:
            return self._schemas[db_id]
        except KeyError:
            raise DatasetError(f"{self.tables_path or self.root}: no schema for db_id {db_id!r}") from None

    def db_path(self, db_id: str) -> Path:
        return self.source.db_path(db_id)

    def has_database(self, db_id: str) -> bool:
        return self.db_path(db_id).is_file()

    def database_problem(self, db_id: str) -> str:
        """Why the database file cannot be used ('missing', 'empty file', ...), or '' when it can."""
        path = self.db_path(db_id)
        problem = inputs.sqlite_problem(path)
        if problem:
            return problem
        try:
            open_readonly(path).close()
        except sqlite3.Error as exc:
            return f"SQLite cannot open it: {exc}"
        return ""

    def check_database(self, db_id: str) -> None:
        """Raise DatasetError if the database file is missing or not a SQLite database."""
        path = self.db_path(db_id)
        if not path.is_file():
            raise DatasetError(f"{path}: database file missing for db_id {db_id!r}")
        problem = self.database_problem(db_id)
        if problem:
            raise DatasetError(f"{path}: not a usable SQLite database ({problem})")

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
                unusable[item.db_id] = (f"{self.db_path(item.db_id)}: {problem}", count)
        return Split(split, items, missing, unusable)
