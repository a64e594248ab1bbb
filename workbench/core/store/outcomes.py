"""One variant's rows in a run without their text (``Store.score_outcomes``), and those of finished runs kept.

Reading a variant's packed verdicts and sums takes about 0.2 s per 100,000 rows; the app reads every
variant of a run it shows. A run that no process works on any more (its state is not live) does not
change until it is resumed, so what was read of it is kept in ``arm_outcomes``: the item indexes,
codes and latencies as packed arrays, the sums as columns, keyed by the hardness levels the codes
number. Triggers on ``scores`` (``migrations._m13_arm_outcomes``) delete a variant's kept row at any
insert, update or delete of its rows, whichever process and version writes them.
"""

from __future__ import annotations

import sqlite3
from array import array
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScoreFigures:
    """What one variant's counted rows (answered, not failed or unscorable) in a run add up to, summed by the
    store (``Store.score_figures``); latencies in item order."""

    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    soft_f1_total: float = 0.0
    soft_f1_n: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # rows not from the cache
    cached_latencies_ms: list[float] = field(default_factory=list)


@dataclass
class ScoreOutcomes:
    """One variant's rows in a run without their text (``Store.score_outcomes``)."""

    codes: dict[int, int]  # item index -> its row's packed verdict
    unlisted: dict[int, str]  # item index -> its row's hardness, where not among the levels numbered
    figures: ScoreFigures


KEPT_COLUMNS = "items, codes, fresh_ms, cached_ms, cost, prompt_tokens, completion_tokens, soft_f1_total, soft_f1_n"


def levels_key(levels: tuple[str, ...] | list[str]) -> str:
    return "\x1f".join(levels)


def kept_outcomes(db: sqlite3.Connection, run_id: int, variant_id: int, levels: str) -> ScoreOutcomes | None:
    """The variant's kept outcomes when the kept row is for these ``levels``; None when there is none."""
    row = db.execute(
        f"SELECT {KEPT_COLUMNS} FROM arm_outcomes WHERE run_id = ? AND variant_id = ? AND levels = ?",
        (run_id, variant_id, levels),
    ).fetchone()
    if row is None:
        return None
    items, codes, fresh, cached, cost, prompt, completion, soft_total, soft_n = row
    figures = ScoreFigures(
        cost, prompt, completion, soft_total, soft_n, array("d", fresh).tolist(), array("d", cached).tolist()
    )
    return ScoreOutcomes(dict(zip(array("q", items), array("q", codes), strict=True)), {}, figures)


def keep_outcomes(db: sqlite3.Connection, run_id: int, variant_id: int, levels: str, outcomes: ScoreOutcomes) -> None:
    """Keep ``outcomes`` (read inside the caller's transaction, so that no write came between)."""
    f = outcomes.figures
    values: tuple[Any, ...] = (
        run_id,
        variant_id,
        levels,
        array("q", outcomes.codes.keys()).tobytes(),
        array("q", outcomes.codes.values()).tobytes(),
        array("d", f.latencies_ms).tobytes(),
        array("d", f.cached_latencies_ms).tobytes(),
        f.cost,
        f.prompt_tokens,
        f.completion_tokens,
        f.soft_f1_total,
        f.soft_f1_n,
    )
    db.execute(f"INSERT OR REPLACE INTO arm_outcomes (run_id, variant_id, levels, {KEPT_COLUMNS}) VALUES "
               f"({', '.join('?' * len(values))})", values)  # fmt: skip
