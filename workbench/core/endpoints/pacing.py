"""Politeness toward an endpoint: rate windows, adaptive concurrency, and backoff.

``backoff_delay`` is a pure function of (attempt, status, response headers, clock, random
draw) so its table of cases can be tested directly; ``connection.call_with_retries`` is its only caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime

BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0
MAX_SERVER_DELAY_S = 120.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float | None:
    """Seconds in an x-ratelimit-reset value such as "20ms", "1.5s" or "6m0s"."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def server_delay(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for, from retry-after-ms, Retry-After or x-ratelimit-reset-*."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lower:
        try:
            return max(0.0, float(lower["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    if "retry-after" in lower:
        value = lower["retry-after"].strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError):
                pass
    resets = [
        parse_duration(lower[k]) for k in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens") if k in lower
    ]
    remaining = [lower.get("x-ratelimit-remaining-requests"), lower.get("x-ratelimit-remaining-tokens")]
    if resets and any(r is not None and r.strip() == "0" for r in remaining):
        known = [r for r in resets if r is not None]
        return max(known) if known else None
    return None


def backoff_delay(
    attempt: int,
    status: int | None,
    headers: Mapping[str, str],
    now: float,
    draw: float,
    ceiling_s: float | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    A delay the server asks for wins (capped); otherwise exponential backoff with full
    jitter: a uniform share (``draw`` in [0, 1)) of min(30 s, 0.5 s * 2**(attempt-1)).
    ``ceiling_s`` (a patient wait's) replaces both caps: the delays grow to it and no further.
    """
    asked = server_delay(headers, now)
    if asked is not None:
        return min(asked, MAX_SERVER_DELAY_S if ceiling_s is None else ceiling_s)
    cap = MAX_DELAY_S if ceiling_s is None else ceiling_s
    ceiling = min(cap, BASE_DELAY_S * 2 ** min(max(0, attempt - 1), 62))
    floor = ceiling / 2 if status == 429 else 0.0  # after a 429 never retry at once
    return floor + (ceiling - floor) * draw


class SlidingWindowLimiter:
    """At most ``limit`` units (requests, or tokens) arriving at the server in any ``window_s``.

    A sliding log rather than a token bucket: a bucket that starts full lets through
    ``limit`` at once and then its refill on top, which breaks a server that counts in a
    sliding window. Each use is logged at the moment its request *finished* (and counts
    as long as it is in flight), because the server saw it arrive somewhere between our
    send and our answer: so however long a request sat in our HTTP stack before leaving,
    no window of the server can hold more than ``limit``. ``margin_s`` (default: 1% of
    the window, at least 0.25 s) covers clocks that disagree. ``others`` gives the uses
    of everyone else sharing the server's window (a killed process, another one on the
    same store) as (clock time it counts at, units); it is asked again at every check.
    """

    def __init__(
        self,
        limit: float,
        window_s: float = 60.0,
        margin_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        others: Callable[[], Iterable[tuple[float, float]]] | None = None,
    ) -> None:
        if limit <= 0:
            raise ValueError("a rate limit must be positive")
        self.limit = limit
        self.window_s = window_s
        self.margin_s = max(0.25, window_s / 100) if margin_s is None else margin_s
        self.clock = clock
        self._finished: deque[tuple[float, float]] = deque()
        self._finished_units = 0.0
        self._in_flight = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()
        self._others = others

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s - self.margin_s
        while self._finished and self._finished[0][0] <= horizon:
            self._finished_units -= self._finished.popleft()[1]

    async def acquire(self, units: float = 1.0) -> None:
        """Wait until ``units`` fit in the window; pair every call with :meth:`release`."""
        async with self._lock:  # first come, first served
            while True:
                now = self.clock()
                self._prune(now)
                horizon = now - self.window_s - self.margin_s
                theirs = [(at, n) for at, n in (self._others() if self._others else ()) if at > horizon]
                used = self._in_flight + self._finished_units + sum(n for _, n in theirs)
                if used + units <= self.limit or used == 0:
                    self._in_flight += units
                    return
                self._released.clear()
                oldest = [t for t, _ in theirs] + ([self._finished[0][0]] if self._finished else [])
                if oldest:
                    wait = min(oldest) + self.window_s + self.margin_s - now
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._released.wait(), max(wait, 0.001))
                else:
                    await self._released.wait()

    def release(self, units: float = 1.0) -> None:
        self._in_flight -= units
        self._finished.append((self.clock(), units))
        self._finished_units += units
        self._released.set()

    @contextlib.asynccontextmanager
    async def slot(self, units: float = 1.0) -> AsyncIterator[None]:
        await self.acquire(units)
        try:
            yield
        finally:
            self.release(units)


class AdaptiveConcurrency:
    """A FIFO semaphore whose size halves on a 429 and grows back by one per window of successes.

    Waiters queue as futures and exactly as many are woken as there are free slots, so a
    release costs O(1) however many requests wait (a Condition's notify_all would wake
    them all, each to find the slot taken, and stall the loop on long queues).
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.active = 0
        self._successes = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot is counted for us by whoever woke us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # woken and cancelled at once: hand the slot on
            else:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        self.active -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)

    def throttled(self) -> None:
        self.limit = max(1, math.ceil(self.limit / 2))
        self._successes = 0

    def succeeded(self) -> None:
        if self.limit >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self.limit:
            self._successes = 0
            self.limit += 1
            self._wake()
