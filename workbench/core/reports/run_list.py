"""The stored runs on one dataset, newest first, each with its arms' figures: what the GUI's Runs pane lists.

A run's *asked* count is the items of its split it set out to answer (the split's size, cut to its
item limit); an arm's *answered* count is its items with an answer (scored or unscorable; a failed
item was not answered). A run is complete when it is in state ``completed`` and every arm answered
every asked item; a cancelled run, or one with failures, is not, and plots mark it (history.py).

Reading a run's figures reads all its rows; a caller that lists again and again (the GUI, at every
run's start and end) passes a ``ReadRuns`` dict, and a run that no process is working on is read
once: its rows are final until it is resumed, which changes its state and time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.reports.experiments import ArmSpec, arm_specs
from workbench.core.reports.results import RunResults
from workbench.core.store import LIVE_STATES, RunInfo, Store


@dataclass(frozen=True)
class ArmRow:
    """One variant of a listed run, with its figures over the items it answered."""

    variant: str
    spec: ArmSpec
    asked: int | None  # None when the run's split can no longer be read
    answered: int
    scored: int  # answered with a verdict (EX counts these)
    correct: int
    interval: tuple[float, float]  # Wilson 95% interval of EX
    cost: float
    verdicts: dict[int, bool] = field(default_factory=dict, repr=False)  # scored item -> execution match

    @property
    def execution_accuracy(self) -> float:
        return self.correct / self.scored if self.scored else 0.0

    @property
    def prompt(self) -> str:
        """The template and its per-template version ("zero_shot v2"), or "plain prompt"."""
        return f"{self.spec.template} {self.spec.version}" if self.spec.template else "plain prompt"

    @property
    def retrieval(self) -> str:
        s = self.spec
        return s.retrieval + (f" k={s.k}" if s.k is not None and s.retrieval != "none" else "")


@dataclass(frozen=True)
class RunRow:
    info: RunInfo
    arms: list[ArmRow]  # in the run's order

    @property
    def asked(self) -> int | None:
        """Every arm's asked items together (items x variants)."""
        if any(a.asked is None for a in self.arms):
            return None
        return sum(a.asked or 0 for a in self.arms)

    @property
    def answered(self) -> int:
        return sum(a.answered for a in self.arms)

    @property
    def cost(self) -> float:
        return sum(a.cost for a in self.arms)

    @property
    def complete(self) -> bool:
        """Finished, and every arm answered every item it was asked."""
        return self.info.state == "completed" and all(a.asked is not None and a.answered >= a.asked for a in self.arms)


def asked_items(dataset: Dataset, split: str, limit: int | None) -> int | None:
    """How many items of ``split`` a run with item limit ``limit`` sets out to answer; None if unreadable."""
    try:
        size = len(dataset.source.items(split))
    except (DatasetError, OSError):
        return None
    return min(size, limit) if limit else size


def arm_rows(store: Store, info: RunInfo, asked: int | None) -> list[ArmRow]:
    """A run's arms with their figures (each arm asked ``asked`` items)."""
    results = RunResults.from_store(store, info.id)
    specs = arm_specs(store, info.id)
    out = []
    for summary in results.summaries():
        spec = specs.get(summary.variant) or ArmSpec(summary.model, "", "", "none", None, None)
        out.append(
            ArmRow(
                summary.variant,
                spec,
                asked,
                summary.completed + summary.unscorable,
                summary.completed,
                summary.correct,
                summary.interval,
                summary.cost,
                results.verdicts(summary.variant),
            )
        )
    return out


ReadRuns = dict[tuple[str, int, str, str], list[ArmRow]]  # (store, run id, state, updated) -> the run's arms


def run_list(store: Store, dataset: Dataset, read: ReadRuns | None = None) -> list[RunRow]:
    """Every stored run on ``dataset`` (any split), newest first; runs already in ``read`` are not read again."""
    sizes: dict[tuple[str, int | None], int | None] = {}
    rows = []
    for info in reversed(store.runs()):
        if (info.dataset_root, info.questions) != dataset.identity:
            continue
        key = (str(store.path), info.id, info.state, info.updated_at)
        arms = read.get(key) if read is not None else None
        if arms is None:
            limits = (info.split, info.item_limit)
            if limits not in sizes:
                sizes[limits] = asked_items(dataset, info.split, info.item_limit)
            arms = arm_rows(store, info, sizes[limits])
            if read is not None and info.state not in LIVE_STATES:
                read[key] = arms
        rows.append(RunRow(info, arms))
    return rows
