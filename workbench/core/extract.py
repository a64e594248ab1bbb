"""Pull one SQL query out of a model's answer.

Tried in order: the last fenced code block (```sql ... ```), the last line starting with
``SQL:``, the last line that starts with SELECT/WITH, then the first SELECT anywhere; each
up to a semicolon, a blank line or the end. The result is one
line (predictions files hold one query per line) without a trailing semicolon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite)?[ \t]*\n?(.*?)```", re.IGNORECASE | re.DOTALL)
_SQL_LINE = re.compile(r"^\s*(?:final\s+)?sql\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_QUERY_START = re.compile(r"\b(select|with)\b", re.IGNORECASE)
_LINE_START = re.compile(r"^[ \t]*(select|with)\b", re.IGNORECASE | re.MULTILINE)


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


def _depth(text: str) -> int:
    """Open parentheses at the end of ``text`` (a SELECT inside one is a sub-query)."""
    return text.count("(") - text.count(")")


def extract_sql(answer: str) -> Extraction:
    fences = [f for f in _FENCE.findall(answer) if _QUERY_START.search(f)]
    if fences:
        return Extraction(_one_line(_until_semicolon(fences[-1])), "fence")
    lines = _SQL_LINE.findall(answer)
    if lines:
        return Extraction(_one_line(_until_semicolon(lines[-1])), "sql-line")
    # the last query that starts a line (a reasoning reply ends with its answer), else the first SELECT
    starts = [m for m in _LINE_START.finditer(answer) if _depth(answer[: m.start(1)]) <= 0]
    starts = starts or list(_QUERY_START.finditer(answer))[:1]
    if starts:
        rest = answer[starts[-1].start(1) :]
        return Extraction(_one_line(_until_semicolon(rest).split("\n\n", 1)[0]), "select")
    return Extraction("", "none")
