"""Which databases tell gold queries from their neighbours, and the few that together tell the most.

``probe_database`` runs in a worker of a ``BoundedPool`` (each statement bounded in time and
memory, the file opened read-only): per gold query, whether gold ran, and which neighbours'
results differ from gold's there, compared as scoring compares (``compare_results``; a
neighbour that fails differs). ``greedy_cover`` then keeps, one database at a time, the
candidate that tells apart the most pairs (gold, neighbour) that the databases kept so far
(the original first) do not, until none adds any or ``keep`` are chosen: the greedy set cover
of the paper. A candidate on which some gold query fails is never kept (TS would have no
verdict for that item).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import QueryError, SandboxedDatabase
from workbench.core.scoring.execution import compare_results, order_matters, prepare_for_execution

Pair = tuple[int, int]  # (gold query, neighbour) positions


@dataclass(frozen=True)
class Probe:
    """One gold query and its neighbours, as the evaluator would run them."""

    gold: str
    neighbours: tuple[str, ...]

    @classmethod
    def of(cls, gold: str, neighbours: Sequence[str]) -> Probe:
        return cls(prepare_for_execution(gold), tuple(prepare_for_execution(n) for n in neighbours))


@dataclass(frozen=True)
class ProbeResult:
    gold_fails: tuple[int, ...]  # gold queries that failed on the database
    told_apart: frozenset[Pair]


def probe_database(path: str, probes: Sequence[Probe]) -> ProbeResult:
    """Run every probe on the database at ``path`` (in a bounded worker; see module doc)."""
    bounds = watchdog.limits()
    fails: list[int] = []
    told: set[Pair] = set()
    with SandboxedDatabase(path, bounds.time_limit_s, bounds.max_rows, bounds.max_result_bytes) as db:
        for q, probe in enumerate(probes):
            watchdog.mark_item(q)
            gold = db.execute(probe.gold, watchdog.GOLD)
            if isinstance(gold, QueryError):
                fails.append(q)
                continue
            ordered = order_matters(probe.gold)
            for n, sql in enumerate(probe.neighbours):
                out = db.execute(sql, watchdog.PREDICTION)
                if isinstance(out, QueryError) or not compare_results(gold.rows, out.rows, ordered)[0]:
                    told.add((q, n))
    return ProbeResult(tuple(fails), frozenset(told))


@dataclass(frozen=True)
class Cover:
    chosen: tuple[int, ...]  # candidate positions, in the order they were picked
    by_original: int  # pairs the original database already tells apart
    by_suite: int  # pairs the original and the chosen ones tell apart
    pairs: int  # all pairs (gold, neighbour)


def greedy_cover(original: ProbeResult, candidates: Sequence[ProbeResult | None], pairs: int, keep: int) -> Cover:
    """Pick up to ``keep`` candidates (None: one whose probe was stopped) by the greedy set cover."""
    covered = set(original.told_apart)
    usable = {k: c.told_apart for k, c in enumerate(candidates) if c is not None and not c.gold_fails}
    chosen: list[int] = []
    while len(chosen) < keep and usable:
        best = max(usable, key=lambda k: (len(usable[k] - covered), -k))
        gain = usable.pop(best) - covered
        if not gain:
            break
        covered |= gain
        chosen.append(best)
    return Cover(tuple(chosen), len(original.told_apart), len(covered), pairs)
