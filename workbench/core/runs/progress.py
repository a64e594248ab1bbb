"""Progress of one start of a run: its counts (kept by the run's results) and the rate, ETA and elapsed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.core.store import ScoreRow


@dataclass(frozen=True)
class RunProgress:
    """The answers one start of a run has got so far, of those it set out to get (``RunResults.progress``)."""

    total: int = 0
    done: int = 0
    correct: int = 0  # execution match
    failed: int = 0
    cost: float = 0.0

    def counting(self, row: ScoreRow, sign: int = 1) -> RunProgress:
        """These counts with ``row`` added (``sign`` -1: taken out, for a row that a newer one replaces)."""
        return RunProgress(
            total=self.total,
            done=self.done + sign,
            correct=self.correct + sign * bool(row.exec_match),
            failed=self.failed + sign * (row.status == "failed"),
            cost=self.cost + sign * row.cost,
        )


class ProgressMeter:
    """Rate, ETA and elapsed time of one start of a run (shared by CLI and GUI).

    It counts nothing itself: ``counts`` returns the run's results' ``RunProgress``.
    """

    def __init__(self, counts: Callable[[], RunProgress], clock: Callable[[], float] = time.monotonic) -> None:
        self.counts = counts
        self.clock = clock
        self.started = clock()

    def restart(self) -> None:
        self.started = self.clock()

    @property
    def done(self) -> int:
        return self.counts().done

    @property
    def total(self) -> int:
        return self.counts().total

    @property
    def cost(self) -> float:
        return self.counts().cost

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    def _rate(self, counts: RunProgress) -> float:
        elapsed = self.elapsed_s
        return counts.done / elapsed if elapsed > 0 else 0.0

    def _eta_s(self, counts: RunProgress) -> float | None:
        rate = self._rate(counts)
        return (counts.total - counts.done) / rate if rate > 0 else None

    @property
    def rate(self) -> float:
        return self._rate(self.counts())

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None before the first answer."""
        return self._eta_s(self.counts())

    @property
    def fraction(self) -> float:
        counts = self.counts()
        return min(1.0, counts.done / counts.total) if counts.total else 1.0

    def describe(self) -> str:
        counts = self.counts()
        eta = self._eta_s(counts)
        eta_text = "ETA -" if eta is None else f"ETA {format_duration(eta)}"
        return (
            f"{counts.done}/{counts.total}  {self._rate(counts):.1f}/s  {eta_text}  correct {counts.correct}  "
            f"failed {counts.failed}  cost ${counts.cost:.4f}"
        )


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
