"""What a run's rows add up to: one variant's summary, and the paired comparison of two.

``RunResults`` (results.py) is the only place that builds them, from the store or from a
run's events; the CLI, the GUI, the export, history and the benches read them there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from workbench.core.reports.overrides import NO_OVERRIDES, Overrides
from workbench.core.reports.stats import mcnemar_p, paired_bootstrap_interval, percentile, wilson_interval
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import ScoreRow


@dataclass
class VariantSummary:
    variant: str
    model: str = ""
    completed: int = 0  # scored (right or wrong)
    failed: int = 0  # no answer after retries
    unscorable: int = 0
    correct: int = 0  # execution match
    exact: int = 0
    ts_correct: int = 0  # test-suite match, of the ``ts_n`` items that have a suite verdict
    ts_n: int = 0
    # the dataset's levels (Spider's four, BIRD's three; ``RunResults`` passes them) -> [correct, n]
    by_hardness: dict[str, list[int]] = field(default_factory=lambda: {h: [0, 0] for h in HARDNESS_LEVELS})
    soft_f1_total: float = 0.0  # BIRD's Soft-F1, summed over the scored rows that have one
    soft_f1_n: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cached: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)  # answers measured in this run
    cached_latencies_ms: list[float] = field(default_factory=list, repr=False)  # as measured when first answered
    override_correct: int = 0  # EX with overrides (overrides.py): right once disputes apply
    override_n: int = 0  # scored items not left out by a dispute
    _percentiles: dict[tuple[int, float], float | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # latency percentiles asked for since the last row was added

    def add(self, row: ScoreRow, overrides: Overrides = NO_OVERRIDES) -> None:
        verdict = overrides.verdict(row)
        if verdict is not None:
            self.override_n += 1
            self.override_correct += verdict
        if row.status == "failed":
            self.failed += 1
            return
        if row.status == "unscorable":
            self.unscorable += 1
            return
        self.completed += 1
        self.correct += bool(row.exec_match)
        self.exact += bool(row.exact_match)
        self.ts_n += row.ts_match is not None
        self.ts_correct += bool(row.ts_match)
        if row.soft_f1 is not None:
            self.soft_f1_total += row.soft_f1
            self.soft_f1_n += 1
        if row.hardness in self.by_hardness:
            cell = self.by_hardness[row.hardness]
            cell[0] += bool(row.exec_match)
            cell[1] += 1
        self.prompt_tokens += row.prompt_tokens
        self.completion_tokens += row.completion_tokens
        self.cost += row.cost
        self.cached += row.cached
        if row.latency_ms is not None:
            if self._percentiles:
                self._percentiles.clear()
            (self.cached_latencies_ms if row.cached else self.latencies_ms).append(row.latency_ms)

    @property
    def execution_accuracy(self) -> float:
        return self.correct / self.completed if self.completed else 0.0

    @property
    def exact_accuracy(self) -> float:
        return self.exact / self.completed if self.completed else 0.0

    @property
    def has_test_suite(self) -> bool:
        """Whether any item was scored on a test suite: reports then show TS beside EX."""
        return self.ts_n > 0

    @property
    def test_suite_accuracy(self) -> float:
        return self.ts_correct / self.ts_n if self.ts_n else 0.0

    @property
    def soft_f1(self) -> float | None:
        """Mean Soft-F1 (BIRD's) of the scored rows; None where none has one (datasets other than BIRD)."""
        return self.soft_f1_total / self.soft_f1_n if self.soft_f1_n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.completed)

    @property
    def override_accuracy(self) -> float:
        """EX with overrides (overrides.py): equal to ``execution_accuracy`` when no dispute touches the rows."""
        return self.override_correct / self.override_n if self.override_n else 0.0

    def latency_ms(self, q: float) -> float | None:
        """The ``q``-th percentile of this run's measured latencies; None when no answer was measured here."""
        return self._percentile(self.latencies_ms, q)

    def cached_latency_ms(self, q: float) -> float | None:
        """The same over answers from the cache, as they were measured when first asked."""
        return self._percentile(self.cached_latencies_ms, q)

    def _percentile(self, values: list[float], q: float) -> float | None:
        """Remembered until the next row is added: the accuracy table asks for each cell at every repaint."""
        key = (id(values), q)
        if key not in self._percentiles:
            self._percentiles[key] = percentile(values, q)
        return self._percentiles[key]

    def to_json(self) -> dict[str, Any]:
        """The summary's figures; ``soft_f1`` only where computed (a BIRD dataset)."""
        lo, hi = self.interval
        soft = {} if self.soft_f1 is None else {"soft_f1": round(self.soft_f1, 4)}
        return {
            "variant": self.variant,
            "model": self.model,
            "completed": self.completed,
            "failed": self.failed,
            "unscorable": self.unscorable,
            "correct": self.correct,
            "exact": self.exact,
            "execution_accuracy": round(self.execution_accuracy, 4),
            "exact_accuracy": round(self.exact_accuracy, 4),
            "ts_correct": self.ts_correct,
            "ts_n": self.ts_n,
            "test_suite_accuracy": round(self.test_suite_accuracy, 4) if self.ts_n else None,
            "ci95": [round(lo, 4), round(hi, 4)],
            "with_overrides": {
                "correct": self.override_correct,
                "n": self.override_n,
                "execution_accuracy": round(self.override_accuracy, 4),
            },
            "by_hardness": {h: {"correct": c, "n": n} for h, (c, n) in self.by_hardness.items()},
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": round(self.cost, 6),
            "cached": self.cached,
            "latency_ms_p50": self.latency_ms(50),
            "latency_ms_p95": self.latency_ms(95),
            "cached_latency_ms_p50": self.cached_latency_ms(50),
        } | soft


@dataclass(frozen=True)
class PairedComparison:
    """Two variants on the items both answered: where they agree, and where one wins."""

    first: str
    second: str
    both_right: int
    both_wrong: int
    first_only: int  # items the first got right and the second wrong
    second_only: int

    @property
    def n(self) -> int:
        return self.both_right + self.both_wrong + self.first_only + self.second_only

    @property
    def p_value(self) -> float:
        return mcnemar_p(self.first_only, self.second_only)

    @property
    def first_accuracy(self) -> float:
        """Execution accuracy of the first on the paired items."""
        return (self.both_right + self.first_only) / self.n if self.n else 0.0

    @property
    def second_accuracy(self) -> float:
        return (self.both_right + self.second_only) / self.n if self.n else 0.0

    @property
    def first_interval(self) -> tuple[float, float]:
        return wilson_interval(self.both_right + self.first_only, self.n)

    @property
    def second_interval(self) -> tuple[float, float]:
        return wilson_interval(self.both_right + self.second_only, self.n)

    @property
    def difference(self) -> float:
        """Second minus first, in accuracy (a fraction), on the paired items."""
        return (self.second_only - self.first_only) / self.n if self.n else 0.0

    @cached_property
    def difference_interval(self) -> tuple[float, float]:
        """95% paired bootstrap interval of ``difference`` (stats.paired_bootstrap_interval), computed once."""
        return paired_bootstrap_interval(self.first_only, self.second_only, self.n)

    def to_json(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "n": self.n,
            "both_right": self.both_right,
            "both_wrong": self.both_wrong,
            "first_only": self.first_only,
            "second_only": self.second_only,
            "mcnemar_p": round(self.p_value, 6),
        }


def compare_verdicts(first: str, second: str, a: dict[int, bool], b: dict[int, bool]) -> PairedComparison:
    """Paired comparison of two variants' execution verdicts (item -> right), on the items both have."""
    counts = {(True, True): 0, (False, False): 0, (True, False): 0, (False, True): 0}
    for i in set(a) & set(b):
        counts[(a[i], b[i])] += 1
    return PairedComparison(
        first, second, counts[(True, True)], counts[(False, False)], counts[(True, False)], counts[(False, True)]
    )
