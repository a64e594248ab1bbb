"""Progress of one start of a run: its counts (kept by the run's results) and the rate, ETA and elapsed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.core.store import ScoreRow


@dataclass(frozen=True)
class RunProgress:
    """A run's answers so far (``RunResults.progress``): ``before`` this start (a resumed or reopened run),
    and ``done`` by this start, which is what the rate, the ETA and the counts are of."""

    total: int = 0  # variant x item pairs of the whole run
    done: int = 0
    correct: int = 0  # execution match
    failed: int = 0
    cost: float = 0.0
    before: int = 0  # pairs answered before this start

    @property
    def finished(self) -> int:
        """Pairs answered, before this start and in it: what the progress bar shows."""
        return self.before + self.done

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.finished)

    def counting(self, row: ScoreRow, sign: int = 1) -> RunProgress:
        """These counts with ``row`` added (``sign`` -1: taken out, for a row that a newer one replaces)."""
        return RunProgress(
            total=self.total,
            done=self.done + sign,
            correct=self.correct + sign * bool(row.exec_match),
            failed=self.failed + sign * (row.status == "failed"),
            cost=self.cost + sign * row.cost,
            before=self.before,
        )


class ProgressMeter:
    """Rate, ETA and elapsed time of one start of a run (shared by CLI and GUI).

    It counts nothing itself: ``counts`` returns the run's results' ``RunProgress``. Time spent
    paused does not count, so a paused run's rate and ETA stand still until it continues.
    """

    def __init__(self, counts: Callable[[], RunProgress], clock: Callable[[], float] = time.monotonic) -> None:
        self.counts = counts
        self.clock = clock
        self.started = clock()
        self._paused_at: float | None = None
        self._paused_s = 0.0

    def restart(self) -> None:
        self.started, self._paused_at, self._paused_s = self.clock(), None, 0.0

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.clock()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_s += self.clock() - self._paused_at
            self._paused_at = None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    @property
    def done(self) -> int:
        """Pairs answered so far, including those before this start."""
        return self.counts().finished

    @property
    def total(self) -> int:
        return self.counts().total

    @property
    def cost(self) -> float:
        return self.counts().cost

    @property
    def elapsed_s(self) -> float:
        """Time this start has been running, pauses left out."""
        now = self._paused_at if self._paused_at is not None else self.clock()
        return now - self.started - self._paused_s

    def _rate(self, counts: RunProgress) -> float:
        elapsed = self.elapsed_s
        return counts.done / elapsed if elapsed > 0 else 0.0

    def _eta_s(self, counts: RunProgress) -> float | None:
        rate = self._rate(counts)
        return counts.remaining / rate if rate > 0 else None

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
        return min(1.0, counts.finished / counts.total) if counts.total else 1.0

    def describe(self) -> str:
        counts = self.counts()
        eta = self._eta_s(counts)
        eta_text = "ETA -" if eta is None else f"ETA {format_duration(eta)}"
        if self.paused:
            eta_text += " (paused)"
        return (
            f"{counts.finished}/{counts.total}  {self._rate(counts):.1f}/s  {eta_text}  correct {counts.correct}  "
            f"failed {counts.failed}  cost ${counts.cost:.4f}"
        )


def format_duration(seconds: float) -> str:
    """A duration as people write it: ``42 s``, ``3 min 05 s``, ``2 h 14 min``, ``3 d 4 h``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
