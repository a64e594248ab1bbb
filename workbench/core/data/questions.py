"""Question files for your own database: CSV or JSONL rows of ``question`` and ``sql``.

Optional columns: ``db_id`` (which database; empty means the dataset's only one),
``evidence`` (reaches templates as ``evidence``) and ``hardness`` (the item's hardness
axis instead of Spider's computed one). Other columns are ignored. CSV follows RFC 4180
(quoted fields may hold commas, quotes and line breaks); a UTF-8 BOM is accepted. Every
problem is one line naming the file, the line and what was expected.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.data.inputs import InputError, jsonl_lines, loads_json, read_text, type_name

QUESTION_SUFFIXES = (".csv", ".jsonl")
REQUIRED_COLUMNS = ("question", "sql")
OPTIONAL_COLUMNS = ("db_id", "evidence", "hardness")


@dataclass(frozen=True)
class QuestionRow:
    position: str  # "line 4" (a CSV row's first line, a JSONL line)
    question: str
    sql: str
    db_id: str | None = None
    evidence: str = ""
    hardness: str | None = None


def _columns_hint() -> str:
    return f"expected columns {', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)})"


def _row(path: Path, position: str, fields: dict[str, Any], error: type[InputError]) -> QuestionRow:
    where = f"{path}: {position}"
    values: dict[str, str] = {}
    for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        value = fields.get(name)
        if value is None:
            if name in REQUIRED_COLUMNS:
                raise error(f"{where}: missing {name!r}; {_columns_hint()}")
            continue
        if not isinstance(value, str):
            raise error(f"{where}: {name!r} should be a string, got {type_name(value)}")
        values[name] = value.strip()
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            raise error(f"{where}: {name!r} is empty; expected text")
    return QuestionRow(
        position,
        values["question"],
        values["sql"],
        values.get("db_id") or None,
        values.get("evidence", ""),
        values.get("hardness") or None,
    )


def _csv_rows(path: Path, text: str, error: type[InputError]) -> list[QuestionRow]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise error(f"{path}: line {reader.line_num}: {exc}; expected a CSV header row") from None
    if header is None:
        raise error(f"{path}: empty file; {_columns_hint()}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise error(f"{path}: line 1: header has no column {missing[0]!r}; {_columns_hint()}")
    rows = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise error(f"{path}: line {start}: {exc}") from None
        if any(field.strip() for field in record):
            if len(record) > len(names):
                raise error(f"{path}: line {start}: {len(record)} fields; expected at most {len(names)} (the header's)")
            rows.append(_row(path, f"line {start}", dict(zip(names, record, strict=False)), error))
        start = reader.line_num + 1
    return rows


def _jsonl_rows(path: Path, text: str, error: type[InputError]) -> list[QuestionRow]:
    rows = []
    for number, line in jsonl_lines(text):
        data = loads_json(line, f"{path}: line {number}", error, one_line=True)
        if not isinstance(data, dict):
            raise error(f"{path}: line {number}: expected an object, got {type_name(data)}")
        rows.append(_row(path, f"line {number}", data, error))
    return rows


def read_questions(path: Path, error: type[InputError] = InputError) -> list[QuestionRow]:
    """The rows of a ``.csv`` or ``.jsonl`` question file, in file order."""
    if path.suffix.lower() not in QUESTION_SUFFIXES:
        raise error(f"{path}: expected a question file ending .csv or .jsonl")
    text = read_text(path, error)
    rows = _csv_rows(path, text, error) if path.suffix.lower() == ".csv" else _jsonl_rows(path, text, error)
    if not rows:
        raise error(f"{path}: no questions; {_columns_hint()}")
    return rows
