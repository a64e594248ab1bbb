"""What the outputs pane shows for one answer: its result grid and its differences from gold."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.sandbox.sqlexec import QueryError

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


def result_grid(database: DatabaseRef, sql: str | None, timeout_s: float = 5.0) -> ResultGrid:
    """Run ``sql`` on ``database`` through its engine (read-only, time-bounded) and keep what a grid can show."""
    if not sql or not sql.strip():
        return ResultGrid([], [], 0, "no SQL")
    outcome = registry.execute_one(database, sql, timeout_s=timeout_s, max_rows=50_000)
    if isinstance(outcome, QueryError):
        return ResultGrid([], [], 0, str(outcome))
    return ResultGrid(outcome.columns, outcome.rows[:SHOWN_ROWS], len(outcome.rows))


@dataclass(frozen=True)
class DiffPiece:
    kind: str  # "same" | "added" (only in the prediction) | "removed" (only in gold)
    text: str


def sql_diff(gold: str, predicted: str) -> list[DiffPiece]:
    """Token-level differences, case-insensitive outside quotes: what the prediction adds and misses.

    The "same" and "added" pieces, in order, spell the prediction exactly as written; the
    "removed" pieces are gold's text that the prediction lacks, placed where it is missing.
    """
    gold_spans = [(m.start(), m.end()) for m in _TOKEN.finditer(gold)]
    pred_spans = [(m.start(), m.end()) for m in _TOKEN.finditer(predicted)]
    a = [_norm(gold[i:j]) for i, j in gold_spans]
    b = [_norm(predicted[i:j]) for i, j in pred_spans]
    bounds = [start for start, _ in pred_spans] + [len(predicted)]
    pieces: list[DiffPiece] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1 and op != "equal":
            pieces.append(DiffPiece("removed", gold[gold_spans[i1][0] : gold_spans[i2 - 1][1]]))
        if j2 > j1:
            start = 0 if j1 == 0 else bounds[j1]
            pieces.append(DiffPiece("same" if op == "equal" else "added", predicted[start : bounds[j2]]))
    return pieces


def _norm(token: str) -> str:
    return token if token[0] in "'\"" else token.lower()
