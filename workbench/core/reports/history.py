"""Accuracy across prompt versions over time: every stored run's variants on one dataset split.

Arms compare only on common items: the items every arm of a complete run scored (run_list.py
says what complete means). Each point's EX and Wilson interval are recomputed on those items, so
a run of 20 questions and one of 88 are read on the same 20. An incomplete run (cancelled, or with
items it did not answer) does not narrow the common items; its point is on the common items it
scored (``n`` of ``n_common``) and says it is incomplete. When no run is complete, the common items
are those every arm scored.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.data.dataset import Dataset
from workbench.core.reports.run_list import ArmRow, ReadRuns, RunRow, run_list
from workbench.core.reports.stats import wilson_interval
from workbench.core.store import Store


@dataclass(frozen=True)
class HistoryPoint:
    template: str  # the prompt family ("few_shot"); "" for variants without a stored template
    version_id: int | None
    version: str  # the per-template label ("v2"); "" for variants without a stored template
    run_name: str
    created_at: str
    variant: str
    accuracy: float  # on the `n` common items this arm scored
    low: float
    high: float
    n: int
    n_common: int  # the common items every point is compared on
    complete: bool  # the run finished and this arm answered every item it was asked
    state: str  # the run's state
    answered: int
    asked: int | None

    @property
    def version_name(self) -> str:
        """The template and its per-template version ("zero_shot v2"), or "built-in prompt"."""
        return f"{self.template} {self.version}" if self.version_id else "built-in prompt"

    @property
    def label(self) -> str:
        return f"{self.version_name} · {self.variant} · {self.run_name}"

    @property
    def incomplete_reason(self) -> str:
        """Why the point is incomplete, in words ("" when it is complete)."""
        if self.complete:
            return ""
        asked = "?" if self.asked is None else str(self.asked)
        return f"{self.state}, {self.answered} of {asked} answered; EX on the {self.n} of {self.n_common} common items"


def common_items(runs: list[RunRow]) -> set[int]:
    """The items every arm of the complete runs scored (of every run, when none is complete)."""
    chosen = [r for r in runs if r.complete] or runs
    sets = [set(a.verdicts) for r in chosen for a in r.arms if a.verdicts]
    return set.intersection(*sets) if sets else set()


def _point(run: RunRow, arm: ArmRow, common: set[int]) -> HistoryPoint:
    on = [arm.verdicts[i] for i in common if i in arm.verdicts]
    right = sum(on)
    low, high = wilson_interval(right, len(on))
    s = arm.spec
    return HistoryPoint(s.template, s.version_id, s.version, run.info.name, run.info.created_at, arm.variant,
                        right / len(on) if on else 0.0, low, high, len(on), len(common), run.complete,
                        run.info.state, arm.answered, arm.asked)  # fmt: skip


def prompt_history(
    store: Store, dataset: Dataset, split: str, read: ReadRuns | None = None, sizes: dict[str, int | None] | None = None
) -> list[HistoryPoint]:
    """One point per (run, variant) with answers on the common items, oldest run first (``read``, ``sizes``: see
    run_list)."""
    runs = [r for r in reversed(run_list(store, dataset, read, sizes)) if r.info.split == split]
    common = common_items(runs)
    points = [_point(r, a, common) for r in runs for a in r.arms if a.verdicts]
    return [p for p in points if p.n]  # a point with none of the common items is left out
