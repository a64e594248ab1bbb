"""Backoff is a pure function: a table of cases. Limiters are checked in real (short) time."""

from __future__ import annotations

import asyncio
import time

import pytest

from workbench.core.endpoints.pacing import AdaptiveConcurrency, SlidingWindowLimiter, backoff_delay, parse_duration

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("attempt", "status", "headers", "draw", "expected"),
    [
        (1, 500, {}, 0.0, 0.0),  # full jitter: may retry at once after a 5xx
        (1, 500, {}, 0.999, 0.4995),
        (3, 503, {}, 0.5, 1.0),  # 0.5 * 2**2 = 2 s ceiling, half of it
        (20, None, {}, 1.0, 30.0),  # capped
        (1, 429, {}, 0.0, 0.25),  # after a 429 at least half the ceiling
        (1, 429, {"Retry-After": "2"}, 0.9, 2.0),
        (1, 429, {"retry-after-ms": "150"}, 0.9, 0.15),
        (1, 429, {"retry-after-ms": "150", "Retry-After": "9"}, 0.9, 0.15),  # ms wins
        (1, 429, {"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"}, 0.9, 30.0),  # an HTTP date, 30 s after NOW
        (1, 429, {"Retry-After": "9999"}, 0.9, 120.0),  # a server's ask is capped too
        (1, 429, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1.5s"}, 0.9, 1.5),
        (1, 429, {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"}, 0.9, 120.0),
        (1, 429, {"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "20s"}, 0.0, 0.25),
        (2, 429, {"Retry-After": "soon"}, 0.0, 0.5),  # unreadable: fall back to backoff
    ],
)
def test_backoff_table(attempt: int, status: int | None, headers: dict[str, str], draw: float, expected: float) -> None:
    assert backoff_delay(attempt, status, headers, NOW, draw) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20ms", 0.02), ("1.5s", 1.5), ("6m0s", 360.0), ("1h2m", 3720.0), ("3", 3.0), ("abc", None), ("5x", None)],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_sliding_window_never_exceeds_its_limit() -> None:
    async def scenario() -> list[float]:
        limiter = SlidingWindowLimiter(5, window_s=0.3, margin_s=0.0)
        stamps: list[float] = []

        async def one() -> None:
            async with limiter.slot():
                stamps.append(time.monotonic())
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(16)))
        return stamps

    stamps = sorted(asyncio.run(scenario()))
    for k, t in enumerate(stamps):
        assert sum(1 for s in stamps[k:] if s - t < 0.3) <= 5
    assert stamps[-1] - stamps[0] >= 0.9  # 16 requests at 5 per 0.3 s need three more windows


def test_adaptive_concurrency_halves_and_recovers() -> None:
    gate = AdaptiveConcurrency(8)
    gate.throttled()
    assert gate.limit == 4
    gate.throttled()
    gate.throttled()
    gate.throttled()
    assert gate.limit == 1
    for _ in range(1 + 2 + 3):
        gate.succeeded()
    assert gate.limit == 4
