"""Confidence intervals and summary statistics for accuracy tables."""

from __future__ import annotations

import math
from collections.abc import Sequence

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20260417  # fixed: the same table always gives the same interval


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (as fractions); (0, 0) when n is 0."""
    if n <= 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


EXACT_MCNEMAR_PAIRS = 1000  # up to this many discordant pairs the p-value is summed in exact integers


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact McNemar test p-value for b and c discordant pairs (binomial, p = 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    if n <= EXACT_MCNEMAR_PAIRS:
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    else:  # the same sum in floating point: big integers' cost grows with n squared (minutes at 100k items)
        top = math.lgamma(n + 1) - n * math.log(2)
        tail = math.fsum(math.exp(top - math.lgamma(i + 1) - math.lgamma(n - i + 1)) for i in range(k + 1))
    return min(1.0, 2 * tail)


def paired_bootstrap_interval(losses: int, wins: int, n: int) -> tuple[float, float]:
    """95% percentile bootstrap interval of a paired accuracy difference, (wins - losses) / n; (0, 0) when n is 0.

    ``wins``: items the second got right and the first wrong; ``losses`` the reverse; ``n``: the
    paired items. Resampling the n items with replacement only changes how many wins and losses a
    resample holds, so each of the ``BOOTSTRAP_RESAMPLES`` resamples is one multinomial draw of those
    counts: the paired bootstrap, exactly, without building the resampled items. The seed is fixed.
    """
    if n <= 0:
        return (0.0, 0.0)
    import numpy as np  # ~0.1 s to import: only when a comparison is made

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    counts = rng.multinomial(n, [wins / n, losses / n, max(0.0, 1 - (wins + losses) / n)], size=BOOTSTRAP_RESAMPLES)
    low, high = np.percentile((counts[:, 0] - counts[:, 1]) / n, [2.5, 97.5])
    return (float(low), float(high))
