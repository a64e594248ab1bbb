"""Spider-format datasets: schemas, question splits, gold SQL and database files.

A dataset folder holds ``tables.json``, question files (``dev.json``, ``train.json`` or
Spider's ``train_spider.json`` + ``train_others.json``) and
``database/<db_id>/<db_id>.sqlite``. A split may also be a gold file in the official
``SQL<TAB>db_id`` format. Bad input raises :class:`DatasetError` naming the file and the
item; items whose database file is missing stay in the split, flagged, and are counted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from workbench.core.data import inputs
from workbench.core.data.schema import Schema, SchemaError, schema_from_entry
from workbench.core.sandbox.sqlexec import open_readonly

SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "train": ("train.json",),
    "dev": ("dev.json",),
    "test": ("test.json",),
}
SPIDER_TRAIN_FILES = ("train_spider.json", "train_others.json")


class DatasetError(inputs.InputError):
    """The dataset is unusable as given; the message names the file and item."""


@dataclass(frozen=True)
class Item:
    index: int  # 0-based position in its split
    db_id: str
    question: str
    query: str
    source: str  # file the item came from
    evidence: str = ""


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


class Dataset:
    """A Spider-format dataset folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: not a folder")
        self.tables_path = self.root / "tables.json"
        self._schemas = self._load_schemas()

    @property
    def name(self) -> str:
        return self.root.name

    def _load_schemas(self) -> dict[str, Schema]:
        data = _read_json(self.tables_path)
        if not isinstance(data, list):
            raise DatasetError(f"{self.tables_path}: expected a JSON list of schemas, got {inputs.type_name(data)}")
        schemas: dict[str, Schema] = {}
        for k, entry in enumerate(data):
            try:
                schema = schema_from_entry(entry, f"entry {k}")
            except SchemaError as exc:
                raise DatasetError(f"{self.tables_path}: {exc}") from None
            if schema.db_id in schemas:
                raise DatasetError(f"{self.tables_path}: entry {k}: db_id {schema.db_id!r} appears twice")
            schemas[schema.db_id] = schema
        return schemas

    @property
    def db_ids(self) -> list[str]:
        return list(self._schemas)

    def schema(self, db_id: str) -> Schema:
        try:
            return self._schemas[db_id]
        except KeyError:
            raise DatasetError(f"{self.tables_path}: no schema for db_id {db_id!r}") from None

    def db_path(self, db_id: str) -> Path:
        return self.root / "database" / db_id / f"{db_id}.sqlite"

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
        found = [name for name, files in SPLIT_FILES.items() if (self.root / files[0]).is_file()]
        if "train" not in found and (self.root / SPIDER_TRAIN_FILES[0]).is_file():
            found.insert(0, "train")
        return found

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
        raise DatasetError(f"{self.root}: no split {split!r} (found: {', '.join(self.splits) or 'none'})")

    def load_split(self, split: str) -> Split:
        """Load a split by name (``dev``, ``train``) or path (a question JSON or gold .sql)."""
        items: list[Item] = []
        for path in self._split_files(split):
            if path.suffix == ".json":
                items.extend(parse_question_file(path, _read_json(path), offset=len(items)))
            else:
                text = read_text(path)
                items.extend(parse_gold_lines(path, text))
        missing: dict[str, int] = {}
        unusable: dict[str, tuple[str, int]] = {}
        problems: dict[str, str] = {}
        for item in items:
            if item.db_id not in self._schemas:
                raise DatasetError(
                    f"{item.source}: item {item.index}: unknown db_id {item.db_id!r} (not in tables.json)"
                )
            if item.db_id not in problems:
                problems[item.db_id] = self.database_problem(item.db_id)
            problem = problems[item.db_id]
            if problem == "missing":
                missing[item.db_id] = missing.get(item.db_id, 0) + 1
            elif problem:
                count = unusable.get(item.db_id, ("", 0))[1] + 1
                unusable[item.db_id] = (f"{self.db_path(item.db_id)}: {problem}", count)
        return Split(split, items, missing, unusable)
