"""Near neighbours of a gold query: the same query with one small change a model might make.

Each change touches one node of the query's syntax tree (sqlglot, SQLite dialect): a
comparison operator (``>`` / ``>=`` / ``<`` / ``=`` / ``!=``), an aggregate (MAX / MIN, SUM /
AVG, COUNT / COUNT DISTINCT), a join's kind (inner / LEFT), DISTINCT added or dropped,
LIMIT moved or dropped, ORDER BY flipped, a column swapped for another column of the query's
tables, a number moved by one, a condition of an AND / OR dropped. A database tells gold from
a neighbour when their results differ there (or the neighbour fails). A neighbour that runs as
the very same text once the evaluator's preparation is applied (DISTINCT removed) cannot be
told apart by any database and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp

from workbench.core.scoring.execution import prepare_for_execution

MAX_NEIGHBOURS = 40  # per gold query
MAX_SWAPS = 3  # other columns tried in place of one column reference
Change = Callable[[exp.Expression], list[exp.Expression]]

_COMPARISONS: dict[type[exp.Expression], tuple[type[exp.Expression], ...]] = {
    exp.GT: (exp.GTE, exp.LT),
    exp.GTE: (exp.GT, exp.LTE),
    exp.LT: (exp.LTE, exp.GT),
    exp.LTE: (exp.LT, exp.GTE),
    exp.EQ: (exp.NEQ, exp.GT),
    exp.NEQ: (exp.EQ,),
}
_AGGREGATES: dict[type[exp.Expression], tuple[type[exp.Expression], ...]] = {
    exp.Max: (exp.Min,),
    exp.Min: (exp.Max,),
    exp.Sum: (exp.Avg,),
    exp.Avg: (exp.Sum,),
}


def _comparison(node: exp.Expression) -> list[exp.Expression]:
    return [other(this=node.this.copy(), expression=node.expression.copy()) for other in _COMPARISONS[type(node)]]


def _aggregate(node: exp.Expression) -> list[exp.Expression]:
    return [other(this=node.this.copy()) for other in _AGGREGATES[type(node)]]


def _count(node: exp.Expression) -> list[exp.Expression]:
    inner = node.this
    if isinstance(inner, exp.Distinct):
        return [exp.Count(this=inner.expressions[0].copy())] if inner.expressions else []
    if isinstance(inner, exp.Star) or inner is None:
        return []
    return [exp.Count(this=exp.Distinct(expressions=[inner.copy()]))]


def _join(node: exp.Expression) -> list[exp.Expression]:
    other = node.copy()
    side = (node.args.get("side") or "").upper()
    other.set("side", None if side == "LEFT" else "LEFT")
    other.set("kind", None)
    return [other]


def _select(node: exp.Expression) -> list[exp.Expression]:
    other = node.copy()
    other.set("distinct", None if node.args.get("distinct") else exp.Distinct())
    return [other]


def _limit(node: exp.Expression) -> list[exp.Expression]:
    value = node.expression
    if isinstance(value, exp.Literal) and value.is_int:
        return [exp.Limit(expression=exp.Literal.number(int(value.this) + 1))]
    return []


def _ordered(node: exp.Expression) -> list[exp.Expression]:
    other = node.copy()
    other.set("desc", not node.args.get("desc"))
    return [other]


def _number(node: exp.Expression) -> list[exp.Expression]:
    if not node.is_number or isinstance(node.parent, exp.Limit):
        return []
    value = float(node.this)
    shown = int(value) if value.is_integer() else value
    return [exp.Literal.number(shown + 1), exp.Literal.number(shown - 1)]


def _connective(node: exp.Expression) -> list[exp.Expression]:
    return [node.this.copy(), node.expression.copy()]


def _changes(node: exp.Expression, columns: dict[str, list[str]]) -> list[exp.Expression]:
    if type(node) in _COMPARISONS:
        return _comparison(node)
    if type(node) in _AGGREGATES:
        return _aggregate(node)
    table: dict[type[exp.Expression], Change] = {
        exp.Count: _count,
        exp.Join: _join,
        exp.Select: _select,
        exp.Limit: _limit,
        exp.Ordered: _ordered,
        exp.Literal: _number,
        exp.And: _connective,
        exp.Or: _connective,
    }
    if type(node) in table:
        return table[type(node)](node)
    if isinstance(node, exp.Column) and node.name:
        pool = columns.get(node.table.lower(), []) if node.table else columns.get("", [])
        others = [c for c in pool if c.lower() != node.name.lower()][:MAX_SWAPS]
        return [exp.column(c, table=node.table or None) for c in others]
    return []


def _key(sql: str) -> str:
    """What the evaluator runs, spacing aside: two texts with one key cannot be told apart."""
    return re.sub(r"\s*([(),])\s*", r"\1", " ".join(prepare_for_execution(sql).lower().split()))


def _columns_in_reach(tree: exp.Expression, columns_of: dict[str, list[str]]) -> dict[str, list[str]]:
    """Alias or table name -> its columns, and "" -> the columns of every table the query names."""
    lowered = {t.lower(): cols for t, cols in columns_of.items()}
    reach: dict[str, list[str]] = {"": []}
    for table in tree.find_all(exp.Table):
        cols = lowered.get(table.name.lower(), [])
        reach[table.alias_or_name.lower()] = cols
        reach[table.name.lower()] = cols
        reach[""] = sorted({*reach[""], *cols})
    return reach


def _walk(tree: exp.Expression) -> Iterator[exp.Expression]:
    yield from tree.walk(bfs=True)


def neighbours(gold: str, columns_of: dict[str, list[str]], limit: int = MAX_NEIGHBOURS) -> list[str]:
    """Up to ``limit`` distinct neighbours of ``gold`` as SQL text; ``columns_of`` maps table -> its columns.

    A query sqlglot cannot read has none (it is then not distilled for).
    """
    try:
        tree = sqlglot.parse_one(gold, read="sqlite")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return []
    columns = _columns_in_reach(tree, columns_of)
    seen = {_key(tree.sql(dialect="sqlite")), _key(gold)}
    out: list[str] = []
    swaps: list[str] = []  # column swaps are many: they fill what the other changes leave of ``limit``
    nodes = list(_walk(tree))
    for position, node in enumerate(nodes):
        for replacement in _changes(node, columns):
            copy = tree.copy()
            target = list(_walk(copy))[position]
            if target is copy:
                copy = replacement
            else:
                target.replace(replacement)
            try:
                text = copy.sql(dialect="sqlite")
            except (sqlglot.errors.SqlglotError, ValueError):
                continue
            key = _key(text)
            if key not in seen:
                seen.add(key)
                (swaps if isinstance(node, exp.Column) else out).append(text)
    return (out + swaps)[:limit]


def compared_values(gold: str) -> list[tuple[str, str, list[object]]]:
    """(table, column, values) for each column the query compares with a literal: the literal, and for a
    number its neighbours by one, so a random database holds the boundary the condition draws."""
    try:
        tree = sqlglot.parse_one(gold, read="sqlite")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return []
    tables = {t.alias_or_name.lower(): t.name for t in tree.find_all(exp.Table)}
    names = sorted({t.name for t in tree.find_all(exp.Table)})
    out: list[tuple[str, str, list[object]]] = []
    for node in tree.find_all(*_COMPARISONS, exp.Like, exp.In, exp.Between):
        column = node.this if isinstance(node.this, exp.Column) else node.expression
        if not isinstance(column, exp.Column):
            continue
        values: list[object] = []
        for lit in node.find_all(exp.Literal):
            if lit.is_string:
                values.append(lit.this.strip("%") if isinstance(node, exp.Like) else lit.this)
            elif lit.is_number:
                number = float(lit.this)
                value = int(number) if number.is_integer() else number
                values.extend([value, value - 1, value + 1])
        owners = [tables[column.table.lower()]] if column.table and column.table.lower() in tables else names
        out.extend((table, column.name, values) for table in owners if values)
    return out
