"""EX with overrides: execution accuracy once the user's gold disputes are applied.

The rule (also in docs/scoring.md), for one variant's rows on a split with its disputes:
- only scored rows count, as for plain EX (failed and unscorable rows are out of both);
- an item whose gold is disputed as wrong, or whose question as ambiguous, is left out of
  the numerator and the denominator;
- of the rest, a row is right when its execution matched, or when its predicted SQL (its
  text, surrounding whitespace removed) was marked "also correct" on that item, whichever
  run or variant it was said of.
Plain EX, exact match, the paired comparisons and the baseline's Δ, fixed and broken never
read disputes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workbench.core.store import Dispute, ScoreRow


@dataclass(frozen=True)
class Overrides:
    left_out: frozenset[int] = frozenset()  # items whose gold is wrong or whose question is ambiguous
    also_correct: frozenset[tuple[int, str]] = frozenset()  # (item, predicted SQL stripped)

    @classmethod
    def of(cls, disputes: Iterable[Dispute]) -> Overrides:
        left_out, also = set(), set()
        for d in disputes:
            if d.kind == "also_correct":
                also.add((d.item_index, d.predicted_sql.strip()))
            else:
                left_out.add(d.item_index)
        return cls(frozenset(left_out), frozenset(also))

    def verdict(self, row: ScoreRow) -> bool | None:
        """Whether ``row`` counts as right with the overrides; None when it is not counted at all."""
        if row.status != "scored" or row.item_index in self.left_out:
            return None
        if row.exec_match:
            return True
        return (row.item_index, (row.predicted_sql or "").strip()) in self.also_correct

    def __bool__(self) -> bool:
        return bool(self.left_out or self.also_correct)


NO_OVERRIDES = Overrides()
