"""Parse SQL into the clause structure the official Spider evaluator compares.

The structure is deliberately the evaluator's own shape (dicts of clauses holding
tuples), because exact-set match is defined on it: two queries match when these
structures, after values are dropped and foreign-key columns are unified, are equal
clause by clause. The grammar is the evaluator's too, narrower than SQL: table aliases
need ``AS``, joins are plain ``JOIN ... ON``, ``IS NULL`` and select aliases do not parse.
A query outside that grammar raises :class:`SpiderParseError`; the evaluator then
scores it against an empty query, and so do we.

Shapes (ids are strings such as ``__singer.name__``, ``__all__`` or ``__singer__``):
  col_unit  = (agg_id, col_id, is_distinct)
  val_unit  = (unit_op, col_unit, col_unit | None)
  cond_unit = (not_op, op_id, val_unit, value, value | None)
  condition = [cond_unit, "and" | "or", cond_unit, ...]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.core.scoring.sqltokens import tokenize

CLAUSE_KEYWORDS = ("select", "from", "where", "group", "order", "limit", "intersect", "union", "except")
JOIN_KEYWORDS = ("join", "on", "as")
WHERE_OPS = ("not", "between", "=", ">", "<", ">=", "<=", "!=", "in", "like", "is", "exists")
UNIT_OPS = ("none", "-", "+", "*", "/")
AGG_OPS = ("none", "max", "min", "count", "sum", "avg")
COND_OPS = ("and", "or")
SET_OPS = ("intersect", "union", "except")
ORDER_OPS = ("desc", "asc")
TABLE_UNIT = "table_unit"
SUBQUERY_UNIT = "sql"

SqlDict = dict[str, Any]


class SpiderParseError(ValueError):
    """The query is outside the grammar the Spider evaluator understands."""


@dataclass(frozen=True)
class SpiderSchema:
    """Lower-cased table -> columns, as the evaluator reads it from the SQLite file."""

    tables: Mapping[str, Sequence[str]]
    ids: dict[str, str] = field(init=False, compare=False)
    # a table's id less its closing "__" (as a FROM clause's unit holds it) -> the ids of its columns
    columns_of: dict[str, frozenset[str]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ids = {"*": "__all__"}
        for table, columns in self.tables.items():
            for column in columns:
                ids[f"{table}.{column}"] = f"__{table}.{column}__"
        for table in self.tables:
            ids[table] = f"__{table}__"
        object.__setattr__(self, "ids", ids)
        grouped: dict[str, set[str]] = {}
        for v in ids.values():
            if "." in v:
                grouped.setdefault(v[: v.index(".")], set()).add(v)
        object.__setattr__(self, "columns_of", {k: frozenset(v) for k, v in grouped.items()})

    def has_column(self, table: str, column: str) -> bool:
        return column in self.tables.get(table, ())


def empty_sql() -> SqlDict:
    """The query the evaluator substitutes for a prediction it cannot parse."""
    return {
        "except": None,
        "from": {"conds": [], "table_units": []},
        "groupBy": [],
        "having": [],
        "intersect": None,
        "limit": None,
        "orderBy": [],
        "select": [False, []],
        "union": None,
        "where": [],
    }


def parse_sql(schema: SpiderSchema, sql: str) -> SqlDict:
    """Parse ``sql`` into the evaluator's structure or raise :class:`SpiderParseError`."""
    try:
        tokens = tokenize(sql)
        parser = _Parser(tokens, schema)
        return parser.query(0)[1]
    except SpiderParseError:
        raise
    except Exception as exc:  # the evaluator treats any failure as "does not parse"
        raise SpiderParseError(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, IndexError):
        return "query ends too early"
    if isinstance(exc, KeyError):
        return f"unknown table or alias {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise SpiderParseError(message)


class _Parser:
    """Recursive descent over Spider tokens; every method returns (next index, node)."""

    def __init__(self, tokens: list[str], schema: SpiderSchema) -> None:
        self.toks = tokens
        self.n = len(tokens)
        self.schema = schema
        self.aliases = self._aliases()

    def _aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for i, tok in enumerate(self.toks):
            if tok == "as":
                aliases[self.toks[i + 1]] = self.toks[i - 1]
        for table in self.schema.tables:
            _expect(table not in aliases, f"alias {table!r} is also a table name")
            aliases[table] = table
        return aliases

    def _at(self, i: int, *words: str) -> bool:
        return i < self.n and self.toks[i] in words

    def _ends_clause(self, i: int) -> bool:
        return i < self.n and (self.toks[i] in CLAUSE_KEYWORDS or self.toks[i] in (")", ";"))

    def _skip_semicolons(self, i: int) -> int:
        while self._at(i, ";"):
            i += 1
        return i

    # --- columns and values -------------------------------------------------
    def column(self, i: int, default_tables: list[str] | None) -> tuple[int, str]:
        tok = self.toks[i]
        if tok == "*":
            return i + 1, self.schema.ids["*"]
        if "." in tok:
            alias, col = tok.split(".")
            return i + 1, self.schema.ids[f"{self.aliases[alias]}.{col}"]
        _expect(bool(default_tables), "a column appears before any table")
        for alias in default_tables or ():
            table = self.aliases[alias]
            if self.schema.has_column(table, tok):
                return i + 1, self.schema.ids[f"{table}.{tok}"]
        raise SpiderParseError(f"unknown column {tok!r}")

    def col_unit(self, i: int, default_tables: list[str] | None) -> tuple[int, tuple[Any, ...]]:
        in_parens = self._at(i, "(")
        if in_parens:
            i += 1
        if self.toks[i] in AGG_OPS:
            agg = AGG_OPS.index(self.toks[i])
            i += 1
            _expect(self._at(i, "("), "an aggregate needs '('")
            i += 1
            distinct = self._at(i, "distinct")
            if distinct:
                i += 1
            i, col = self.column(i, default_tables)
            _expect(self._at(i, ")"), "an aggregate needs ')'")
            return i + 1, (agg, col, distinct)
        distinct = self._at(i, "distinct")
        if distinct:
            i += 1
        i, col = self.column(i, default_tables)
        if in_parens:
            _expect(self._at(i, ")"), "missing ')'")
            i += 1
        return i, (AGG_OPS.index("none"), col, distinct)

    def val_unit(self, i: int, default_tables: list[str] | None) -> tuple[int, tuple[Any, ...]]:
        in_parens = self._at(i, "(")
        if in_parens:
            i += 1
        i, left = self.col_unit(i, default_tables)
        op, right = UNIT_OPS.index("none"), None
        if i < self.n and self.toks[i] in UNIT_OPS:
            op = UNIT_OPS.index(self.toks[i])
            i, right = self.col_unit(i + 1, default_tables)
        if in_parens:
            _expect(self._at(i, ")"), "missing ')'")
            i += 1
        return i, (op, left, right)

    def value(self, start: int, default_tables: list[str] | None) -> tuple[int, Any]:
        i = start
        in_parens = self._at(i, "(")
        if in_parens:
            i += 1
        tok = self.toks[i]
        val: Any
        if tok == "select":
            i, val = self.query(i)
        elif '"' in tok:
            val, i = tok, i + 1
        else:
            try:
                val, i = float(tok), i + 1
            except ValueError:
                end = i
                while end < self.n and not (
                    self.toks[end] in (",", ")", "and")
                    or self.toks[end] in CLAUSE_KEYWORDS
                    or self.toks[end] in JOIN_KEYWORDS
                ):
                    end += 1
                sub = _Parser.__new__(_Parser)
                sub.toks, sub.n, sub.schema, sub.aliases = self.toks[start:end], end - start, self.schema, self.aliases
                _, val = sub.col_unit(0, default_tables)
                i = end
        if in_parens:
            _expect(self._at(i, ")"), "missing ')' after a value")
            i += 1
        return i, val

    # --- clauses --------------------------------------------------------------
    def condition(self, i: int, default_tables: list[str] | None) -> tuple[int, list[Any]]:
        conds: list[Any] = []
        while i < self.n:
            i, val_unit = self.val_unit(i, default_tables)
            negated = self._at(i, "not")
            if negated:
                i += 1
            _expect(i < self.n and self.toks[i] in WHERE_OPS, f"expected a comparison at token {i}")
            op = WHERE_OPS.index(self.toks[i])
            i, first = self.value(i + 1, default_tables)
            second = None
            if op == WHERE_OPS.index("between"):
                _expect(self._at(i, "and"), "BETWEEN needs AND")
                i, second = self.value(i + 1, default_tables)
            conds.append((negated, op, val_unit, first, second))
            if self._ends_clause(i) or self._at(i, *JOIN_KEYWORDS):
                break
            if self._at(i, *COND_OPS):
                conds.append(self.toks[i])
                i += 1
        return i, conds

    def select(self, i: int, default_tables: list[str]) -> tuple[int, list[Any]]:
        _expect(self._at(i, "select"), "expected SELECT")
        i += 1
        distinct = self._at(i, "distinct")
        if distinct:
            i += 1
        items: list[Any] = []
        while i < self.n and self.toks[i] not in CLAUSE_KEYWORDS:
            agg = AGG_OPS.index("none")
            if self.toks[i] in AGG_OPS:
                agg = AGG_OPS.index(self.toks[i])
                i += 1
            i, val_unit = self.val_unit(i, default_tables)
            items.append((agg, val_unit))
            if self._at(i, ","):
                i += 1
        return i, [distinct, items]

    def table_unit(self, i: int) -> tuple[int, str, str]:
        name = self.aliases[self.toks[i]]
        i += 3 if self._at(i + 1, "as") else 1
        return i, self.schema.ids[name], name

    def from_clause(self, start: int) -> tuple[int, list[Any], list[Any], list[str]]:
        _expect("from" in self.toks[start:], "no FROM clause")
        i = self.toks.index("from", start) + 1
        units: list[Any] = []
        conds: list[Any] = []
        tables: list[str] = []
        while i < self.n:
            in_parens = self._at(i, "(")
            if in_parens:
                i += 1
            if self._at(i, "select"):
                i, sub = self.query(i)
                units.append((SUBQUERY_UNIT, sub))
            else:
                if self._at(i, "join"):
                    i += 1
                i, table_id, name = self.table_unit(i)
                units.append((TABLE_UNIT, table_id))
                tables.append(name)
            if self._at(i, "on"):
                i, more = self.condition(i + 1, tables)
                if conds:
                    conds.append("and")
                conds.extend(more)
            if in_parens:
                _expect(self._at(i, ")"), "missing ')' in FROM")
                i += 1
            i = self._skip_semicolons(i)
            if self._ends_clause(i):
                break
        return i, units, conds, tables

    def column_list(self, i: int, keyword: str, tables: list[str], ordered: bool) -> tuple[int, Any]:
        if not self._at(i, keyword):
            return i, []
        _expect(self._at(i + 1, "by"), f"{keyword.upper()} needs BY")
        i += 2
        units: list[Any] = []
        direction = "asc"
        while i < self.n and not self._ends_clause(i):
            if ordered:
                i, unit = self.val_unit(i, tables)
                if self._at(i, *ORDER_OPS):
                    direction = self.toks[i]
                    i += 1
            else:
                i, unit = self.col_unit(i, tables)
            units.append(unit)
            if not self._at(i, ","):
                break
            i += 1
        return i, (direction, units) if ordered else units

    def query(self, start: int) -> tuple[int, SqlDict]:
        i = start
        in_parens = self._at(i, "(")
        if in_parens:
            i += 1
        from_end, units, conds, tables = self.from_clause(start)
        sql: SqlDict = {"from": {"table_units": units, "conds": conds}}
        sql["select"] = self.select(i, tables)[1]
        i = from_end
        sql["where"] = []
        if self._at(i, "where"):
            i, sql["where"] = self.condition(i + 1, tables)
        i, sql["groupBy"] = self.column_list(i, "group", tables, ordered=False)
        sql["having"] = []
        if self._at(i, "having"):
            i, sql["having"] = self.condition(i + 1, tables)
        i, sql["orderBy"] = self.column_list(i, "order", tables, ordered=True)
        sql["limit"] = None
        if self._at(i, "limit"):
            _expect(i + 1 < self.n, "LIMIT without its number")
            i += 2
            sql["limit"] = 1  # the evaluator keeps only that a limit exists
        i = self._skip_semicolons(i)
        if in_parens:
            _expect(self._at(i, ")"), "missing ')' after a subquery")
            i += 1
        i = self._skip_semicolons(i)
        for op in SET_OPS:
            sql[op] = None
        if self._at(i, *SET_OPS):
            op = self.toks[i]
            i, sql[op] = self.query(i + 1)
        return i, sql
