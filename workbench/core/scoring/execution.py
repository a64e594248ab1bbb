"""Execution match: compare the result rows of a prediction with those of the gold query.

Rules (the official evaluator's defaults): both queries have ``DISTINCT`` removed and a
few spacing slips repaired before they run; rows are compared as a multiset, in order
only when the gold query contains "order by"; columns may be permuted; Python equality
decides whether two values are the same (``1 == 1.0``, ``'1' != 1``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

Row = tuple[Any, ...]

_CUR_YEAR = re.compile(r"YEAR\s*\(\s*CURDATE\s*\(\s*\)\s*\)\s*", re.IGNORECASE)
# quoted text, comments, or the word DISTINCT standing alone. Each quoted or comment form runs to
# its end or to the end of the text, so nothing is scanned twice: linear whatever the text holds.
_DISTINCT_SCAN = re.compile(
    r"""('(?:[^']|'')*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z)|\[[^\]]*(?:\]|\Z)|--[^\n]*"""
    r"""|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))"""
    r"|(?<![\w$#])(distinct)(?![\w$#])",
    re.IGNORECASE,
)


def repair_spacing(sql: str) -> str:
    return sql.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")


def remove_distinct(sql: str) -> str:
    """Drop every DISTINCT keyword outside quotes and comments."""
    return _DISTINCT_SCAN.sub(lambda m: m.group(1) or "", sql)


def prepare_for_execution(sql: str, keep_distinct: bool = False) -> str:
    """The text the evaluator actually runs for a gold or predicted query."""
    sql = repair_spacing(sql)
    if not keep_distinct:
        sql = remove_distinct(sql)
    return _CUR_YEAR.sub("2020", sql)


def order_matters(prepared_gold: str) -> bool:
    return "order by" in prepared_gold.lower()


def _value_order(value: object) -> str:
    return str(value) + str(type(value))


def _row_signature(row: Row) -> Row:
    """A row with its values sorted, the cheap necessary test the evaluator uses first."""
    if len(row) < 2:  # nothing to sort
        return tuple(row)
    return tuple(sorted(row, key=_value_order))


def _permutations(gold: Sequence[Row], pred: Sequence[Row], width: int) -> Any:
    """Yield column permutations of ``pred`` that could line up with ``gold``.

    A predicted column can only stand for a gold column if every predicted value in
    it occurs in that gold column; other pairings are pruned before searching.
    """
    gold_columns = [{row[c] for row in gold} for c in range(width)]
    pred_columns = [{row[c] for row in pred} for c in range(width)]
    candidates = [[p for p in range(width) if pred_columns[p] <= gold_columns[g]] for g in range(width)]
    chosen: list[int] = []
    used: set[int] = set()

    def extend(g: int) -> Any:
        if g == width:
            yield tuple(chosen)
            return
        for p in candidates[g]:
            if p not in used:
                used.add(p)
                chosen.append(p)
                yield from extend(g + 1)
                chosen.pop()
                used.discard(p)

    return extend(0)


def compare_results(gold: Sequence[Row], pred: Sequence[Row], ordered: bool) -> tuple[bool, str]:
    """Whether two result sets denote the same answer, and a short reason."""
    if not gold and not pred:
        return True, "both empty"
    if len(gold) != len(pred):
        return False, f"rows differ: {len(pred)} vs {len(gold)} (predicted vs gold)"
    width = len(gold[0])
    if len(pred[0]) != width:
        return False, f"columns differ: {len(pred[0])} vs {width} (predicted vs gold)"
    if width == 1 and list(gold) == list(pred):  # what the checks below find (wider rows: their signatures sort
        return True, "same rows"  # values by text, so 1 and 1.0 in one row may sort apart: no shortcut there)
    g_sig = [_row_signature(r) for r in gold]
    p_sig = [_row_signature(r) for r in pred]
    if ordered and g_sig != p_sig:
        same_bag = Counter(g_sig) == Counter(p_sig)
        return False, "row order differs" if same_bag else "values differ"
    if not ordered and set(g_sig) != set(p_sig):
        return False, "values differ"
    gold_bag = Counter(gold)
    for perm in _permutations(gold, pred, width):
        moved = list(pred) if width == 1 else [tuple(r[i] for i in perm) for r in pred]
        if (ordered and list(gold) == moved) or (not ordered and Counter(moved) == gold_bag):
            reordered = perm != tuple(range(width))
            return True, "same rows" + (" (columns reordered)" if reordered else "")
    return False, "values differ"
