"""Politeness toward an endpoint: rate windows, adaptive concurrency, and backoff.

``backoff_delay`` is a pure function of (attempt, status, response headers, clock, random
draw) so its table of cases can be tested directly; the client is its only caller.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
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
    resets = [parse_duration(lower[k]) for k in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens") if k in lower]
    remaining = [lower.get("x-ratelimit-remaining-requests"), lower.get("x-ratelimit-remaining-tokens")]
    if resets and any(r is not None and r.strip() == "0" for r in remaining):
        known = [r for r in resets if r is not None]
        return max(known) if known else None
    return None


def backoff_delay(attempt: int, status: int | None, headers: Mapping[str, str], now: float, draw: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    A delay the server asks for wins (capped); otherwise exponential backoff with full
    jitter: a uniform share (``draw`` in [0, 1)) of min(30 s, 0.5 s * 2**(attempt-1)).
    """
    asked = server_delay(headers, now)
    if asked is not None:
        return min(asked, MAX_SERVER_DELAY_S)
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempt - 1))
    floor = ceiling / 2 if status == 429 else 0.0  # after a 429 never retry at once
    return floor + (ceiling - floor) * draw


class SlidingWindowLimiter:
    """At most ``limit`` units in any ``window_s`` seconds (requests, or tokens).

    A sliding log rather than a token bucket: a bucket that starts full lets through
    ``limit`` at once and then its refill on top, which breaks a server that counts in a
    sliding window. ``margin_s`` absorbs the delay between our send and its arrival.
    """

    def __init__(self, limit: float, window_s: float = 60.0, margin_s: float = 0.05,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0:
            raise ValueError("a rate limit must be positive")
        self.limit = limit
        self.window_s = window_s
        self.margin_s = margin_s
        self.clock = clock
        self._log: deque[tuple[float, float]] = deque()
        self._used = 0.0
        self._lock = asyncio.Lock()

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s - self.margin_s
        while self._log and self._log[0][0] <= horizon:
            self._used -= self._log.popleft()[1]

    async def acquire(self, units: float = 1.0) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = self.clock()
                self._prune(now)
                if self._used + units <= self.limit or not self._log:
                    self._log.append((now, units))
                    self._used += units
                    return
                wait = self._log[0][0] + self.window_s + self.margin_s - now
                await asyncio.sleep(max(wait, 0.001))


class AdaptiveConcurrency:
    """A semaphore whose size halves on a 429 and grows back by one per window of successes."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.active = 0
        self._successes = 0
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.active < self.limit)
            self.active += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.active -= 1
            self._cond.notify_all()

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
