"""Pull one SQL query out of a model's answer.

Tried in order: the last fenced code block (```sql ... ```), the last line starting with
``SQL:``, the last line that starts with SELECT/WITH, then the first SELECT anywhere; each
up to a semicolon, a blank line or the end. The result is one
line (predictions files hold one query per line) without a trailing semicolon; its ``--``
comments (outside quotes) are dropped first, so one cannot swallow the lines after it.

A fence may be tagged with any engine's name (``sql``, ``sqlite``, ``duckdb``, ``postgresql``,
``postgres``, ``psql``, ``pgsql``). ``dialect`` says whose SQL the answer holds: for DuckDB and
PostgreSQL the semicolon that ends the query is looked for outside string literals, quoted
names, comments and (PostgreSQL) dollar-quoted strings, so ``'a;b'`` or ``"x;y"`` does not
cut a query short; SQLite keeps its plain cut. Nothing here parses SQL: a query that no
parser knows is still extracted as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Every pattern here is linear in the answer's length: a model's answer is hostile input.
_FENCE_TAG = re.compile(r"[ \t]*(?:postgresql|postgres|pgsql|psql|duckdb|sqlite|sql)?[ \t]*\n?", re.IGNORECASE)
_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")
_SPECIAL = re.compile(r"[;'\"$/-]")  # where a statement may end or a quote or comment may open
_SQL_LINE = re.compile(r"^[ \t]*(?:final[ \t]+)?sql[ \t]*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_QUERY_START = re.compile(r"\b(select|with)\b", re.IGNORECASE)
_LINE_START = re.compile(r"^[ \t]*(select|with)\b", re.IGNORECASE | re.MULTILINE)


def _fenced_blocks(answer: str) -> list[str]:
    """The contents of ```-fenced blocks, in order (a language tag naming SQL or an engine dropped)."""
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


def _one_line(sql: str, dialect: str = "sqlite") -> str:
    """``sql`` on one line: its ``--`` comments dropped first (else a comment would swallow what follows it)."""
    sql = " ".join(_without_line_comments(sql, dialect).split())
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql


def _until_semicolon(text: str, dialect: str = "sqlite") -> str:
    if dialect == "sqlite":
        return text.split(";", 1)[0]
    ends = (start for kind, start, _ in _scan(text, dialect) if kind == ";")
    return text[: next(ends, len(text))]


def _without_line_comments(text: str, dialect: str) -> str:
    """``text`` without its ``--`` comments (those outside quotes), each up to its line's end."""
    if "--" not in text:
        return text
    kept, at = [], 0
    for kind, start, after in _scan(text, dialect):
        if kind == "--":
            kept.append(text[at:start])
            at = after
    return "".join(kept) + text[at:]


def _scan(text: str, dialect: str) -> Iterator[tuple[str, int, int]]:
    """The semicolons and ``--`` comments of ``text`` outside quotes, names, block comments and (PostgreSQL)
    dollar-quoted strings, as (kind, start, end).

    One pass: each quote, comment or dollar-quoted string is skipped by a ``find`` from where it
    opens, so the scan is linear in the text's length; one left open runs to the end."""
    at, end = 0, len(text)
    while at < end:
        special = _SPECIAL.search(text, at)
        if special is None:
            return
        at = special.start()
        char = text[at]
        if char == ";":
            yield ";", at, at + 1
            at += 1
        elif char in "'\"":
            close = at + 1
            while True:  # a doubled quote is one quote inside the literal
                close = text.find(char, close)
                if close < 0 or not text.startswith(char, close + 1):
                    break
                close += 2
            at = end if close < 0 else close + 1
        elif text.startswith("--", at):
            newline = text.find("\n", at)
            after = end if newline < 0 else newline
            yield "--", at, after
            at = after
        elif text.startswith("/*", at):
            close = text.find("*/", at + 2)
            at = end if close < 0 else close + 2
        elif char == "$" and dialect == "postgres" and (tag := _DOLLAR_TAG.match(text, at)):
            close = text.find(tag.group(), tag.end())
            at = end if close < 0 else close + len(tag.group())
        else:
            at += 1


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


def extract_sql(answer: str, dialect: str = "sqlite") -> Extraction:
    """The query in ``answer``, written in ``dialect`` ("sqlite", "duckdb" or "postgres")."""
    fences = [f for f in _fenced_blocks(answer) if _QUERY_START.search(f)]
    if fences:
        return Extraction(_one_line(_until_semicolon(fences[-1], dialect), dialect), "fence")
    lines = _SQL_LINE.findall(answer)
    if lines:
        return Extraction(_one_line(_until_semicolon(lines[-1], dialect), dialect), "sql-line")
    # the last query that starts a line (a reasoning reply ends with its answer), else the first SELECT
    starts = _outside_brackets(answer, list(_LINE_START.finditer(answer)))
    first = None if starts else _QUERY_START.search(answer)
    starts = starts or ([first] if first else [])
    if starts:
        rest = answer[starts[-1].start(1) :]
        return Extraction(_one_line(_until_semicolon(rest, dialect).split("\n\n", 1)[0], dialect), "select")
    return Extraction("", "none")
