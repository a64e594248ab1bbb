"""Progress of a long job: done of total, rate, ETA and cost so far (shared by CLI and GUI)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProgressMeter:
    total: int = 0
    done: int = 0
    right: int = 0
    failed: int = 0
    cost: float = 0.0
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def restart(self, total: int) -> None:
        self.total, self.done, self.right, self.failed, self.cost = total, 0, 0, 0, 0.0
        self.started = self.clock()

    def record(self, right: bool = False, failed: bool = False, cost: float = 0.0) -> None:
        self.done += 1
        self.right += right
        self.failed += failed
        self.cost += cost

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    @property
    def rate(self) -> float:
        elapsed = self.elapsed_s
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far; None before the first answer."""
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    def describe(self) -> str:
        eta = self.eta_s
        eta_text = "ETA -" if eta is None else f"ETA {format_duration(eta)}"
        return (
            f"{self.done}/{self.total}  {self.rate:.1f}/s  {eta_text}  correct {self.right}  "
            f"failed {self.failed}  cost ${self.cost:.4f}"
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
