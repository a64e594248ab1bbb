"""Exact-set match and hardness on the Spider clause structure (see spider_sql).

Before comparing, the evaluator drops literal values from conditions (sub-queries stay),
maps every column that takes part in a foreign key to one representative of its key
group (only for columns of tables in the top-level FROM), and forgets DISTINCT in the
select list and column units. Each clause is then compared as a multiset; any clause
that differs makes the pair a miss. The functions below follow those rules exactly,
including the places where they are surprising (noted inline), because agreement
with the official scores is the point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.core.data.items import HARDNESS_LEVELS  # noqa: F401  (Spider's levels, which hardness() gives)
from workbench.core.scoring.spider_sql import AGG_OPS, TABLE_UNIT, WHERE_OPS, SpiderSchema, SqlDict

Hardness = str  # "easy" | "medium" | "hard" | "extra"


# --- foreign-key map -----------------------------------------------------------
def foreign_key_map(
    table_names_original: Sequence[str],
    column_names_original: Sequence[tuple[int, str]],
    foreign_keys: Iterable[tuple[int, int]],
) -> dict[str, str]:
    """Map each foreign-key column id to the representative of its group.

    Groups are built greedily, pair by pair: a pair joins the first group that holds
    either of its columns (groups are never merged), as the evaluator does.
    """
    ids = [
        f"__{table_names_original[t].lower()}.{c.lower()}__" if t >= 0 else "__all__" for t, c in column_names_original
    ]
    groups: list[set[int]] = []
    for a, b in foreign_keys:
        group = next((g for g in groups if a in g or b in g), None)
        if group is None:
            group = set()
            groups.append(group)
        group.update((a, b))
    mapping: dict[str, str] = {}
    for group in groups:
        members = sorted(group)
        for member in members:
            mapping[ids[member]] = ids[members[0]]
    return mapping


# --- normalisation -------------------------------------------------------------
def _drop_values(condition: list[Any]) -> list[Any]:
    out: list[Any] = []
    for k, unit in enumerate(condition):
        if k % 2:
            out.append(unit)
            continue
        negated, op, val_unit, v1, v2 = unit
        v1 = _without_values(v1) if isinstance(v1, dict) else None
        v2 = _without_values(v2) if isinstance(v2, dict) else None
        out.append((negated, op, val_unit, v1, v2))
    return out


def _without_values(sql: SqlDict | None) -> SqlDict | None:
    """A new query with values dropped from its conditions (and its sub-queries'); ``sql`` is left as it was."""
    if sql is None:
        return None
    out = dict(sql)
    out["from"] = {**sql["from"], "conds": _drop_values(sql["from"]["conds"])}
    out["having"] = _drop_values(sql["having"])
    out["where"] = _drop_values(sql["where"])
    for op in ("intersect", "except", "union"):
        out[op] = _without_values(sql[op])
    return out


class _ColumnUnifier:
    """Rewrites column ids to foreign-key representatives and clears DISTINCT flags."""

    def __init__(self, valid: set[str], fk_map: Mapping[str, str]) -> None:
        self.valid = valid
        self.fk_map = fk_map

    def col(self, unit: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if unit is None:
            return None
        agg, col_id, _distinct = unit
        if col_id in self.fk_map and col_id in self.valid:
            col_id = self.fk_map[col_id]
        return (agg, col_id, None)

    def val(self, unit: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if unit is None:
            return None
        op, left, right = unit
        return (op, self.col(left), self.col(right))

    def condition(self, condition: list[Any]) -> list[Any]:
        # only the left-hand side is rewritten; sub-queries in values are left alone
        return [(u[0], u[1], self.val(u[2]), u[3], u[4]) if k % 2 == 0 else u for k, u in enumerate(condition)]

    def sql(self, sql: SqlDict | None) -> SqlDict | None:
        """A new query with its columns unified; ``sql`` is left as it was."""
        if sql is None:
            return None
        out = dict(sql)
        out["select"] = [None, [(agg, self.val(v)) for agg, v in sql["select"][1]]]
        out["from"] = {**sql["from"], "conds": self.condition(sql["from"]["conds"])}
        out["where"] = self.condition(sql["where"])
        out["groupBy"] = [self.col(u) for u in sql["groupBy"]]
        if sql["orderBy"]:
            direction, units = sql["orderBy"]
            out["orderBy"] = (direction, [self.val(u) for u in units])
        out["having"] = self.condition(sql["having"])
        for op in ("intersect", "except", "union"):
            out[op] = self.sql(sql[op])
        return out


def _valid_columns(sql: SqlDict, schema: SpiderSchema) -> set[str]:
    """The column ids of the tables in the top-level FROM."""
    valid: set[str] = set()
    for unit in sql["from"]["table_units"]:
        if unit[0] == TABLE_UNIT:
            valid |= schema.columns_of.get(unit[1][:-2], frozenset())
    return valid


def normalize(sql: SqlDict, schema: SpiderSchema, fk_map: Mapping[str, str]) -> SqlDict:
    """A new query: ``sql`` with values dropped and foreign-key columns unified (``sql`` is not changed; the parts
    the rules leave alone are shared with it)."""
    valid = _valid_columns(sql, schema)
    out = _without_values(sql)
    assert out is not None
    normalized = _ColumnUnifier(valid, fk_map).sql(out)
    assert normalized is not None
    return normalized


# --- clause comparison ---------------------------------------------------------
def _multiset_hits(pred: Iterable[Any], gold: list[Any]) -> int:
    remaining = list(gold)
    hits = 0
    for unit in pred:
        if unit in remaining:
            hits += 1
            remaining.remove(unit)
    return hits


def _same(hits: int, pred_total: int, gold_total: int) -> bool:
    return pred_total == gold_total and hits == pred_total


def _keywords(sql: SqlDict) -> set[str]:
    found: set[str] = set()
    for clause, word in (("where", "where"), ("groupBy", "group"), ("having", "having")):
        if sql[clause]:
            found.add(word)
    if sql["orderBy"]:
        found.update((sql["orderBy"][0], "order"))
    for clause in ("limit", "except", "union", "intersect"):
        if sql[clause] is not None:
            found.add(clause)
    conditions = sql["from"]["conds"], sql["where"], sql["having"]
    if any(c == "or" for cond in conditions for c in cond[1::2]):
        found.add("or")
    units = [u for cond in conditions for u in cond[::2]]
    if any(u[0] for u in units):
        found.add("not")
    if any(u[1] == WHERE_OPS.index("in") for u in units):
        found.add("in")
    if any(u[1] == WHERE_OPS.index("like") for u in units):
        found.add("like")
    return found


def _group_column_names(sql: SqlDict) -> list[str]:
    # the table part of grouped columns is ignored ("__t.name__" -> "name__")
    return [u[1].split(".")[1] if "." in u[1] else u[1] for u in sql["groupBy"]]


def clause_differences(pred: SqlDict, gold: SqlDict) -> list[str]:
    """Names of the clauses in which two normalised queries differ (empty: a match)."""
    diffs: list[str] = []
    p_sel, g_sel = pred["select"][1], gold["select"][1]
    if not _same(_multiset_hits(p_sel, g_sel), len(p_sel), len(g_sel)):
        diffs.append("SELECT")
    p_where, g_where = pred["where"][::2], gold["where"][::2]
    if not _same(_multiset_hits(p_where, g_where), len(p_where), len(g_where)):
        diffs.append("WHERE")
    p_group, g_group = _group_column_names(pred), _group_column_names(gold)
    if not _same(_multiset_hits(p_group, g_group), len(p_group), len(g_group)):
        diffs.append("GROUP BY")
    p_has, g_has = bool(pred["groupBy"]), bool(gold["groupBy"])
    if p_has != g_has or (
        g_has
        and not (
            [u[1] for u in pred["groupBy"]] == [u[1] for u in gold["groupBy"]] and pred["having"] == gold["having"]
        )
    ):
        diffs.append("HAVING")
    if bool(pred["orderBy"]) != bool(gold["orderBy"]) or (
        gold["orderBy"]
        and not (pred["orderBy"] == gold["orderBy"] and (pred["limit"] is None) == (gold["limit"] is None))
    ):
        diffs.append("ORDER BY/LIMIT")
    if set(pred["where"][1::2]) != set(gold["where"][1::2]):
        diffs.append("AND/OR")
    for op in ("intersect", "except", "union"):
        p_sub, g_sub = pred[op], gold[op]
        if (p_sub is None) != (g_sub is None) or (g_sub is not None and not _exact(p_sub, g_sub)):
            diffs.append(op.upper())
    p_kw, g_kw = _keywords(pred), _keywords(gold)
    if not _same(len(p_kw & g_kw), len(p_kw), len(g_kw)):
        diffs.append("keywords")
    return diffs


def _sorted_units(units: list[Any]) -> list[Any]:
    try:
        return sorted(units)
    except TypeError:  # two sub-queries in FROM: dicts do not order (the evaluator crashes)
        return sorted(units, key=repr)


def _same_tables(pred: SqlDict, gold: SqlDict) -> bool:
    gold_units = gold["from"]["table_units"]
    return not gold_units or _sorted_units(pred["from"]["table_units"]) == _sorted_units(gold_units)


def _exact(pred: SqlDict, gold: SqlDict) -> bool:
    return not clause_differences(pred, gold) and _same_tables(pred, gold)


def exact_match(pred: SqlDict, gold: SqlDict) -> tuple[bool, str]:
    """Compare two normalised queries; the reason names what differs."""
    diffs = clause_differences(pred, gold)
    if not _same_tables(pred, gold):
        diffs.insert(0, "FROM")
    if diffs:
        return False, ", ".join(diffs) + (" differs" if len(diffs) == 1 else " differ")
    return True, "same clauses"


# --- hardness ------------------------------------------------------------------
def _conditions(sql: SqlDict) -> tuple[list[Any], list[Any], list[Any]]:
    return sql["from"]["conds"], sql["where"], sql["having"]


def _component1(sql: SqlDict) -> int:
    count = sum(1 for clause in ("where", "groupBy", "orderBy") if sql[clause])
    count += sql["limit"] is not None
    if sql["from"]["table_units"]:
        count += len(sql["from"]["table_units"]) - 1
    count += sum(1 for cond in _conditions(sql) for c in cond[1::2] if c == "or")
    count += sum(1 for cond in _conditions(sql) for u in cond[::2] if u[1] == WHERE_OPS.index("like"))
    return count


def _component2(sql: SqlDict) -> int:
    nested = 0
    for cond in _conditions(sql):
        for unit in cond[::2]:
            nested += isinstance(unit[3], dict) + isinstance(unit[4], dict)
    nested += sum(sql[op] is not None for op in ("intersect", "except", "union"))
    return nested


def _aggregates(units: Iterable[Any]) -> int:
    # unit[0] is the aggregate id for column units, but for condition units it is
    # the NOT flag and for "and"/"or" strings a letter; the evaluator counts those too.
    return sum(1 for unit in units if unit[0] != AGG_OPS.index("none"))


def _others(sql: SqlDict) -> int:
    aggs = _aggregates(sql["select"][1]) + _aggregates(sql["where"][::2])
    aggs += _aggregates(sql["groupBy"])
    if sql["orderBy"]:
        units = sql["orderBy"][1]
        aggs += _aggregates([u[1] for u in units if u[1]] + [u[2] for u in units if u[2]])
    aggs += _aggregates(sql["having"])
    count = int(aggs > 1)
    count += len(sql["select"][1]) > 1
    count += len(sql["where"]) > 1
    count += len(sql["groupBy"]) > 1
    return count


def hardness(sql: SqlDict) -> Hardness:
    """Spider hardness of a parsed (not normalised) gold query."""
    c1, c2, others = _component1(sql), _component2(sql), _others(sql)
    if c1 <= 1 and others == 0 and c2 == 0:
        return "easy"
    if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
        return "medium"
    if (
        (others > 2 and c1 <= 2 and c2 == 0)
        or (2 < c1 <= 3 and others <= 2 and c2 == 0)
        or (c1 <= 1 and others == 0 and c2 <= 1)
    ):
        return "hard"
    return "extra"
