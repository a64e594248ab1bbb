"""A SQLite gold query rewritten for another engine (sqlglot), for ``dataset convert``.

sqlglot translates functions, quoting and casts. One SQLite habit it keeps, and that DuckDB and
PostgreSQL refuse, is a bare column beside ``GROUP BY`` (``SELECT T2.name ... GROUP BY T1.id``):
SQLite takes the value from some row of the group. Such a column, in the select list or in
``ORDER BY``, is wrapped in ``MIN(...)`` (named as before), which gives the same value whenever
the column is determined by the group, the case such queries mean; where it is not, the
conversion's check reports the changed result. Another is a string in double quotes
(``WHERE name = "Ada"``, all over Spider's gold): SQLite reads a double-quoted word that names
no column as a string, so, given the database's column names, such a word becomes a string
literal. A query sqlglot cannot read is kept as written: the check then says whether the
target runs it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from workbench.core.engines.base import SQLGLOT_DIALECTS


def transpile(sql: str, engine: str, columns: Collection[str] = ()) -> str:
    """``sql`` (SQLite) in ``engine``'s dialect; unchanged for SQLite or when sqlglot cannot read it.

    ``columns``: the database's column names; a double-quoted word that is none of them (nor a
    name the query itself gives) is SQLite's string and becomes a string literal."""
    if engine == "sqlite":
        return sql
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(sql, read="sqlite")
        if len(trees) != 1 or not isinstance(trees[0], exp.Query):
            return sql  # not one query sqlglot understands: as written
        tree = trees[0]
        if columns:
            _strings_for_unknown_quoted_names(tree, {c.lower() for c in columns}, exp)
        for select in list(tree.find_all(exp.Select)):
            if select.args.get("group"):
                _wrap_bare_columns(select, exp)
        return str(tree.sql(dialect=SQLGLOT_DIALECTS[engine]))
    except (sqlglot.errors.SqlglotError, ValueError, RecursionError):
        return sql


def _grouped(column: Any, keys: list[Any], exp: Any) -> bool:
    """Is ``column`` one of the GROUP BY keys (the same name, and the same table where both say one)?"""
    for key in keys:
        same_name = isinstance(key, exp.Column) and key.name.lower() == column.name.lower()
        if same_name and (not key.table or not column.table or key.table.lower() == column.table.lower()):
            return True
    return False


def _wrap_bare_columns(select: Any, exp: Any) -> None:
    keys = list(select.args["group"].expressions)
    if any(not isinstance(k, exp.Column) for k in keys):
        return  # grouped by expressions or positions: leave the query as it is
    aliases = set()
    for k, projection in enumerate(select.expressions):
        column = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(projection, exp.Alias):
            aliases.add(projection.alias.lower())
        if isinstance(column, exp.Column) and not isinstance(column.this, exp.Star) and not _grouped(column, keys, exp):
            wrapped = exp.Min(this=column.copy())
            name = projection.alias if isinstance(projection, exp.Alias) else column.name
            select.expressions[k].replace(exp.alias_(wrapped, exp.to_identifier(name, quoted=True)))
    order = select.args.get("order")
    for ordered in order.expressions if order else []:
        column = ordered.this
        bare = isinstance(column, exp.Column) and not _grouped(column, keys, exp)
        if bare and (column.table or column.name.lower() not in aliases):
            ordered.set("this", exp.Min(this=column.copy()))


def _strings_for_unknown_quoted_names(tree: Any, columns: set[str], exp: Any) -> None:
    given = {a.alias.lower() for a in tree.find_all(exp.Alias, exp.TableAlias) if a.alias}
    given |= {t.name.lower() for t in tree.find_all(exp.Table)}
    for column in list(tree.find_all(exp.Column)):
        name = column.this
        if not (isinstance(name, exp.Identifier) and name.quoted) or column.table:
            continue
        if name.this.lower() not in columns and name.this.lower() not in given:
            column.replace(exp.Literal.string(name.this))
