"""One score row per (run, variant, item): its definition and the store's reads and writes of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.secrets import mask
from workbench.core.store.connection import StoreConnection, _now
from workbench.core.store.outcomes import ScoreFigures, ScoreOutcomes, keep_outcomes, kept_outcomes, levels_key
from workbench.core.store.runs import LIVE_STATES


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


# One row's verdict packed in a small int (``Store.score_outcomes``, read by ``reports/variant_outcomes.py``): bits 0-1
# its status (``STATUS_CODES``; 3: any other), 2-3 exec_match, 4-5 exact_match, 6-7 ts_match (0: None, 1: False,
# 2: True), bit 8 cached, and from bit ``CODE_HARDNESS`` on its hardness's number (0: none)
STATUS_CODES = {"scored": 0, "unscorable": 1, "failed": 2}
CODE_HARDNESS = 9
CACHED_BIT = 1 << 8
UNLISTED_HARDNESS = 63  # the hardness number of a level the caller did not list (``ScoreOutcomes.unlisted`` names it)
COUNTED = "status NOT IN ('failed', 'unscorable')"  # the rows whose figures a variant's summary adds up


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

    def scores(self, run_id: int, variant_id: int | None = None) -> Iterator[ScoreRow]:
        """The run's rows (one variant's with ``variant_id``) by variant and item, read as they are iterated."""
        where, args = ("AND variant_id = ? ", (run_id, variant_id)) if variant_id is not None else ("", (run_id,))
        cur = self.db.execute(f"{self._row_select()} WHERE run_id = ? {where}ORDER BY variant_id, item_index", args)
        return map(_score_row, cur)

    def score(self, run_id: int, variant_id: int, item_index: int) -> ScoreRow | None:
        """One stored row; None when the variant has none for that item."""
        found = self.db.execute(
            f"{self._row_select()} WHERE run_id = ? AND variant_id = ? AND item_index = ?",
            (run_id, variant_id, item_index),
        ).fetchone()
        return None if found is None else _score_row(found)

    def score_outcomes(self, run_id: int, variant_id: int, levels: Sequence[str]) -> ScoreOutcomes:
        """One variant's rows in a run without their text: each item's packed verdict (the bits above) and the
        figures of the counted rows; ``levels``: the hardness names numbered from 1 in the codes.

        A run no process works on is read once and kept (``store/outcomes.py``) until any of its rows changes.
        """
        key = levels_key(tuple(levels))
        if self._has_kept_outcomes:
            kept = kept_outcomes(self.db, run_id, variant_id, key)
            if kept is not None:
                return kept
        state = self.db.execute("SELECT state FROM runs WHERE id = ?", (run_id,)).fetchone()
        if not self._has_kept_outcomes or state is None or state[0] in LIVE_STATES or self.db.in_transaction:
            return self._read_outcomes(run_id, variant_id, levels)
        self.db.execute("BEGIN")  # one snapshot: what is kept is what was read, or nothing if a write came between
        try:
            outcomes = self._read_outcomes(run_id, variant_id, levels)
            if not outcomes.unlisted:
                keep_outcomes(self.db, run_id, variant_id, key, outcomes)
            self.db.execute("COMMIT")
        except sqlite3.OperationalError:  # another process wrote since the snapshot, or holds the lock: not kept
            self.db.execute("ROLLBACK")
            return self._read_outcomes(run_id, variant_id, levels)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return outcomes

    def _read_outcomes(self, run_id: int, variant_id: int, levels: Sequence[str]) -> ScoreOutcomes:
        named = " ".join(f"WHEN ? THEN {k}" for k in range(1, len(levels) + 1)) or "WHEN NULL THEN 0"
        other_level = f"(CASE WHEN hardness IS NULL THEN 0 ELSE {UNLISTED_HARDNESS} END)"
        code = (
            "(CASE status WHEN 'scored' THEN 0 WHEN 'unscorable' THEN 1 WHEN 'failed' THEN 2 ELSE 3 END)"
            + "".join(
                f" | ((CASE WHEN {flag} IS NULL THEN 0 WHEN {flag} = 1 THEN 2 ELSE 1 END) << {shift})"
                for flag, shift in (("exec_match", 2), ("exact_match", 4), ("ts_match", 6))
            )
            + " | (ifnull(cached = 1, 0) << 8)"  # SQLite's | and << bind alike: each shift in brackets
            + f" | ((CASE hardness {named} ELSE {other_level} END) << {CODE_HARDNESS})"
        )
        measured = f"CASE WHEN {COUNTED} AND ifnull(cached = 1, 0) = ? THEN latency_ms END"
        rows = self.db.execute(
            f"SELECT item_index, {code}, {measured}, {measured} FROM scores "
            "WHERE run_id = ? AND variant_id = ? ORDER BY item_index",
            (*levels, 0, 1, run_id, variant_id),
        ).fetchall()
        items, codes, fresh, cached = zip(*rows, strict=True) if rows else ((), (), (), ())
        figures, unlisted = self._score_sums(run_id, variant_id, levels=levels)
        figures.latencies_ms = [x for x in fresh if x is not None]
        figures.cached_latencies_ms = [x for x in cached if x is not None]
        outcomes = ScoreOutcomes(dict(zip(items, codes, strict=True)), {}, figures)
        if unlisted:  # rare: a level not among ``levels``
            listed = ", ".join("?" * len(levels)) or "NULL"
            outcomes.unlisted.update(
                self.db.execute(
                    "SELECT item_index, hardness FROM scores WHERE run_id = ? AND variant_id = ? "
                    f"AND hardness IS NOT NULL AND hardness NOT IN ({listed})",
                    (run_id, variant_id, *levels),
                ).fetchall()
            )
        return outcomes

    def score_figures(self, run_id: int, variant_id: int, leaving_out: Collection[int] = ()) -> ScoreFigures:
        """What the variant's counted rows in a run add up to, the items ``leaving_out`` left out."""
        figures, _ = self._score_sums(run_id, variant_id, leaving_out)
        where, args = _variant_where(run_id, variant_id, leaving_out)
        measured = (
            f"SELECT latency_ms FROM scores WHERE {where} AND {COUNTED} AND latency_ms IS NOT NULL "
            "AND ifnull(cached = 1, 0) = ?"
        )
        latencies, cached = (self.db.execute(f"{measured} ORDER BY item_index", (*args, c)).fetchall() for c in (0, 1))
        figures.latencies_ms, figures.cached_latencies_ms = [x for (x,) in latencies], [x for (x,) in cached]
        return figures

    def _score_sums(
        self, run_id: int, variant_id: int, leaving_out: Collection[int] = (), levels: Sequence[str] = ()
    ) -> tuple[ScoreFigures, int]:
        """``score_figures`` less the latencies, and how many of the rows have a hardness not among ``levels``."""
        where, args = _variant_where(run_id, variant_id, leaving_out)
        soft_f1 = f"CASE WHEN {COUNTED} THEN {'soft_f1' if self._has_soft_f1 else 'NULL'} END"
        listed = ", ".join("?" * len(levels)) or "NULL"
        cost, prompt, completion, soft_total, soft_n, unlisted = self.db.execute(
            f"SELECT total(CASE WHEN {COUNTED} THEN cost END), total(CASE WHEN {COUNTED} THEN prompt_tokens END), "
            f"total(CASE WHEN {COUNTED} THEN completion_tokens END), total({soft_f1}), count({soft_f1}), "
            f"total(hardness IS NOT NULL AND hardness NOT IN ({listed})) FROM scores WHERE {where}",
            (*levels, *args),
        ).fetchone()
        return ScoreFigures(cost, int(prompt), int(completion), soft_total, soft_n), int(unlisted)

    def _row_select(self) -> str:
        return (
            "SELECT variant_id, item_index, db_id, hardness, exec_match, exact_match, status, reason, predicted_sql, "
            "request_hash, cost, cached, latency_ms, prompt_tokens, completion_tokens, ts_match, "
            f"{'soft_f1' if self._has_soft_f1 else 'NULL'} FROM scores"
        )


def _variant_where(run_id: int, variant_id: int, leaving_out: Collection[int]) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause (and its arguments) of a variant's rows in a run, less the items ``leaving_out``."""
    where, args = "run_id = ? AND variant_id = ?", (run_id, variant_id)
    if not leaving_out:
        return where, args
    return where + " AND item_index NOT IN (SELECT value FROM json_each(?))", (*args, json.dumps(list(leaving_out)))


def _score_row(r: tuple[Any, ...]) -> ScoreRow:
    """A row as ``Store._row_select`` reads it: SQLite gives ints, floats and str already; only the 0/1/NULL flags
    are converted."""
    return ScoreRow(
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
