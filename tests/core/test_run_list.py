"""The run list (newest first, n answered of n asked, state, EX per arm) and the history plot's common items."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_experiments import _row, fill_store
from workbench.core.data.dataset import Dataset
from workbench.core.reports.history import prompt_history
from workbench.core.reports.results import RunResults
from workbench.core.reports.run_list import ReadRuns, run_list
from workbench.core.reports.stats import wilson_interval
from workbench.core.store import Store
from workbench.core.store.scores import ARM_FIGURES_SQL


def test_runs_are_listed_newest_first_with_their_arms(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    dataset = Dataset(demo_path)
    dev = len(dataset.load_split("dev").items)
    store.set_state(store.run("base").id, "completed")
    store.set_state(store.run("new").id, "cancelled")
    limited = store.create_run("ten", store.dataset_id(str(demo_path.resolve()), "demo"), "train", 10,
                               [store.variant_id("a", "http://e", "gold", {}, "none", None)])  # fmt: skip
    store.set_state(limited, "completed")
    other = tmp_path / "elsewhere"  # a run on another dataset is not listed
    store.create_run("away", store.dataset_id(str(other), "x"), "dev", None, [1])

    rows = run_list(store, dataset)
    assert [r.info.name for r in rows] == ["ten", "new", "base"]
    ten, new, base = rows
    assert [a.variant for a in base.arms] == ["a"] and [a.variant for a in new.arms] == ["b", "c"]
    a = base.arms[0]
    assert (a.asked, a.answered, a.scored, a.correct) == (dev, 12, 12, 4)  # items 0-10 and 12; 8, 9, 10, 12 right
    assert a.execution_accuracy == 4 / 12 and a.interval == wilson_interval(4, 12)
    assert a.prompt == "zero_shot v1" and a.retrieval == "none" and a.cost == pytest.approx(12 * 0.001)
    b, c = new.arms
    assert (b.answered, b.correct, b.prompt) == (12, 12, "zero_shot v2")
    assert (c.answered, c.scored, c.correct, c.retrieval) == (11, 10, 9, "bm25 k=2")  # 9 unscorable, 12 failed
    assert (new.asked, new.answered, new.info.state) == (2 * dev, 23, "cancelled")
    assert not new.complete and not base.complete  # base answered 12 of the dev split
    assert (ten.asked, ten.answered, ten.arms[0].prompt) == (10, 0, "plain prompt")


def test_a_finished_run_is_read_once_and_a_live_or_resumed_one_again(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    dataset, read = Dataset(demo_path), ReadRuns()
    base = store.run("base").id
    store.set_state(base, "completed")
    assert run_list(store, dataset, read)[1].arms[0].answered == 12  # "new" is running (this process): not kept
    assert [key[1] for key in read] == [base]
    a = store.run_variants(base)[0][0]
    store.save_score(base, _row(a, 20, True, 0.0, 1.0))  # (a finished run's rows do not change; here they do)
    assert run_list(store, dataset, read)[1].arms[0].answered == 12  # from what was read
    assert run_list(store, dataset)[1].arms[0].answered == 13  # read again without the dict
    new = store.run("new").id
    store.save_score(new, _row(store.run_variants(new)[0][0], 30, True, 0.0, 1.0))
    assert run_list(store, dataset, read)[0].arms[0].answered == 13  # a live run is read every time
    store.set_state(base, "running")  # resumed: another state, read again
    assert run_list(store, dataset, read)[1].arms[0].answered == 13


def _complete_run(store: Store, name: str, root: Path, verdicts: dict[int, bool], state: str = "completed") -> None:
    version = store.prompt_versions("zero_shot")[-1].id
    variant = store.variant_id(name, "http://e", "gold", {}, "none", version)
    run = store.create_run(name, store.dataset_id(str(root.resolve()), "demo"), "dev", len(verdicts), [variant])
    for index, right in verdicts.items():
        store.save_score(run, _row(variant, index, right, 0.0, 10.0))
    store.set_state(run, state)


def test_history_compares_on_the_common_items_and_marks_incomplete_runs(demo_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    store.save_prompt_version("zero_shot", "### user\n{{ question }}\n")
    _complete_run(store, "twenty", demo_path, {i: i < 5 for i in range(20)})  # 5 of its 20 right
    _complete_run(store, "forty", demo_path, {i: i >= 10 for i in range(40)})  # 10 of the first 20, 30 of 40
    _complete_run(store, "cut", demo_path, {i: True for i in range(8)} | {i: True for i in range(30, 36)},
                  state="cancelled")  # fmt: skip
    points = prompt_history(store, Dataset(demo_path), "dev")
    assert [(p.run_name, p.n, p.n_common, p.complete) for p in points] == [
        ("twenty", 20, 20, True),
        ("forty", 20, 20, True),
        ("cut", 8, 20, False),  # its items 30-35 are not common: left aside, and it does not narrow the rest
    ]
    assert [p.accuracy for p in points] == [5 / 20, 10 / 20, 1.0]
    assert (points[1].low, points[1].high) == wilson_interval(10, 20)
    assert points[2].incomplete_reason == "cancelled, 14 of 14 answered; EX on the 8 of 20 common items"


def _many_runs(store: Store, root: Path, count: int) -> None:
    dataset_id = store.dataset_id(str(root.resolve()), "demo")
    ids = [store.variant_id(name, "http://e", "gold", {}, "none", None) for name in ("x", "y")]
    for k in range(count):
        run_id = store.create_run(f"many-{k}", dataset_id, "dev", 5, ids)
        for variant_id in ids:
            store.save_scores(run_id, [_row(variant_id, i, (i + k) % 2 == 0, 0.0, 1.0) for i in range(5)])
        store.set_state(run_id, "completed")


def test_the_run_list_reads_a_bounded_number_of_statements_and_verdicts_only_when_asked(
    demo_path: Path, tmp_path: Path
) -> None:
    """Listing 40 runs issues as many SQL statements as listing 20; no arm's rows are read until history asks."""
    dataset = Dataset(demo_path)
    counts = []
    for count in (20, 40):
        store = Store(tmp_path / f"w{count}.sqlite")
        _many_runs(store, demo_path, count)
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        rows = run_list(store, dataset)
        store.db.set_trace_callback(None)
        assert len(rows) == count
        assert not any("item_index" in s for s in statements)  # no row of any arm was read
        counts.append(len(statements))
        arm = rows[-1].arms[0]  # many-0, x: items 0, 2, 4 right
        assert (arm.asked, arm.answered, arm.scored, arm.correct) == (5, 5, 5, 3)
        assert dict(arm.verdicts) == {0: True, 1: False, 2: True, 3: False, 4: True}
        expected = RunResults.from_store(store, rows[0].info.id).summaries()
        assert [(a.variant, a.correct, a.scored) for a in rows[0].arms] == [
            (s.variant, s.correct, s.completed) for s in expected
        ]
    assert counts[0] == counts[1]


def test_the_arms_figures_are_summed_from_an_index_not_the_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    plan = store.db.execute(f"EXPLAIN QUERY PLAN {ARM_FIGURES_SQL}").fetchall()
    assert any("COVERING INDEX scores_figures" in str(step) for step in plan), plan
