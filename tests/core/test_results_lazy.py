"""A stored run's results are lazy over the store: verdicts and figures held small, full rows read when asked.

The reference everywhere is ``VariantSummary.add`` over the rows the store gives back: the summaries that
``RunResults.from_store`` builds without holding those rows must equal it figure for figure.
"""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.reports.overrides import Overrides
from workbench.core.reports.results import READ_ROWS, QuestionFilter, RunResults
from workbench.core.reports.summaries import VariantSummary
from workbench.core.runs.events import ItemScored, RunStarted
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import Dispute, ScoreRow, Store

VARIANTS = ("first", "second")


def _random_rows(variant_id: int, count: int, rng: random.Random) -> list[ScoreRow]:
    rows = []
    for i in range(count):
        status = rng.choice(("scored", "scored", "scored", "failed", "unscorable"))
        scored = status == "scored"
        rows.append(
            ScoreRow(
                variant_id=variant_id,
                item_index=i,
                db_id=f"db{i % 3}",
                status=status,
                reason=rng.choice(("", "rows differ", "no such table")),
                hardness=rng.choice((*HARDNESS_LEVELS, None, "challenging")),  # one the levels do not list
                exec_match=rng.choice((True, False)) if scored else None,
                exact_match=rng.choice((True, False, None)) if scored else None,
                ts_match=rng.choice((True, False, None)) if scored else None,
                soft_f1=rng.choice((None, rng.random())),
                predicted_sql=f"SELECT {i % 7}" if status != "failed" else None,
                cost=rng.choice((0.0, 0.001, 0.0125)),
                cached=rng.random() < 0.3,
                latency_ms=rng.choice((None, rng.uniform(10, 900))),
                prompt_tokens=rng.randrange(1000),
                completion_tokens=rng.randrange(60),
            )
        )
    return rows


def _stored_run(tmp_path: Path, count: int, seed: int = 7) -> tuple[Store, int, list[int]]:
    store = Store(tmp_path / "w.sqlite")
    dataset = store.dataset_id(str(tmp_path / "data"), "data")
    ids = [store.variant_id(name, "e", f"model-{name}", {}) for name in VARIANTS]
    run_id = store.create_run("big", dataset, "dev", None, ids)
    rng = random.Random(seed)
    for variant_id in ids:
        store.save_scores(run_id, _random_rows(variant_id, count, rng))
    return store, run_id, ids


def _added_up(store: Store, run_id: int, variant_id: int, name: str, overrides: Overrides) -> VariantSummary:
    summary = VariantSummary(name, f"model-{name}", by_hardness={h: [0, 0] for h in HARDNESS_LEVELS})
    for row in store.scores(run_id, variant_id):
        summary.add(row, overrides)
    return summary


def _figures(summary: VariantSummary) -> dict[str, object]:
    return summary.to_json() | {"latencies": summary.latencies_ms, "cached": summary.cached_latencies_ms}


def _score_rows_alive() -> int:
    gc.collect()
    return sum(isinstance(o, ScoreRow) for o in gc.get_objects())


def test_stored_summaries_equal_the_rows_added_up_with_disputes(tmp_path: Path) -> None:
    store, run_id, ids = _stored_run(tmp_path, 600)
    rows = {r.item_index: r for r in store.scores(run_id, ids[0])}
    wrong = [i for i, r in rows.items() if r.status == "scored" and not r.exec_match]
    disputes = [
        Dispute("dev", 3, "gold_wrong"),
        Dispute("dev", 8, "ambiguous"),
        Dispute("dev", wrong[0], "also_correct", predicted_sql=f"  {rows[wrong[0]].predicted_sql} "),
        Dispute("dev", wrong[1], "also_correct", predicted_sql="SELECT 'another answer'"),
    ]
    for dispute in disputes:
        store.save_dispute(str(tmp_path / "data"), "data", dispute)
    results = RunResults.from_store(store, run_id)
    overrides = Overrides.of(disputes)
    assert results.overrides == overrides
    expected = [_added_up(store, run_id, vid, name, overrides) for vid, name in zip(ids, VARIANTS, strict=True)]
    assert [_figures(s) for s in results.summaries()] == [_figures(s) for s in expected]
    first = results.summaries()[0]
    assert first.override_n < first.completed and first.soft_f1 is not None and first.cached > 0  # all exercised
    # the same rows folded in from events, with no store: the same figures
    live = RunResults([])
    live.apply(RunStarted(run_id, "big", 1200, 0, list(VARIANTS), {n: f"model-{n}" for n in VARIANTS}))
    for vid, name in zip(ids, VARIANTS, strict=True):
        for row in store.scores(run_id, vid):
            live.apply(ItemScored(variant=name, model=f"model-{name}", row=row))
    live.set_disputes(disputes)
    assert [_figures(s) for s in live.summaries()] == [_figures(s) for s in expected]
    # filters and the levels of hardness (the unlisted one too) read the same verdicts as the rows
    assert results.hardness(next(i for i, r in rows.items() if r.hardness == "challenging")) == "challenging"
    for spec in (QuestionFilter("wrong", "first"), QuestionFilter("disagree"), QuestionFilter("all", None, "hard")):
        assert results.filter(list(range(600)), spec) == live.filter(list(range(600)), spec)
    assert results.compare("first", "second") == live.compare("first", "second")


def test_a_stored_run_holds_no_full_rows_and_reads_one_when_asked(tmp_path: Path) -> None:
    store, run_id, ids = _stored_run(tmp_path, 3000)
    before = _score_rows_alive()
    results = RunResults.from_store(store, run_id)
    results.summaries(), results.comparisons(), results.filter(list(range(3000)), QuestionFilter("wrong", "first"))
    assert [results.answer_state("first", i) for i in range(3000)].count("") == 0
    assert _score_rows_alive() - before == 0  # 6,000 rows summed, filtered and marked: none of them held
    # a row is read from the store when asked: one rewritten there since the load shows its new text
    stored = store.score(run_id, ids[0], 42)
    assert stored is not None
    store.save_score(run_id, ScoreRow(**{**_fields(stored), "predicted_sql": "SELECT 'rewritten'"}))
    assert results.outcome("first", 42).predicted_sql == "SELECT 'rewritten'"  # type: ignore[union-attr]
    del stored
    for i in range(2 * READ_ROWS):  # the rows read are kept up to a bound
        results.outcome("second", i)
    assert _score_rows_alive() - before <= READ_ROWS
    # every row in one pass, in the mapping's order, equal to the store's
    assert list(results.rows["second"].values()) == list(store.scores(run_id, ids[1]))
    assert list(results.rows["second"]) == list(range(3000)) and 7 in results.rows["second"]


def test_a_live_row_replaces_a_stored_one_in_the_summary_and_the_outputs(tmp_path: Path) -> None:
    store, run_id, ids = _stored_run(tmp_path, 400)
    results = RunResults.from_store(store, run_id)
    old = results.outcome("first", 10)
    assert old is not None
    new = ScoreRow(**{**_fields(old), "status": "scored", "exec_match": not old.exec_match, "cost": 2.5,
                      "latency_ms": 9999.0, "cached": False, "predicted_sql": "SELECT 'again'"})  # fmt: skip
    added = ScoreRow(**{**_fields(new), "item_index": 400, "cost": 1.0, "latency_ms": 1.0})
    results.apply(RunStarted(run_id, "big", 802, 800, list(VARIANTS), {}))
    for row in (new, added):  # as the runner does: the row stored, then its event
        store.save_score(run_id, row)
        results.apply(ItemScored(variant="first", model="m", row=row))
    expected, got = _added_up(store, run_id, ids[0], "first", Overrides()), results.summaries()[0]
    assert got.to_json() == expected.to_json() and sorted(got.latencies_ms) == sorted(expected.latencies_ms)
    assert results.summaries()[0].latency_ms(100) == 9999.0 and results.summaries()[0].completed == expected.completed
    assert results.outcome("first", 10) == new and results.outcome("first", 400) == added
    assert results.answer_state("first", 10) == ("right" if new.exec_match else "wrong")
    assert results.done == 801 and len(results.rows["first"]) == 401
    assert list(results.rows["first"].values()) == [*(r for r in store.scores(run_id, ids[0]) if r.item_index < 400),
                                                   added]  # fmt: skip


def test_the_cli_report_is_the_rows_added_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, run_id, ids = _stored_run(tmp_path, 500)
    expected = [_added_up(store, run_id, vid, name, Overrides()) for vid, name in zip(ids, VARIANTS, strict=True)]
    store.close()
    assert main(["report", "big", "--store", str(tmp_path / "w.sqlite"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["variants"] == [s.to_json() for s in expected]
    assert main(["report", "big", "--store", str(tmp_path / "w.sqlite")]) == 0
    table = capsys.readouterr().out
    assert all(f"{100 * s.execution_accuracy:5.1f}" in table and s.variant in table for s in expected)


def _fields(row: ScoreRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in ScoreRow.__dataclass_fields__}
