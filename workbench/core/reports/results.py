"""A run's results: one outcome per (variant, question), summaries, comparisons, filters, progress.

``RunResults`` holds the latest stored row of every variant on every question, read from
the store (a finished or resumed run) or folded in from the runner's events, which carry
those same rows (a live run). The CLI (progress, report), the GUI's panes, the export,
history and the benches all read it; none of them computes anything of its own.

It is lazy over the store: of a stored run it holds, per variant, only what its summary,
the filters and the question list read (``variant_outcomes.VariantOutcomes``: a packed
verdict per item, read by one slim SELECT, and the stored rows' figures summed by the
store), and reads a full ``ScoreRow`` (predicted SQL, reason, ...) from the store when
``outcome`` asks, keeping the last ``READ_ROWS`` read. The rows of a live run's events are
held as they came. ``rows[variant]`` is a read-only mapping (item -> row) over both;
iterating its ``values()`` or ``items()`` reads the stored rows in one pass.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass

from workbench.core.reports.overrides import NO_OVERRIDES, Overrides
from workbench.core.reports.summaries import PairedComparison, VariantSummary, compare_verdicts
from workbench.core.reports.variant_outcomes import FAILED, SCORED, HardnessNames, VariantOutcomes, exec_of, state_of
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RunStarted
from workbench.core.runs.progress import RunProgress
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import Dispute, ScoreRow, Store

READ_ROWS = 512  # full rows read from the store and kept (the outputs pane, the question list's tooltips)


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
        self._names = HardnessNames(self.hardness_levels)
        self._outcomes: dict[str, VariantOutcomes] = {v: VariantOutcomes(self._names) for v in self.variants}
        self._store: Store | None = None  # where the rows not folded in from events are read (from_store)
        self._variant_ids: dict[str, int] = {}
        self._read: OrderedDict[tuple[str, int], ScoreRow | None] = OrderedDict()  # the last rows read
        self.run_id: int | None = None
        self.total = 0
        self.already_done = 0
        self._summaries: list[VariantSummary] | None = None  # read by several panes per update: computed once
        self._pairs: dict[tuple[str, str], PairedComparison] = {}  # the same, per pair compared, until a row comes
        self.changes = 0  # counts every change of a result: what is computed from them can be kept until it moves
        self._streamed: set[tuple[str, int]] = set()  # (variant, question) folded in since the last RunStarted
        self._progress = RunProgress()
        self.overrides: Overrides = NO_OVERRIDES  # the split's gold disputes, for EX with overrides
        self.known_hardness: dict[int, str | None] = {}  # from the gold SQL at load (scoring/gold_hardness.py)

    @classmethod
    def from_store(cls, store: Store, run_id: int, hardness_levels: Sequence[str] | None = None) -> RunResults:
        """The run as stored; its full rows stay in ``store``, read when asked (keep it open while reading them)."""
        ordered = store.run_variants(run_id)
        names_models = {name: model for _, name, model in ordered}
        results = cls([name for _, name, _ in ordered], names_models, hardness_levels)
        results.run_id, results._store = run_id, store
        info = store.run(run_id)
        results.set_disputes(store.disputes(info.dataset_root, info.split))
        for variant_id, name, _ in ordered:
            results._variant_ids[name] = variant_id
            results._outcomes[name].load(store.score_outcomes(run_id, variant_id, results._names.listed))
        return results

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when it changed a result."""
        if isinstance(event, RunStarted):
            for name in event.variants:
                if name not in self._outcomes:
                    self.variants.append(name)
                    self._outcomes[name] = VariantOutcomes(self._names)
            self.models.update(event.models)
            self.run_id, self.total, self.already_done = event.run_id, event.total, event.already_done
            self._streamed.clear()
            self._progress = RunProgress(total=event.total, before=event.already_done)
            self._summaries, self._pairs = None, {}
            self.changes += 1
            return True
        if isinstance(event, ItemScored | ItemFailed) and event.variant in self._outcomes:
            outcomes, key = self._outcomes[event.variant], (event.variant, event.row.item_index)
            if key in self._streamed:  # this start answered it before: the newer row replaces that one
                self._progress = self._progress.counting(outcomes.live[key[1]], sign=-1)
            self._streamed.add(key)
            self._progress = self._progress.counting(event.row)
            outcomes.put(event.row)
            self._read.pop(key, None)
            self._summaries, self._pairs = None, {}
            self.changes += 1
            return True
        return False

    def set_disputes(self, disputes: list[Dispute]) -> None:
        """The split's gold disputes: they change "EX with overrides" and nothing else."""
        overrides = Overrides.of(disputes)
        if overrides != self.overrides:
            self.overrides = overrides
            self._summaries = None
            self.changes += 1

    # --- reading -----------------------------------------------------------------------
    @property
    def rows(self) -> dict[str, VariantRows]:
        """Variant -> its rows by item, read-only (a mapping over the columns, the events' rows and the store)."""
        return {name: VariantRows(self, name) for name in self.variants}

    def outcome(self, variant: str, index: int) -> ScoreRow | None:
        """The variant's latest row on question ``index``: an event's, else the store's (read now, then kept)."""
        outcomes = self._outcomes.get(variant)
        if outcomes is None:
            return None
        if index in outcomes.live:
            return outcomes.live[index]
        if self._store is None or index not in outcomes:
            return None
        key = (variant, index)
        if key in self._read:
            self._read.move_to_end(key)
            return self._read[key]
        assert self.run_id is not None
        row = self._store.score(self.run_id, self._variant_ids[variant], index)
        self._read[key] = row
        if len(self._read) > READ_ROWS:
            self._read.popitem(last=False)
        return row

    def answer_state(self, variant: str, index: int) -> str:
        """The variant's verdict on question ``index`` without reading its row: right, wrong, failed, unscorable,
        or "" when it has none yet."""
        outcomes = self._outcomes.get(variant)
        code = None if outcomes is None else outcomes.codes.get(index)
        return "" if code is None else state_of(code)

    def full_rows(self, variant: str) -> Iterator[ScoreRow]:
        """Every row of the variant in ``rows[variant]``'s order (the stored ones by item, then those the events
        added), the stored rows read from the store in one pass."""
        outcomes = self._outcomes.get(variant)
        if outcomes is None:
            return
        live, codes = outcomes.live, outcomes.codes
        if self._store is not None and self.run_id is not None and variant in self._variant_ids:
            for row in self._store.scores(self.run_id, self._variant_ids[variant]):
                index = row.item_index
                if index in codes and index not in outcomes.added:  # rows stored since load are not this view's
                    yield live.get(index, row)
        yield from (live[index] for index in outcomes.added)

    def summaries(self) -> list[VariantSummary]:
        if self._summaries is None:
            for name, outcomes in self._outcomes.items():
                if outcomes.stale and self._store is not None and self.run_id is not None:  # the stored part again
                    vid = self._variant_ids[name]
                    outcomes.stored = self._store.score_figures(self.run_id, vid, leaving_out=outcomes.live.keys())
                    outcomes.stale = False
            self._summaries = [
                self._outcomes[name].summary(
                    name, self.models.get(name, ""), self.hardness_levels, self.overrides,
                    lambda index, name=name: getattr(self.outcome(name, index), "predicted_sql", None),
                )
                for name in self.variants
            ]  # fmt: skip
        return self._summaries

    def verdicts(self, variant: str) -> dict[int, bool]:
        outcomes = self._outcomes.get(variant)
        return {} if outcomes is None else outcomes.verdicts()

    def compare(self, first: str, second: str) -> PairedComparison:
        """The paired comparison of two of the run's variants; KeyError names a variant it does not have."""
        for name in (first, second):
            if name not in self._outcomes:
                raise KeyError(f"no variant {name!r} in run {self.run_id} (variants: {', '.join(self.variants)})")
        if (first, second) not in self._pairs:
            self._pairs[first, second] = compare_verdicts(first, second, self.verdicts(first), self.verdicts(second))
        return self._pairs[first, second]

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
        for outcomes in self._outcomes.values():
            level = outcomes.hardness(index)
            if level:
                return level
        return self.known_hardness.get(index)

    def matches(self, index: int, spec: QuestionFilter) -> bool:
        if spec.hardness and self.hardness(index) != spec.hardness:
            return False
        if spec.kind == "all":
            return True
        if spec.kind == "listed":
            return index in spec.items
        if spec.kind == "disagree":
            codes = [outcomes.codes.get(index) for outcomes in self._outcomes.values()]
            return len({exec_of(c) for c in codes if c is not None and c & 3 == SCORED}) > 1
        outcomes = self._outcomes.get(spec.variant or "")
        code = None if outcomes is None else outcomes.codes.get(index)
        if code is None:
            return False
        if spec.kind == "failed":
            return code & 3 == FAILED
        if spec.kind == "wrong":
            return code & 3 == FAILED or (code & 3 == SCORED and not exec_of(code))
        return code & 3 == SCORED and exec_of(code)

    def filter(self, indices: list[int], spec: QuestionFilter) -> list[int]:
        if spec.kind == "all" and not spec.hardness:
            return list(indices)
        return [i for i in indices if self.matches(i, spec)]

    @property
    def done(self) -> int:
        return sum(len(outcomes) for outcomes in self._outcomes.values())


def row_state(row: ScoreRow) -> str:
    """A row's verdict in one word, as ``RunResults.answer_state`` gives it from the columns."""
    if row.status in ("failed", "unscorable"):
        return row.status
    return "right" if row.exec_match else "wrong"


class VariantRows(Mapping[int, ScoreRow]):
    """One variant's rows of a ``RunResults`` (item -> row): membership and order from its columns, a row read
    when asked, and ``values()``/``items()`` read in one pass (``RunResults.full_rows``)."""

    def __init__(self, results: RunResults, variant: str) -> None:
        self.results, self.variant = results, variant
        self._outcomes = results._outcomes[variant]

    def __getitem__(self, index: int) -> ScoreRow:
        row = self.results.outcome(self.variant, index) if index in self._outcomes else None
        if row is None:
            raise KeyError(index)
        return row

    def __iter__(self) -> Iterator[int]:
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def __contains__(self, index: object) -> bool:
        return index in self._outcomes

    def values(self) -> ValuesView[ScoreRow]:
        return _Rows(self)

    def items(self) -> ItemsView[int, ScoreRow]:
        return _Items(self)


class _Rows(ValuesView[ScoreRow]):
    _mapping: VariantRows

    def __iter__(self) -> Iterator[ScoreRow]:
        return self._mapping.results.full_rows(self._mapping.variant)


class _Items(ItemsView[int, ScoreRow]):
    _mapping: VariantRows

    def __iter__(self) -> Iterator[tuple[int, ScoreRow]]:
        return ((row.item_index, row) for row in self._mapping.results.full_rows(self._mapping.variant))
