"""Pull one SQL query out of a model's answer.

Tried in order: the last fenced code block (```sql ... ```), a line starting with
``SQL:``, then the first SELECT/WITH up to a semicolon or the end. The result is one
line (predictions files hold one query per line) without a trailing semicolon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite)?[ \t]*\n?(.*?)```", re.IGNORECASE | re.DOTALL)
_SQL_LINE = re.compile(r"^\s*(?:final\s+)?sql\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_QUERY_START = re.compile(r"\b(select|with)\b", re.IGNORECASE)


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


def extract_sql(answer: str) -> Extraction:
    fences = [f for f in _FENCE.findall(answer) if _QUERY_START.search(f)]
    if fences:
        return Extraction(_one_line(_until_semicolon(fences[-1])), "fence")
    lines = _SQL_LINE.findall(answer)
    if lines:
        return Extraction(_one_line(_until_semicolon(lines[-1])), "sql-line")
    start = _QUERY_START.search(answer)
    if start:
        return Extraction(_one_line(_until_semicolon(answer[start.start() :]).split("\n\n", 1)[0]), "select")
    return Extraction("", "none")
