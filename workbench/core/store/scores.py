"""One score row per (run, variant, item): its definition and the store's reads and writes of it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from workbench.core.secrets import mask
from workbench.core.store.connection import StoreConnection, _now


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoreRow:
    """One variant's outcome on one question: what the store writes and reads, and what the run's events carry.

    Slotted: a stored run of 100,000 items holds one per variant and item (a third of the memory).
    """

    variant_id: int
    item_index: int
    db_id: str
    status: str  # "scored" | "unscorable" (``Verdict.status``) | "failed" (no answer to score)
    reason: str
    hardness: str | None = None
    exec_match: bool | None = None
    exact_match: bool | None = None
    ts_match: bool | None = None  # ``Verdict.ts_match``: right on every database of the test suite; None without one
    soft_f1: float | None = None  # BIRD's Soft-F1 (``Verdict.soft_f1``); None where not computed
    predicted_sql: str | None = None
    request_hash: str | None = None
    cost: float = 0.0
    cached: bool = False
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


ARM_FIGURES_SQL = (  # answered, scored, right and cost per run and variant: from the scores_figures index alone
    "SELECT run_id, variant_id, sum(status != 'failed'), sum(status = 'scored'), "
    "sum(status = 'scored' AND exec_match = 1), total(cost) FROM scores GROUP BY run_id, variant_id"
)


@dataclass(frozen=True)
class ArmFigures:
    """What one variant's rows in a run add up to, as the run list shows them (summed by the store)."""

    answered: int  # scored or unscorable
    scored: int
    correct: int  # scored with an execution match
    cost: float


class ScoresMixin(StoreConnection):
    def save_score(self, run_id: int, row: ScoreRow) -> None:
        self.save_scores(run_id, [row])

    def save_scores(self, run_id: int, rows: Iterable[ScoreRow]) -> None:
        """Write ``rows`` (each replacing the stored row of its variant and item) in one transaction."""
        soft_f1 = self._has_soft_f1
        now = _now()
        values = (
            (
                run_id,
                row.variant_id,
                row.item_index,
                row.db_id,
                row.hardness,
                row.request_hash,
                row.predicted_sql,
                _opt_int(row.exec_match),
                _opt_int(row.exact_match),
                row.status,
                mask(row.reason),
                now,
                row.cost,
                int(row.cached),
                row.latency_ms,
                row.prompt_tokens,
                row.completion_tokens,
                _opt_int(row.ts_match),
                *((row.soft_f1,) if soft_f1 else ()),
            )
            for row in rows
        )
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO scores (run_id, variant_id, item_index, db_id, hardness, request_hash, "
                "predicted_sql, exec_match, exact_match, status, reason, created_at, cost, cached, latency_ms, "
                f"prompt_tokens, completion_tokens, ts_match{', soft_f1' if soft_f1 else ''}) "
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{', ?' if soft_f1 else ''})",
                values,
            )

    def done_items(self, run_id: int) -> set[tuple[int, int]]:
        """(variant_id, item_index) pairs that need no more work: scored or unscorable."""
        rows = self.db.execute(
            "SELECT variant_id, item_index FROM scores WHERE run_id = ? AND status != 'failed'", (run_id,)
        )
        return {(int(v), int(i)) for v, i in rows}

    def arm_figures(self) -> dict[tuple[int, int], ArmFigures]:
        """(run id, variant id) -> its rows' counts and cost, for every run, summed in one statement."""
        rows = self.db.execute(ARM_FIGURES_SQL)
        return {(int(r), int(v)): ArmFigures(int(a), int(s), int(c), float(cost)) for r, v, a, s, c, cost in rows}

    def verdicts(self, run_id: int, variant_id: int) -> dict[int, bool]:
        """A variant's scored items in a run -> whether each matched on execution."""
        rows = self.db.execute(
            "SELECT item_index, exec_match FROM scores WHERE run_id = ? AND variant_id = ? AND status = 'scored'",
            (run_id, variant_id),
        )
        return {int(i): bool(m) for i, m in rows}

    def scores(self, run_id: int) -> Iterator[ScoreRow]:
        cur = self.db.execute(
            "SELECT variant_id, item_index, db_id, hardness, exec_match, exact_match, status, reason, predicted_sql, "
            "request_hash, cost, cached, latency_ms, prompt_tokens, completion_tokens, ts_match, "
            f"{'soft_f1' if self._has_soft_f1 else 'NULL'} FROM scores WHERE run_id = ? "
            "ORDER BY variant_id, item_index",
            (run_id,),
        )
        for r in cur:  # SQLite gives ints, floats and str already: only the 0/1/NULL flags are converted
            yield ScoreRow(
                variant_id=r[0],
                item_index=r[1],
                db_id=r[2],
                hardness=r[3],
                exec_match=None if r[4] is None else r[4] == 1,
                exact_match=None if r[5] is None else r[5] == 1,
                status=r[6],
                reason=r[7],
                predicted_sql=r[8],
                request_hash=r[9],
                cost=r[10],
                cached=r[11] == 1,
                latency_ms=r[12],
                prompt_tokens=r[13],
                completion_tokens=r[14],
                ts_match=None if r[15] is None else r[15] == 1,
                soft_f1=r[16],
            )


def _opt_int(value: bool | None) -> int | None:
    return None if value is None else int(value)
