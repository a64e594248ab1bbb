"""A run's results: one outcome per (variant, question), summaries, comparisons, filters, progress.

``RunResults`` holds the latest stored row of every variant on every question, read from
the store (a finished or resumed run) or folded in from the runner's events, which carry
those same rows (a live run). The CLI (progress, report), the GUI's panes, the export,
history and the benches all read it; none of them computes anything of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.reports.overrides import NO_OVERRIDES, Overrides
from workbench.core.reports.summaries import PairedComparison, VariantSummary, compare_verdicts
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RunStarted
from workbench.core.runs.progress import RunProgress
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import Dispute, ScoreRow, Store


@dataclass(frozen=True)
class QuestionFilter:
    kind: str = "all"  # all | wrong | right | failed (in `variant`) | disagree (variants differ) | listed (`items`)
    variant: str | None = None
    hardness: str | None = None
    items: frozenset[int] = frozenset()  # for "listed": the items chosen elsewhere (e.g. fixed vs a baseline)
    label: str = ""  # for "listed": what they are, in words

    def describe(self) -> str:
        if self.kind == "listed":
            return self.label + (f", {self.hardness}" if self.hardness else "")
        words = {"all": "all questions", "disagree": "questions the variants disagree on"}
        text = words.get(self.kind, f"{self.kind} in {self.variant}")
        return text + (f", {self.hardness}" if self.hardness else "")


class RunResults:
    def __init__(
        self, variants: list[str], models: dict[str, str] | None = None, hardness_levels: Sequence[str] | None = None
    ) -> None:
        self.variants = list(variants)
        self.models = dict(models or {})
        self.hardness_levels = tuple(hardness_levels or HARDNESS_LEVELS)  # the dataset's (None: Spider's)
        self.rows: dict[str, dict[int, ScoreRow]] = {v: {} for v in self.variants}
        self.run_id: int | None = None
        self.total = 0
        self.already_done = 0
        self._summaries: list[VariantSummary] | None = None  # read by several panes per update: computed once
        self._streamed: set[tuple[str, int]] = set()  # (variant, question) folded in since the last RunStarted
        self._progress = RunProgress()
        self.overrides: Overrides = NO_OVERRIDES  # the split's gold disputes, for EX with overrides
        self.known_hardness: dict[int, str | None] = {}  # from the gold SQL at load (scoring/gold_hardness.py)

    @classmethod
    def from_store(cls, store: Store, run_id: int, hardness_levels: Sequence[str] | None = None) -> RunResults:
        ordered = store.run_variants(run_id)
        names_models = {name: model for _, name, model in ordered}
        results = cls([name for _, name, _ in ordered], names_models, hardness_levels)
        results.run_id = run_id
        info = store.run(run_id)
        results.set_disputes(store.disputes(info.dataset_root, info.split))
        names = {vid: name for vid, name, _ in ordered}
        for row in store.scores(run_id):
            if row.variant_id in names:
                results.rows[names[row.variant_id]][row.item_index] = row
        return results

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when it changed a result."""
        if isinstance(event, RunStarted):
            for name in event.variants:
                if name not in self.rows:
                    self.variants.append(name)
                    self.rows[name] = {}
            self.models.update(event.models)
            self.run_id, self.total, self.already_done = event.run_id, event.total, event.already_done
            self._streamed.clear()
            self._progress = RunProgress(total=event.total, before=event.already_done)
            self._summaries = None
            return True
        if isinstance(event, ItemScored | ItemFailed) and event.variant in self.rows:
            rows, key = self.rows[event.variant], (event.variant, event.row.item_index)
            if key in self._streamed:  # this start answered it before: the newer row replaces that one
                self._progress = self._progress.counting(rows[key[1]], sign=-1)
            self._streamed.add(key)
            self._progress = self._progress.counting(event.row)
            rows[key[1]] = event.row
            self._summaries = None
            return True
        return False

    def set_disputes(self, disputes: list[Dispute]) -> None:
        """The split's gold disputes: they change "EX with overrides" and nothing else."""
        overrides = Overrides.of(disputes)
        if overrides != self.overrides:
            self.overrides = overrides
            self._summaries = None

    # --- reading -----------------------------------------------------------------------
    def outcome(self, variant: str, index: int) -> ScoreRow | None:
        return self.rows.get(variant, {}).get(index)

    def summaries(self) -> list[VariantSummary]:
        if self._summaries is None:
            out = []
            for name in self.variants:
                levels = {h: [0, 0] for h in self.hardness_levels}
                summary = VariantSummary(name, self.models.get(name, ""), by_hardness=levels)
                for row in self.rows[name].values():
                    summary.add(row, self.overrides)
                out.append(summary)
            self._summaries = out
        return self._summaries

    def verdicts(self, variant: str) -> dict[int, bool]:
        return {i: bool(r.exec_match) for i, r in self.rows.get(variant, {}).items() if r.status == "scored"}

    def compare(self, first: str, second: str) -> PairedComparison:
        """The paired comparison of two of the run's variants; KeyError names a variant it does not have."""
        for name in (first, second):
            if name not in self.rows:
                raise KeyError(f"no variant {name!r} in run {self.run_id} (variants: {', '.join(self.variants)})")
        return compare_verdicts(first, second, self.verdicts(first), self.verdicts(second))

    def comparisons(self) -> list[PairedComparison]:
        """Every pair of the run's variants, in the run's order."""
        names = self.variants
        return [self.compare(a, b) for k, a in enumerate(names) for b in names[k + 1 :]]

    def progress(self) -> RunProgress:
        """The run so far: the answers folded in since its ``RunStarted``, those before it, and the run's total."""
        return self._progress

    def expect(self, total: int) -> None:
        """A stored run shown as it stands: ``total`` pairs asked, the stored ones answered before (no start yet)."""
        self._progress = RunProgress(total=total, before=self.done)

    def hardness(self, index: int) -> str | None:
        """The level a scored row gives, else the one known from the gold SQL at load."""
        for rows in self.rows.values():
            row = rows.get(index)
            if row is not None and row.hardness:
                return row.hardness
        return self.known_hardness.get(index)

    def matches(self, index: int, spec: QuestionFilter) -> bool:
        if spec.hardness and self.hardness(index) != spec.hardness:
            return False
        if spec.kind == "all":
            return True
        if spec.kind == "listed":
            return index in spec.items
        if spec.kind == "disagree":
            verdicts = {
                bool(r.exec_match) for rows in self.rows.values() if (r := rows.get(index)) and r.status == "scored"
            }
            return len(verdicts) > 1
        row = self.outcome(spec.variant or "", index)
        if row is None:
            return False
        if spec.kind == "failed":
            return row.status == "failed"
        if spec.kind == "wrong":
            return row.status == "failed" or (row.status == "scored" and not row.exec_match)
        return row.status == "scored" and bool(row.exec_match)

    def filter(self, indices: list[int], spec: QuestionFilter) -> list[int]:
        return [i for i in indices if self.matches(i, spec)]

    @property
    def done(self) -> int:
        return sum(len(rows) for rows in self.rows.values())
