"""Spider's layout: ``tables.json``, question JSON files (or gold files) and ``database/<db_id>/<db_id>.sqlite``.

A split may be a question file (``dev.json``, ``train.json`` or Spider's ``train_spider.json`` +
``train_others.json``) or a gold file in the official ``SQL<TAB>db_id`` format. ``engine.toml``
beside ``tables.json`` may name another engine for the databases (``engine_setting.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.data import inputs
from workbench.core.data.engine_setting import read_engine_setting
from workbench.core.data.items import HARDNESS_LEVELS, DatasetError, Item
from workbench.core.data.schemas import Schemas
from workbench.core.engines.base import DatabaseRef

SPLIT_FILES: dict[str, tuple[str, ...]] = {
    "train": ("train.json",),
    "dev": ("dev.json",),
    "test": ("test.json",),
}
SPIDER_TRAIN_FILES = ("train_spider.json", "train_others.json")


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
        self.setting = read_engine_setting(root)
        self.engine = self.setting.engine

    def load_schemas(self) -> Schemas:
        """tables.json's schemas, each built on first use (``schemas.py``)."""
        schemas = Schemas()
        schemas.add_file(self.root / "tables.json")
        return schemas

    def database(self, db_id: str) -> DatabaseRef:
        return self.setting.database(self.root / "database", db_id)

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
