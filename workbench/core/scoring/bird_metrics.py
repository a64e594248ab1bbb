"""BIRD's metrics, in our own code: EX as set equality of rows, Soft-F1, and R-VES (repeated timing).

Rules (docs/scoring.md says how each edge case is read):
  EX       the prediction's rows, as a set, equal the gold rows as a set: row order and duplicate rows
           are ignored, column order is not (a row is a tuple); Python equality decides values
           (``1 == 1.0``, ``NULL == NULL``, ``'1' != 1``). Both queries run as written (no DISTINCT removal).
  Soft-F1  BIRD Mini-Dev's: duplicate rows dropped (first occurrence kept), rows paired, and per pair
           a predicted cell found anywhere in the gold row is a match, one not found is predicted-only,
           a gold cell missing from the predicted row is gold-only, each over the gold row's width; an
           unpaired gold row is one whole gold-only, an unpaired predicted row one whole predicted-only;
           precision, recall and F1 of the sums. Pairing: identical rows first (so a result EX accepts
           scores 1.0 in any order), then the rest in order, as BIRD's script pairs them.
  R-VES    for an EX-correct pair, the gold and predicted queries run N times; each time ratio is
           gold time / predicted time; ratios beyond three standard deviations of their mean are
           dropped; the mean ratio gives the reward (>= 2: 1.25, >= 1: 1, >= 0.5: 0.75, >= 0.25: 0.5,
           else 0.25; a wrong or failing prediction 0); the score is 100 * mean(sqrt(reward)).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import QueryError, QueryResult
from workbench.core.sandbox.watchdog import ExecLimits

if TYPE_CHECKING:
    from concurrent.futures import Future

Row = tuple[Any, ...]
REWARD_BUCKETS: tuple[tuple[float, float], ...] = ((2.0, 1.25), (1.0, 1.0), (0.5, 0.75), (0.25, 0.5))
LOWEST_REWARD = 0.25  # a correct prediction more than four times slower than the gold query


def set_match(gold: Sequence[Row], pred: Sequence[Row]) -> bool:
    """BIRD's EX: the same set of rows."""
    return set(pred) == set(gold)


def _row_counts(pred_row: Row, gold_row: Row) -> tuple[float, float, float]:
    """(matches, predicted-only, gold-only) cells of one pair of rows, each over the gold row's width."""
    width = len(gold_row) or 1
    matches = sum(1 for v in pred_row if v in gold_row)
    pred_only = len(pred_row) - matches
    gold_only = sum(1 for v in gold_row if v not in pred_row)
    return matches / width, pred_only / width, gold_only / width


def _pairs(gold: list[Row], pred: list[Row]) -> tuple[list[tuple[Row, Row]], list[Row], list[Row]]:
    """Identical rows paired first, then the remaining rows in order; and the unpaired gold and predicted rows."""
    in_pred = set(pred)
    same = [row for row in gold if row in in_pred]
    shared = set(same)
    gold_rest = [row for row in gold if row not in shared]
    pred_rest = [row for row in pred if row not in shared]
    k = min(len(gold_rest), len(pred_rest))
    pairs = [(row, row) for row in same] + list(zip(gold_rest[:k], pred_rest[:k], strict=True))
    return pairs, gold_rest[k:], pred_rest[k:]


def soft_f1(gold: Sequence[Row], pred: Sequence[Row]) -> float:
    """BIRD Mini-Dev's Soft-F1 of one prediction's rows against the gold rows (see the module's rules)."""
    if not gold and not pred:
        return 1.0
    gold_rows, pred_rows = list(dict.fromkeys(gold)), list(dict.fromkeys(pred))
    pairs, gold_left, pred_left = _pairs(gold_rows, pred_rows)
    tp = fp = fn = 0.0
    for gold_row, pred_row in pairs:
        match, pred_only, gold_only = _row_counts(pred_row, gold_row)
        tp, fp, fn = tp + match, fp + pred_only, fn + gold_only
    fn += len(gold_left)
    fp += len(pred_left)
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def bird_outcome(
    gold: QueryResult | QueryError, db: ReadOnlyDatabase, pred_sql: str, max_chars: int
) -> tuple[bool | None, float | None, str]:
    """(EX, Soft-F1, reason) of a prediction, run in ``db`` as written, against the gold query's outcome;
    (None, None, why) when the gold query fails. A prediction over ``max_chars`` is not run."""
    if isinstance(gold, QueryError):
        return None, None, f"gold query fails: {gold}"
    if len(pred_sql) > max_chars:
        return False, 0.0, f"execution (BIRD): prediction too long: {len(pred_sql)} characters (limit {max_chars})"
    pred = db.execute(pred_sql, watchdog.PREDICTION)
    if isinstance(pred, QueryError):
        return False, 0.0, f"execution (BIRD): prediction fails: {pred}; exact: not applicable (BIRD)"
    same = set_match(gold.rows, pred.rows)
    f1 = soft_f1(gold.rows, pred.rows)
    why = "same set of rows" if same else f"rows differ as sets: {len(set(pred.rows))} vs {len(set(gold.rows))}"
    return same, f1, f"execution (BIRD): {why}; soft-F1 {f1:.3f}; exact: not applicable (BIRD)"


# --- R-VES ----------------------------------------------------------------------------
def reward_for(time_ratio: float) -> float:
    """BIRD's reward for a correct prediction whose mean time ratio (gold / predicted) is ``time_ratio``."""
    if time_ratio <= 0:
        return 0.0
    return next((reward for bound, reward in REWARD_BUCKETS if time_ratio >= bound), LOWEST_REWARD)


def mean_without_outliers(ratios: Sequence[float]) -> float:
    """The mean of the ratios within three standard deviations of their mean (all of them when they agree)."""
    if not ratios:
        return 0.0
    mean = sum(ratios) / len(ratios)
    spread = math.sqrt(sum((r - mean) ** 2 for r in ratios) / len(ratios))
    kept = [r for r in ratios if abs(r - mean) < 3 * spread] if spread > 0 else list(ratios)
    return sum(kept) / len(kept) if kept else mean


def r_ves(rewards: Sequence[float]) -> float:
    """BIRD's R-VES of a set of items: 100 * the mean square root of their rewards (0 for a wrong item)."""
    return 100.0 * sum(math.sqrt(r) for r in rewards) / len(rewards) if rewards else 0.0


@dataclass(frozen=True)
class TimingJob:
    index: int
    database: DatabaseRef
    gold: str
    pred: str
    repeats: int


def _time_pair(job: TimingJob) -> tuple[int, float]:
    """In a bounded worker: (index, reward) from ``repeats`` timed runs of gold and prediction."""
    bounds = watchdog.limits()
    watchdog.mark_item(job.index)
    db = registry.open_database(job.database, bounds.time_limit_s, bounds.max_rows, bounds.max_result_bytes)
    ratios = []
    try:
        for _ in range(job.repeats):
            pred = db.execute(job.pred, watchdog.PREDICTION)
            gold = db.execute(job.gold, watchdog.GOLD)
            if isinstance(pred, QueryError) or isinstance(gold, QueryError):
                return job.index, 0.0
            ratios.append(gold.elapsed_s / max(pred.elapsed_s, 1e-9))
    finally:
        db.close()
    return job.index, reward_for(mean_without_outliers(ratios))


def timed_rewards(jobs: Sequence[TimingJob], limits: ExecLimits, workers: int | None = None) -> dict[int, float]:
    """The reward of each job's pair, timed in a bounded pool (a pair whose worker is stopped gets 0).

    Pass only EX-correct pairs; the others' reward is 0 without timing.
    """
    if not jobs:
        return {}
    from workbench.core.sandbox.bounded_pool import BoundedPool, WorkerKilled  # the worker pool: only when timing

    rewards: dict[int, float] = {}
    size = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    pool = BoundedPool(size, limits, context="fork")
    try:
        futures: list[tuple[TimingJob, Future[Any]]] = [(job, pool.submit(_time_pair, job)) for job in jobs]
        for job, future in futures:
            try:
                index, reward = future.result()
            except WorkerKilled:
                index, reward = job.index, 0.0
            rewards[index] = reward
    finally:
        pool.shutdown(cancel_futures=True)
    return rewards
