"""Deadlines that a supervisor outside this process enforces (see ``bounded_pool``).

A worker of a :class:`~workbench.core.sandbox.bounded_pool.BoundedPool` shares a small slot with
its supervisor: the deadline of what it is doing now, the item it is on and the phase
(gold query, prediction, parsing). Code that runs untrusted work wraps it in
``bounded(seconds, phase)``; when the deadline passes, the supervisor kills the worker,
whatever it is doing (a long C call included), and answers for it. Outside a worker the
calls do nothing and only the in-process bounds apply.

The slot also carries the limits of the pool that started this process (time per
statement, rows and bytes per result), so code deep in a worker reads them from here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

PHASES = ("", "gold query", "prediction", "parsing")
MIN_MEMORY_LIMIT_MB = 64  # below that a worker cannot even start Python
GOLD, PREDICTION, PARSING = 1, 2, 3


@dataclass(frozen=True)
class ExecLimits:
    """Bounds on untrusted SQL: per statement (time), per result (rows, bytes) and per worker (memory)."""

    time_limit_s: float = 30.0
    memory_limit_mb: int = 1024
    max_rows: int = 1_000_000
    max_result_mb: float = 256.0
    grace_s: float = 0.5  # past the deadline, the supervisor kills (the in-process interrupt comes first)

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"the time limit must be a positive number of seconds, not {self.time_limit_s!r}")
        if not self.memory_limit_mb >= MIN_MEMORY_LIMIT_MB:
            raise ValueError(
                f"the memory limit must be at least {MIN_MEMORY_LIMIT_MB} MB, not {self.memory_limit_mb!r}"
            )

    @property
    def max_result_bytes(self) -> int:
        return int(self.max_result_mb * 1_000_000)


_slot: Any = None  # RawArray("d", 3): deadline (time.monotonic, 0 = none), item index, phase
_limits = ExecLimits()


def install(slot: Any, limits: ExecLimits) -> None:
    """In a worker: share ``slot`` with the supervisor and adopt the pool's limits."""
    global _slot, _limits
    _slot, _limits = slot, limits


def limits() -> ExecLimits:
    return _limits


@contextmanager
def bounded(seconds: float, phase: int) -> Iterator[None]:
    """Let the supervisor kill this process if the block runs past ``seconds`` (plus its grace)."""
    if _slot is None:
        yield
        return
    _slot[2] = float(phase)
    _slot[0] = time.monotonic() + seconds
    try:
        yield
    finally:
        _slot[0] = 0.0


def mark_item(index: int) -> None:
    """Say which item this worker is on (the supervisor names it if it has to kill)."""
    if _slot is not None:
        _slot[1] = float(index)
