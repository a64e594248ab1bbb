"""A finished run's outcomes are read once and kept in the store, until any of its rows changes."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
from pathlib import Path

from tests.core.test_results_lazy import VARIANTS, _random_rows
from workbench.core.reports.results import RunResults
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import MIGRATIONS, Store, _keep_outcomes
from workbench.core.store.outcomes import ScoreOutcomes


def _kept(store: Store) -> list[tuple[int, int]]:
    return store.db.execute("SELECT run_id, variant_id FROM arm_outcomes ORDER BY variant_id").fetchall()


def _same(a: ScoreOutcomes, b: ScoreOutcomes) -> bool:
    return a.codes == b.codes and a.unlisted == b.unlisted and a.figures == b.figures


def _run(store: Store, tmp_path: Path) -> tuple[int, list[int]]:
    dataset = store.dataset_id(str(tmp_path / "data"), "data")
    ids = [store.variant_id(name, "e", f"model-{name}", {}) for name in VARIANTS]
    run_id = store.create_run("big", dataset, "dev", None, ids)
    store.set_state(run_id, "running")
    rng = random.Random(3)
    for variant_id in ids:
        rows = _random_rows(variant_id, 400, rng)
        store.save_scores(
            run_id, [r if r.hardness != "challenging" else dataclasses.replace(r, hardness=None) for r in rows]
        )
    return run_id, ids


def _finish_beside_other_work(store: Store, run_id: int, levels: tuple[str, ...]) -> bool:
    """``finish_run`` on an event loop with a callback ready: whether it ran before ``finish_run`` returned (only
    if the outcomes were kept off the loop, in a thread: a loop that runs them itself runs nothing else)."""

    async def go() -> bool:
        ran = asyncio.Event()
        asyncio.get_running_loop().call_soon(ran.set)
        await store.finish_run(run_id, "completed", levels)
        return ran.is_set()

    return asyncio.run(go())


def test_outcomes_are_kept_when_the_run_finishes_and_outdated_by_any_change_of_its_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    run_id, ids = _run(store, tmp_path)
    levels = HARDNESS_LEVELS
    while_running = [store.score_outcomes(run_id, v, levels) for v in ids]
    assert _kept(store) == []  # a live run's rows still change: nothing kept
    summaries = [s.to_json() for s in RunResults.from_store(store, run_id, levels).summaries()]
    assert _finish_beside_other_work(store, run_id, levels)  # kept off the loop: another task ran meanwhile
    assert _kept(store) == [(run_id, ids[0]), (run_id, ids[1])]
    assert all(_same(store.score_outcomes(run_id, v, levels), o) for v, o in zip(ids, while_running, strict=True))
    assert [s.to_json() for s in RunResults.from_store(store, run_id, levels).summaries()] == summaries
    # another process (a bare connection, no workbench code) rewrites one row: the trigger outdates what was kept
    other = sqlite3.connect(tmp_path / "w.sqlite")
    with other:
        other.execute("UPDATE scores SET status = 'scored', exec_match = 1 - ifnull(exec_match, 0), cached = 0 "
                      "WHERE run_id = ? AND variant_id = ? AND item_index = 5", (run_id, ids[1]))  # fmt: skip
    other.close()
    assert _kept(store) == [(run_id, ids[0])]
    changed = store.score_outcomes(run_id, ids[1], levels)
    assert changed.codes[5] != while_running[1].codes[5]
    assert {i: c for i, c in changed.codes.items() if i != 5} == {
        i: c for i, c in while_running[1].codes.items() if i != 5
    }
    assert _kept(store) == [(run_id, ids[0]), (run_id, ids[1])]  # read again, and kept again
    # kept for one numbering of the levels: another numbering is read afresh, and the same as a live read
    other_levels = ("extra", "hard", "medium", "easy")
    store.set_state(run_id, "running")
    live = store.score_outcomes(run_id, ids[0], other_levels)
    store.set_state(run_id, "completed")
    assert _same(store.score_outcomes(run_id, ids[0], other_levels), live)
    assert live.codes != while_running[0].codes
    # a new row (resuming the run) outdates the variant's kept row, REPLACE or not
    store.save_scores(run_id, [dataclasses.replace(r, item_index=400) for r in store.scores(run_id, ids[0])][:1])
    assert (run_id, ids[0]) not in _kept(store)
    assert 400 in store.score_outcomes(run_id, ids[0], levels).codes


def test_a_store_of_the_schema_before_opens_and_keeps_from_then_on(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Store(path, migrations=MIGRATIONS[:-1])
    run_id, ids = _run(old, tmp_path)
    old.set_state(run_id, "completed")
    before = [old.score_outcomes(run_id, v, HARDNESS_LEVELS) for v in ids]  # no table to keep them in: read
    old.close()
    store = Store(path)
    assert _kept(store) == []
    assert all(_same(store.score_outcomes(run_id, v, HARDNESS_LEVELS), b) for v, b in zip(ids, before, strict=True))
    assert len(_kept(store)) == 2


def test_keeping_outcomes_never_fails_a_run_whose_file_cannot_be_opened_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    run_id, _ = _run(store, tmp_path)
    store.close()
    (tmp_path / "w.sqlite").write_bytes(b"not a store any more" * 100)  # replaced under the app, say
    _keep_outcomes(tmp_path / "w.sqlite", run_id, HARDNESS_LEVELS)  # nothing kept, nothing raised
    assert (tmp_path / "w.sqlite").read_bytes().startswith(b"not a store")


def test_keeping_outcomes_does_not_make_a_store_where_the_file_has_gone(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    run_id, _ = _run(store, tmp_path)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"w.sqlite{suffix}").unlink(missing_ok=True)
    _keep_outcomes(tmp_path / "w.sqlite", run_id, HARDNESS_LEVELS)
    assert not (tmp_path / "w.sqlite").exists()
