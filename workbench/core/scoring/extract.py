"""Pull one SQL query out of a model's answer.

Tried in order: the last fenced code block (```sql ... ```), the last line starting with
``SQL:``, the last line that starts with SELECT/WITH, then the first SELECT anywhere; each
up to a semicolon, a blank line or the end. The result is one
line (predictions files hold one query per line) without a trailing semicolon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every pattern here is linear in the answer's length: a model's answer is hostile input.
_FENCE_TAG = re.compile(r"[ \t]*(?:sqlite|sql)?[ \t]*\n?", re.IGNORECASE)
_SQL_LINE = re.compile(r"^[ \t]*(?:final[ \t]+)?sql[ \t]*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_QUERY_START = re.compile(r"\b(select|with)\b", re.IGNORECASE)
_LINE_START = re.compile(r"^[ \t]*(select|with)\b", re.IGNORECASE | re.MULTILINE)


def _fenced_blocks(answer: str) -> list[str]:
    """The contents of ```-fenced blocks, in order (a language tag of sql or sqlite dropped)."""
    blocks = []
    at = answer.find("```")
    while at >= 0:
        start = _FENCE_TAG.match(answer, at + 3).end()  # type: ignore[union-attr]
        close = answer.find("```", start)
        if close < 0:
            break
        blocks.append(answer[start:close])
        at = answer.find("```", close + 3)
    return blocks


@dataclass(frozen=True)
class Extraction:
    sql: str
    method: str  # "fence" | "sql-line" | "select" | "none"

    @property
    def found(self) -> bool:
        return bool(self.sql)


def _one_line(sql: str) -> str:
    sql = " ".join(sql.split())
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql


def _until_semicolon(text: str) -> str:
    return text.split(";", 1)[0]


def _outside_brackets(answer: str, starts: list[re.Match[str]]) -> list[re.Match[str]]:
    """The matches not inside parentheses (a SELECT inside one is a sub-query); one pass over the text."""
    kept, depth, at = [], 0, 0
    for match in starts:
        chunk = answer[at : match.start(1)]
        depth += chunk.count("(") - chunk.count(")")
        at = match.start(1)
        if depth <= 0:
            kept.append(match)
    return kept


def extract_sql(answer: str) -> Extraction:
    fences = [f for f in _fenced_blocks(answer) if _QUERY_START.search(f)]
    if fences:
        return Extraction(_one_line(_until_semicolon(fences[-1])), "fence")
    lines = _SQL_LINE.findall(answer)
    if lines:
        return Extraction(_one_line(_until_semicolon(lines[-1])), "sql-line")
    # the last query that starts a line (a reasoning reply ends with its answer), else the first SELECT
    starts = _outside_brackets(answer, list(_LINE_START.finditer(answer)))
    first = None if starts else _QUERY_START.search(answer)
    starts = starts or ([first] if first else [])
    if starts:
        rest = answer[starts[-1].start(1) :]
        return Extraction(_one_line(_until_semicolon(rest).split("\n\n", 1)[0]), "select")
    return Extraction("", "none")
