"""What the outputs pane shows for one answer: its result grid and its differences from gold."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.sqlexec import QueryError, execute

SHOWN_ROWS = 200
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\w+|<>|!=|<=|>=|\S")


@dataclass(frozen=True)
class ResultGrid:
    columns: list[str]
    rows: list[tuple[Any, ...]]  # at most SHOWN_ROWS
    total_rows: int
    error: str | None = None

    @property
    def summary(self) -> str:
        if self.error:
            return self.error
        shown = f" (first {len(self.rows)} shown)" if self.total_rows > len(self.rows) else ""
        return f"{self.total_rows} row{'s' if self.total_rows != 1 else ''}{shown}"


def result_grid(db_path: str | Path, sql: str | None, timeout_s: float = 5.0) -> ResultGrid:
    """Run ``sql`` in the sandbox (read-only, time-bounded) and keep what a grid can show."""
    if not sql or not sql.strip():
        return ResultGrid([], [], 0, "no SQL")
    outcome = execute(db_path, sql, timeout_s=timeout_s, max_rows=50_000)
    if isinstance(outcome, QueryError):
        return ResultGrid([], [], 0, str(outcome))
    return ResultGrid(outcome.columns, outcome.rows[:SHOWN_ROWS], len(outcome.rows))


@dataclass(frozen=True)
class DiffPiece:
    kind: str  # "same" | "added" (only in the prediction) | "removed" (only in gold)
    text: str


def sql_diff(gold: str, predicted: str) -> list[DiffPiece]:
    """Token-level differences, case-insensitive outside quotes: what the prediction adds and misses."""
    a, b = _TOKEN.findall(gold), _TOKEN.findall(predicted)
    matcher = difflib.SequenceMatcher(None, [_norm(t) for t in a], [_norm(t) for t in b], autojunk=False)
    pieces: list[DiffPiece] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("same", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(DiffPiece("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(DiffPiece("added", " ".join(b[j1:j2])))
    return pieces


def _norm(token: str) -> str:
    return token if token[0] in "'\"" else token.lower()
