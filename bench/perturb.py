"""Deterministic perturbations of gold SQL, to make realistic wrong (and right) predictions.

Each rule rewrites the query text in one way a model typically slips: another value,
another aggregate, flipped order, a dropped condition, a join spelled differently,
an alias without AS, columns reordered, DISTINCT added or dropped. Some rewrites
keep the meaning (so both metrics must still say "match"); most break one of them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

Rule = Callable[[str, random.Random], str]


def _sub_once(pattern: str, repl: str | Callable[[re.Match[str]], str], sql: str, flags: int = re.IGNORECASE) -> str:
    return re.sub(pattern, repl, sql, count=1, flags=flags)


def change_number(sql: str, rng: random.Random) -> str:
    return _sub_once(r"(?<![\w.])(\d+)(?![\w.])", lambda m: str(int(m.group(1)) + rng.randint(1, 3)), sql)


def change_string(sql: str, rng: random.Random) -> str:
    return _sub_once(r"(['\"])([^'\"]+)\1", lambda m: f"{m.group(1)}{m.group(2)[::-1]}{m.group(1)}", sql)


def swap_aggregate(sql: str, rng: random.Random) -> str:
    swaps = {"max": "min", "min": "max", "avg": "sum", "sum": "avg", "count": "sum"}
    return _sub_once(r"\b(max|min|avg|sum|count)\s*\(", lambda m: swaps[m.group(1).lower()] + "(", sql)


def flip_order(sql: str, rng: random.Random) -> str:
    if re.search(r"\bdesc\b", sql, re.IGNORECASE):
        return _sub_once(r"\bdesc\b", "ASC", sql)
    if re.search(r"\border\s+by\b", sql, re.IGNORECASE):
        return re.sub(r"(\border\s+by\s+[^;]*?)(\s+limit\b|$)", r"\1 DESC\2", sql, count=1, flags=re.IGNORECASE)
    return sql


def drop_distinct(sql: str, rng: random.Random) -> str:
    if re.search(r"\bdistinct\b", sql, re.IGNORECASE):
        return _sub_once(r"\bdistinct\s+", "", sql)
    return _sub_once(r"^\s*select\s+", "SELECT DISTINCT ", sql)


def drop_condition(sql: str, rng: random.Random) -> str:
    return _sub_once(r"\s+(and|or)\s+[^()]*?(?=\s+(group|order|limit|intersect|union|except)\b|\)|$)", "", sql)


def add_limit(sql: str, rng: random.Random) -> str:
    if re.search(r"\blimit\b", sql, re.IGNORECASE) or re.search(r"\b(union|intersect|except)\b", sql, re.I):
        return sql
    return sql.rstrip("; ") + " LIMIT 1"


def inner_join(sql: str, rng: random.Random) -> str:
    return _sub_once(r"\bjoin\b", "INNER JOIN", sql)


def alias_without_as(sql: str, rng: random.Random) -> str:
    return _sub_once(r"\s+as\s+(t\d)\b", r" \1", sql)


def reorder_select(sql: str, rng: random.Random) -> str:
    m = re.match(r"(?is)^\s*select\s+(distinct\s+)?(.*?)\s+from\s", sql)
    if not m or "(" in m.group(2):
        return sql
    cols = [c.strip() for c in m.group(2).split(",")]
    if len(cols) < 2:
        return sql
    cols.reverse()
    return sql[: m.start(2)] + ", ".join(cols) + sql[m.end(2) :]


def lowercase(sql: str, rng: random.Random) -> str:
    return re.sub(r"(['\"])(.*?)\1|[^'\"]+", lambda m: m.group(0) if m.group(1) else m.group(0).lower(), sql)


def squeeze_spaces(sql: str, rng: random.Random) -> str:
    return re.sub(r"\s*(=|>|<|,)\s*", r"\1", sql)


def add_not_equal_spacing(sql: str, rng: random.Random) -> str:
    return sql.replace("!=", "! =").replace(">=", "> =").replace("<=", "< =")


def broken_text(sql: str, rng: random.Random) -> str:
    return "I think the answer is: " + sql[: max(1, len(sql) // 2)]


RULES: dict[str, Rule] = {
    f.__name__: f
    for f in (
        change_number,
        change_string,
        swap_aggregate,
        flip_order,
        drop_distinct,
        drop_condition,
        add_limit,
        inner_join,
        alias_without_as,
        reorder_select,
        lowercase,
        squeeze_spaces,
        add_not_equal_spacing,
        broken_text,
    )
}


def loosen_boundary(sql: str, rng: random.Random) -> str:
    """``>`` becomes ``>=`` (and ``<`` ``<=``, and back): wrong, yet the same rows wherever no value sits on it."""
    swaps = {">": ">=", "<": "<=", ">=": ">", "<=": "<"}
    return _sub_once(r"(?<![<>!=])(>=|<=|>|<)(?!=)(?=\s*-?\d)", lambda m: swaps[m.group(1)], sql)


def left_join(sql: str, rng: random.Random) -> str:
    """An inner join spelled LEFT: wrong, yet the same rows wherever every row finds its partner."""
    return _sub_once(r"(?<!left )(?<!inner )\bjoin\b", "LEFT JOIN", sql)


def count_column(sql: str, rng: random.Random) -> str:
    """COUNT(*) over a join becomes COUNT of the joined table's first column: differs only where it is NULL."""
    joined = re.search(r"\bjoin\s+\w+\s+as\s+(t\d)\b", sql, re.IGNORECASE)
    m = re.search(rf"\b{joined.group(1)}\.(\w+)", sql, re.IGNORECASE) if joined else None
    return _sub_once(r"\bcount\s*\(\s*\*\s*\)", f"count({joined.group(1)}.{m.group(1)})", sql) if m else sql


# semantically wrong rewrites that one database often cannot tell from gold (what a test suite catches)
PLAUSIBLE_RULES: dict[str, Rule] = {f.__name__: f for f in (loosen_boundary, left_join, count_column)}


def perturb_plausibly(queries: list[str], seed: int = 7) -> list[str]:
    """Each query with one plausible wrong rewrite (a random one of ``PLAUSIBLE_RULES`` that changes it, else
    ``add_limit``), one query in four left to ``perturb``; seeded."""
    rng = random.Random(seed)
    out = []
    for sql in queries:
        if rng.random() < 0.25:
            out.append(perturb(sql, rng))
            continue
        names = rng.sample(sorted(PLAUSIBLE_RULES), k=len(PLAUSIBLE_RULES))
        changed = [new for new in (PLAUSIBLE_RULES[n](sql, rng) for n in names) if new != sql]
        out.append(changed[0] if changed else add_limit(sql, rng))
    return out


def perturb(sql: str, rng: random.Random) -> str:
    """Apply one or two random rules (or none, one time in eight)."""
    if rng.random() < 0.125:
        return sql
    names = rng.sample(sorted(RULES), k=rng.choice((1, 1, 2)))
    for name in names:
        sql = RULES[name](sql, rng)
    return sql


def perturb_all(queries: list[str], seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [perturb(q, rng) for q in queries]
