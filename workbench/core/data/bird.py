"""BIRD folders as published: question files, Spider-format tables files, databases and their descriptions.

A BIRD folder holds, per split (``dev``, ``train``), ``<split>.json`` (objects with ``question_id``,
``db_id``, ``question``, ``evidence``, ``SQL``, ``difficulty``; train has no ``difficulty``),
``<split>_tables.json`` (Spider's tables.json format) and ``<split>_databases/<db_id>/<db_id>.sqlite``
with ``database_description/<table>.csv`` (``original_column_name, column_name, column_description,
data_format, value_description``). The description files are read leniently (a BOM, Windows-1252 or
Latin-1 text, stray quotes inside fields), but one whose quoted field never closes, or without the
header, is a :class:`DatasetError` naming the file and line.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.data import inputs
from workbench.core.data.engine_setting import read_engine_setting
from workbench.core.data.items import DatasetError, Item
from workbench.core.data.schemas import Schemas
from workbench.core.engines.base import DatabaseRef

if TYPE_CHECKING:  # built on first use (schemas.py), with the schema module
    from workbench.core.data.schema import Schema

BIRD_LEVELS: tuple[str, ...] = ("simple", "moderate", "challenging")
BIRD_SPLITS = ("dev", "train")
DESCRIPTION_FOLDER = "database_description"


def is_bird_folder(root: Path) -> bool:
    """Whether ``root`` has BIRD's layout: a ``dev_tables.json`` or ``train_tables.json``."""
    return any((root / f"{split}_tables.json").is_file() for split in BIRD_SPLITS)


def _decode_lenient(raw: bytes) -> str:
    """Description files come in UTF-8 (often with a BOM), Windows-1252 or Latin-1: the first that decodes."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte is a character: never fails


def _rows(path: Path, text: str) -> list[list[str]]:
    """CSV rows; odd quoting inside a field is read as written, a quoted field that never closes is an error."""
    import csv

    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[list[str]] = []
    start = 1
    try:
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DatasetError(f"{path}: line {start}: a quoted field is never closed") from None
        try:
            return list(csv.reader(io.StringIO(text), strict=False))
        except csv.Error as again:
            raise DatasetError(f"{path}: line {start}: not readable as CSV ({again})") from None
    return rows


def read_descriptions(path: Path) -> dict[str, str]:
    """One table's description file: lower-cased original column name -> its description."""
    rows = _rows(path, _decode_lenient(inputs.read_bytes(path, DatasetError)))
    if not rows:
        return {}
    header = [h.strip().lstrip("\ufeff").lower() for h in rows[0]]
    if "original_column_name" not in header:
        got = ", ".join(h for h in header if h) or "nothing"
        raise DatasetError(
            f"{path}: line 1: expected a header naming original_column_name, column_description "
            f"(and column_name, data_format, value_description); got {got}"
        )
    at = {name: header.index(name) for name in header if name}

    def cell(row: list[str], name: str) -> str:
        k = at.get(name)
        return row[k].strip() if k is not None and k < len(row) else ""

    out: dict[str, str] = {}
    for row in rows[1:]:
        original = cell(row, "original_column_name")
        if not original:
            continue
        readable = cell(row, "column_name")
        text = cell(row, "column_description") or (readable if readable.lower() != original.lower() else "")
        values = cell(row, "value_description")
        out[original.lower()] = "; ".join(part for part in (text, f"values: {values}" if values else "") if part)
    return out


def describe(schema: Schema, db_folder: Path) -> Schema:
    """``schema`` with the descriptions found in ``db_folder/database_description/*.csv`` (none: unchanged)."""
    folder = db_folder / DESCRIPTION_FOLDER
    if not folder.is_dir():
        return schema
    described: dict[tuple[str, str], str] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file()):
        table = path.stem.strip().lower()
        described.update({(table, column): text for column, text in read_descriptions(path).items() if text})
    return schema.with_descriptions(described)


def _field(raw: dict[str, Any], key: str, where: str, required: bool) -> str:
    if key not in raw:
        if required:
            raise DatasetError(f"{where}: missing field {key!r}")
        return ""
    value = raw[key]
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise DatasetError(f"{where}: field {key!r} should be a string, got {inputs.type_name(value)}")
    return value


def parse_bird_items(path: Path, data: Any) -> list[Item]:
    """Validate a BIRD question list: ``db_id``, ``question``, ``SQL`` required; ``evidence``, ``difficulty``
    optional (a difficulty must be one of BIRD's levels)."""
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of BIRD questions, got {inputs.type_name(data)}")
    items = []
    for k, raw in enumerate(data):
        where = f"{path}: item {k}"
        if not isinstance(raw, dict):
            raise DatasetError(f"{where}: expected an object, got {inputs.type_name(raw)}")
        qid = raw.get("question_id")
        position = f"item {k}" + (f" (question_id {qid})" if isinstance(qid, int | str) and qid != "" else "")
        where = f"{path}: {position}"
        db_id, question, sql = (_field(raw, key, where, True) for key in ("db_id", "question", "SQL"))
        evidence = _field(raw, "evidence", where, False)
        difficulty = _field(raw, "difficulty", where, False).strip()
        if difficulty and difficulty not in BIRD_LEVELS:
            raise DatasetError(f"{where}: difficulty {difficulty!r} should be one of {', '.join(BIRD_LEVELS)}")
        items.append(Item(k, db_id, question, sql, str(path), evidence, difficulty or None, position))
    return items


class BirdSource:
    """A BIRD folder: ``<split>.json``, ``<split>_tables.json``, ``<split>_databases/<db_id>/<db_id>.sqlite``."""

    has_test_suites = False
    questions = None
    hardness_levels = BIRD_LEVELS
    bird_metrics = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = root.name
        self._tables = [root / f"{s}_tables.json" for s in BIRD_SPLITS if (root / f"{s}_tables.json").is_file()]
        self.tables_path: Path | None = self._tables[0] if self._tables else None
        self._db_root: dict[str, Path] = {}
        self.setting = read_engine_setting(root)
        self.engine = self.setting.engine

    def _databases_of(self, tables: Path) -> Path:
        return self.root / tables.name.replace("_tables.json", "_databases")

    def _described(self, schema: Schema, tables: Path) -> Schema:
        return describe(schema, self._databases_of(tables) / schema.db_id)

    def load_schemas(self) -> Schemas:
        """The tables files' schemas, each built (with its column descriptions) on first use (``schemas.py``)."""
        schemas = Schemas(self._described)  # a method, not a lambda: the dataset stays picklable
        for path in self._tables:
            databases = self._databases_of(path)
            # train and dev share no database; a repeat keeps the first
            self._db_root.update(dict.fromkeys(schemas.add_file(path, repeats="first"), databases))
        return schemas

    def database(self, db_id: str) -> DatabaseRef:
        return self.setting.database(self._db_root.get(db_id, self.root / "dev_databases"), db_id)

    def unknown_db(self, db_id: str) -> str:
        names = ", ".join(p.name for p in self._tables)
        return f"unknown db_id {db_id!r} (not in {names})"

    def splits(self) -> list[str]:
        return [s for s in BIRD_SPLITS if (self.root / f"{s}.json").is_file()]

    def default_split(self, preferred: str) -> str:
        found = self.splits()
        return preferred if preferred in found or not found else found[0]

    def items(self, split: str) -> list[Item]:
        candidate = Path(split)
        if candidate.suffix == ".json" and (candidate.is_file() or (self.root / candidate).is_file()):
            path = candidate if candidate.is_file() else self.root / candidate
        elif (self.root / f"{split}.json").exists():
            path = self.root / f"{split}.json"
        else:
            raise DatasetError(f"{self.root}: no split {split!r} (found: {', '.join(self.splits()) or 'none'})")
        return parse_bird_items(path, inputs.read_json(path, DatasetError))
