"""One variant's outcomes in a run, held small: what its summary, the filters and the question list read.

Per item only a packed verdict (status, execution, exact-set and test-suite match, cached, hardness:
``store.scores.STATUS_CODES`` and the bits beside it), read for a stored run by one slim SELECT; the
figures its summary adds up (cost, tokens, Soft-F1, latencies) of the stored rows summed by the store
(``ScoreFigures``), and those of the rows folded in from a live run's events added here. The full
rows of a stored run stay in the store: ``RunResults.outcome`` reads one when asked. The summary is
the one ``VariantSummary.add`` gives over the same rows (the latencies of rows folded in from events
come last, and the sums add the store's rows first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from workbench.core.reports.overrides import Overrides
from workbench.core.reports.summaries import VariantSummary
from workbench.core.store.scores import (
    CACHED_BIT,
    CODE_HARDNESS,
    STATUS_CODES,
    UNLISTED_HARDNESS,
    ScoreFigures,
    ScoreOutcomes,
    ScoreRow,
)

SCORED, UNSCORABLE, FAILED, OTHER = 0, 1, 2, 3  # a code's status (bits 0-1)
CACHED = CACHED_BIT


def _flag(value: bool | None) -> int:
    return 0 if value is None else 2 if value else 1


def exec_of(code: int) -> bool:
    """Whether the row matched on execution (its exec_match is True)."""
    return (code >> 2) & 3 == 2


def state_of(code: int) -> str:
    """The verdict in one word: right, wrong, failed or unscorable (``RunResults.answer_state``)."""
    status = code & 3
    if status in (FAILED, UNSCORABLE):
        return "failed" if status == FAILED else "unscorable"
    return "right" if exec_of(code) else "wrong"


class HardnessNames:
    """The hardness names a run's codes number (0: none), shared by its variants; the dataset's levels first."""

    def __init__(self, levels: Sequence[str]) -> None:
        self.names: list[str | None] = [None, *dict.fromkeys(levels)]
        self.numbers = {name: k for k, name in enumerate(self.names)}

    def number(self, name: str | None) -> int:
        if name not in self.numbers:
            if len(self.names) == UNLISTED_HARDNESS:
                raise ValueError(f"more than {UNLISTED_HARDNESS - 1} hardness levels in one run")
            self.numbers[name] = len(self.names)
            self.names.append(name)
        return self.numbers[name]

    @property
    def listed(self) -> list[str]:
        return [n for n in self.names if n is not None]


class VariantOutcomes:
    """One variant's latest outcome per item: every item's code, the stored rows' figures, the live rows."""

    def __init__(self, names: HardnessNames) -> None:
        self.names = names
        self.codes: dict[int, int] = {}  # item index -> the packed verdict of its latest row
        self.stored = ScoreFigures()  # the figures of the stored rows that no live row replaced
        self.live: dict[int, ScoreRow] = {}  # rows folded in from events, as they came
        self.added: dict[int, None] = {}  # the items the live rows added (not stored at load), in order
        self.stale = False  # a live row replaced a stored one: ``stored`` is to be read again without it

    def load(self, stored: ScoreOutcomes) -> None:
        """A stored run's rows (``Store.score_outcomes`` with ``names.listed``)."""
        codes = stored.codes
        for index, level in stored.unlisted.items():  # rare: a level the dataset does not have, numbered now
            mask = ~(UNLISTED_HARDNESS << CODE_HARDNESS)
            codes[index] = codes[index] & mask | self.names.number(level) << CODE_HARDNESS
        self.codes, self.stored = codes, stored.figures

    def put(self, row: ScoreRow) -> None:
        """``row`` (an event's) as the item's outcome, replacing the one before in its place."""
        index = row.item_index
        if index not in self.codes:
            self.added[index] = None
        elif index not in self.live and index not in self.added:
            self.stale = True
        self.codes[index] = (
            STATUS_CODES.get(row.status, OTHER)
            | _flag(row.exec_match) << 2
            | _flag(row.exact_match) << 4
            | _flag(row.ts_match) << 6
            | (CACHED if row.cached else 0)
            | self.names.number(row.hardness) << CODE_HARDNESS
        )
        self.live[index] = row

    # --- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, index: object) -> bool:
        return index in self.codes

    def __iter__(self) -> Iterator[int]:
        return iter(self.codes)

    def hardness(self, index: int) -> str | None:
        code = self.codes.get(index)
        return None if code is None else self.names.names[code >> CODE_HARDNESS]

    def verdicts(self) -> dict[int, bool]:
        """Scored items -> whether each matched on execution."""
        return {i: (c >> 2) & 3 == 2 for i, c in self.codes.items() if c & 3 == SCORED}  # exec_of, inline

    def summary(
        self, name: str, model: str, levels: Sequence[str], overrides: Overrides, sql_of: Callable[[int], str | None]
    ) -> VariantSummary:
        """What ``VariantSummary.add`` gives over these rows; ``sql_of(item)``: the item's predicted SQL, read only
        for the items an "also correct" dispute names."""
        s = VariantSummary(name, model, by_hardness={h: [0, 0] for h in levels})
        other_n = other_right = 0  # completed rows of another status: never counted by the overrides' rule
        for code, n in Counter(self.codes.values()).items():
            status = code & 3
            if status == FAILED:
                s.failed += n
                continue
            if status == UNSCORABLE:
                s.unscorable += n
                continue
            right = exec_of(code)
            if status == OTHER:
                other_n, other_right = other_n + n, other_right + right * n
            s.completed += n
            s.correct += right * n
            s.exact += ((code >> 4) & 3 == 2) * n
            ts = (code >> 6) & 3
            s.ts_n += bool(ts) * n
            s.ts_correct += (ts == 2) * n
            s.cached += bool(code & CACHED) * n
            cell = s.by_hardness.get(self.names.names[code >> CODE_HARDNESS])  # type: ignore[arg-type]
            if cell is not None:
                cell[0] += right * n
                cell[1] += n
        self._add_figures(s)
        scored, right = s.completed - other_n, s.correct - other_right
        s.override_n, s.override_correct = self._with_overrides(scored, right, overrides, sql_of)
        return s

    def _add_figures(self, s: VariantSummary) -> None:
        """The stored rows' figures, then the live rows' (as ``add`` counts them: rows neither failed nor
        unscorable)."""
        stored = self.stored
        s.cost, s.prompt_tokens, s.completion_tokens = stored.cost, stored.prompt_tokens, stored.completion_tokens
        s.soft_f1_total, s.soft_f1_n = stored.soft_f1_total, stored.soft_f1_n
        s.latencies_ms, s.cached_latencies_ms = list(stored.latencies_ms), list(stored.cached_latencies_ms)
        for row in self.live.values():
            if row.status in ("failed", "unscorable"):
                continue
            s.cost += row.cost
            s.prompt_tokens += row.prompt_tokens
            s.completion_tokens += row.completion_tokens
            if row.soft_f1 is not None:
                s.soft_f1_total += row.soft_f1
                s.soft_f1_n += 1
            if row.latency_ms is not None:
                (s.cached_latencies_ms if row.cached else s.latencies_ms).append(row.latency_ms)

    def _with_overrides(
        self, scored: int, correct: int, overrides: Overrides, sql_of: Callable[[int], str | None]
    ) -> tuple[int, int]:
        """(n, correct) of EX with overrides (overrides.py), from the scored rows' (n, correct): less the items left
        out, and more those that did not match but whose SQL was marked also correct."""
        n, right = scored, correct
        for i in overrides.left_out | {i for i, _ in overrides.also_correct}:
            code = self.codes.get(i)
            if code is None or code & 3 != SCORED:
                continue
            if i in overrides.left_out:
                n, right = n - 1, right - exec_of(code)
            elif not exec_of(code) and (i, (sql_of(i) or "").strip()) in overrides.also_correct:
                right += 1
        return n, right
