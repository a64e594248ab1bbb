"""The stored runs on one dataset, newest first, each with its arms' figures: what the GUI's Runs pane lists.

A run's *asked* count is the items of its split it set out to answer (the split's size, cut to its
item limit); an arm's *answered* count is its items with an answer (scored or unscorable; a failed
item was not answered). A run is complete when it is in state ``completed`` and every arm answered
every asked item; a cancelled run, or one with failures, is not, and plots mark it (history.py).

The list is read in a fixed number of statements whatever the number of runs: the runs, their
variants and specs, and every arm's figures summed by the store (``Store.arm_figures``); an arm's
verdicts (item -> execution match, which history reads) are read from the store only when first
asked for (``StoredVerdicts``). A caller that lists again and again (the GUI, at every run's start
and end) passes a ``ReadRuns`` dict, and a run that no process is working on is read once: its
rows are final until it is resumed, which changes its state and time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.reports.experiments import ArmSpec, every_run_arm_specs
from workbench.core.reports.stats import wilson_interval
from workbench.core.store import LIVE_STATES, ArmFigures, RunInfo, Store


class StoredVerdicts(Mapping[int, bool]):
    """One arm's scored items -> execution match, read from the store the first time they are asked for."""

    def __init__(self, store: Store, run_id: int, variant_id: int) -> None:
        self._source = (store, run_id, variant_id)
        self._read: dict[int, bool] | None = None

    @property
    def _verdicts(self) -> dict[int, bool]:
        if self._read is None:
            self._read = self._source[0].verdicts(*self._source[1:])
        return self._read

    @property
    def read(self) -> bool:
        """Whether the verdicts were read from the store yet."""
        return self._read is not None

    def __getitem__(self, index: int) -> bool:
        return self._verdicts[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self._verdicts)

    def __len__(self) -> int:
        return len(self._verdicts)


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
    verdicts: Mapping[int, bool] = field(default_factory=dict, repr=False)  # scored item -> execution match

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


def asked_items(
    dataset: Dataset, split: str, limit: int | None, sizes: dict[str, int | None] | None = None
) -> int | None:
    """How many items of ``split`` a run with item limit ``limit`` sets out to answer; None if unreadable.

    ``sizes`` (split -> its size) keeps each split's size for the next run asked about: one read of its file.
    """
    sizes = {} if sizes is None else sizes
    if split not in sizes:
        try:
            sizes[split] = len(dataset.source.items(split))
        except (DatasetError, OSError):
            sizes[split] = None
    size = sizes[split]
    if size is None:
        return None
    return min(size, limit) if limit else size


def arm_rows(
    store: Store,
    info: RunInfo,
    asked: int | None,
    specs: dict[str, ArmSpec],
    variants: list[tuple[int, str, str]],
    figures: Mapping[tuple[int, int], ArmFigures],
) -> list[ArmRow]:
    """A run's arms (``variants``: id, name, model, in the run's order) with their figures (each asked ``asked``)."""
    out = []
    for variant_id, name, model in variants:
        f = figures.get((info.id, variant_id)) or ArmFigures(0, 0, 0, 0.0)
        spec = specs.get(name) or ArmSpec(model, "", "", "none", None, None)
        interval = wilson_interval(f.correct, f.scored)
        verdicts = StoredVerdicts(store, info.id, variant_id)
        out.append(ArmRow(name, spec, asked, f.answered, f.scored, f.correct, interval, f.cost, verdicts))
    return out


ReadRuns = dict[tuple[str, int, str, str], list[ArmRow]]  # (store, run id, state, updated) -> the run's arms


def run_list(
    store: Store, dataset: Dataset, read: ReadRuns | None = None, sizes: dict[str, int | None] | None = None
) -> list[RunRow]:
    """Every stored run on ``dataset`` (any split), newest first; runs already in ``read`` are not read again.

    ``sizes``: splits whose size the caller knows (the app: the open split's), so their files are not read again.
    """
    sizes = dict(sizes or {})
    identity = dataset.identity
    listed = [info for info in reversed(store.runs()) if (info.dataset_root, info.questions) == identity]
    key_of = {info.id: (str(store.path), info.id, info.state, info.updated_at) for info in listed}
    known = {i: read[k] for i, k in key_of.items() if read is not None and k in read}
    specs: dict[int, dict[str, ArmSpec]] = {}
    figures: dict[tuple[int, int], ArmFigures] = {}
    variants: dict[int, list[tuple[int, str, str]]] = {}
    if len(known) < len(listed):  # the runs not read before: their variants, specs and figures at once
        specs, figures = every_run_arm_specs(store), store.arm_figures()
        variants = {
            run_id: [(d["id"], d["name"], d["model"]) for d in details]
            for run_id, details in store.runs_variant_details().items()
        }
    rows = []
    for info in listed:
        arms = known.get(info.id)
        if arms is None:
            asked = asked_items(dataset, info.split, info.item_limit, sizes)
            arms = arm_rows(store, info, asked, specs.get(info.id, {}), variants.get(info.id, []), figures)
            if read is not None and info.state not in LIVE_STATES:
                read[key_of[info.id]] = arms
        rows.append(RunRow(info, arms))
    return rows
