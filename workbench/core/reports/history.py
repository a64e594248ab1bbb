"""Accuracy across prompt versions over time: every stored run's variants on one dataset split."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.reports.results import RunResults
from workbench.core.store import Store


@dataclass(frozen=True)
class HistoryPoint:
    template: str  # the prompt family ("few_shot"); "" for variants without a stored template
    version_id: int | None
    version: str  # the per-template label ("v2"); "" for variants without a stored template
    run_name: str
    created_at: str
    variant: str
    accuracy: float
    low: float
    high: float
    n: int

    @property
    def version_name(self) -> str:
        """The template and its per-template version ("zero_shot v2"), or "built-in prompt"."""
        return f"{self.template} {self.version}" if self.version_id else "built-in prompt"

    @property
    def label(self) -> str:
        return f"{self.version_name} · {self.variant} · {self.run_name}"


def prompt_history(store: Store, dataset_root: str, split: str) -> list[HistoryPoint]:
    """One point per (run, variant) with answers, oldest run first."""
    names = {v.id: v.name for v in store.prompt_versions()}
    labels = store.version_labels()
    points = []
    for run in store.runs():
        if run.dataset_root != dataset_root or run.split != split:
            continue
        details = {d["name"]: d for d in store.variant_details(run.id)}
        for summary in RunResults.from_store(store, run.id).summaries():
            if not summary.completed:
                continue
            version = details.get(summary.variant, {}).get("prompt_version_id")
            low, high = summary.interval
            points.append(
                HistoryPoint(
                    names.get(version, "") if version else "",
                    version,
                    labels.get(version, "") if version else "",
                    run.name,
                    run.created_at,
                    summary.variant,
                    summary.execution_accuracy,
                    low,
                    high,
                    summary.completed,
                )
            )
    return points
