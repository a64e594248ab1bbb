"""The current run's variants as arms, and each one compared with a pinned baseline.

The Accuracy pane's Δ EX, fixed and broken columns and the Questions pane's "fixed/broken vs
baseline" filters read the same comparisons (``experiments.compare``) through these.
"""

from __future__ import annotations

from workbench.core.reports.experiments import Arm, ArmComparison, ArmSpec, arm_specs, compare
from workbench.core.reports.results import QuestionFilter
from workbench.ui.session import AppSession


class CurrentArms:
    """The shown run's variants as arms on their live rows; the run's specs are read once per run."""

    def __init__(self, session: AppSession) -> None:
        self.session = session
        self._specs: tuple[int, dict[str, ArmSpec]] | None = None
        self._against: tuple[tuple[object, ...], dict[str, ArmComparison]] | None = None

    def arms(self) -> dict[str, Arm]:
        info = self.session.run_info
        if info is None:
            return {}
        if self._specs is None or self._specs[0] != info.id:
            self._specs = (info.id, arm_specs(self.session.store, info.id))
        specs, rows = self._specs[1], self.session.results.rows
        return {name: Arm(info, name, spec, rows[name]) for name, spec in specs.items() if name in rows}

    def against(self, baseline: Arm | None) -> dict[str, ArmComparison]:
        """``baseline_comparisons`` of these arms, compared again only when the baseline or the results change
        (each comparison reads the shown run's rows from the store)."""
        results = self.session.results
        key = (baseline, results, results.changes, self.session.run_info)
        if self._against is None or self._against[0] != key:
            self._against = (key, baseline_comparisons(baseline, self.arms()))
        return self._against[1]


def baseline_comparisons(baseline: Arm | None, arms: dict[str, Arm]) -> dict[str, ArmComparison]:
    """Each arm against the baseline; none without a baseline or when an arm ran on another dataset split."""
    if baseline is None:
        return {}
    where = (baseline.run.dataset_root, baseline.run.split)
    if any((a.run.dataset_root, a.run.split) != where for a in arms.values()):
        return {}
    return {name: compare(baseline, arm) for name, arm in arms.items()}


def comparison_filter(variant: str, comparison: ArmComparison, kind: str) -> QuestionFilter:
    """The questions ``variant`` fixed (``kind`` "fixed") or broke ("broken") against the baseline."""
    return QuestionFilter("listed", variant, items=frozenset(comparison.indices(kind)),
                          label=f"{kind} in {variant} vs baseline {comparison.baseline.name}")  # fmt: skip
