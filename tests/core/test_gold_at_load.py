"""What is known of each item when its split opens: hardness from the gold SQL, and the gold query's problems."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.core.test_bounds import ENDLESS_SEARCH
from tests.own_data import QUESTIONS, make_shop, write_questions_csv
from workbench.core.data.check import gold_problems
from workbench.core.data.dataset import Dataset
from workbench.core.sandbox.bounded_pool import BoundedPool
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring import Scorer
from workbench.core.scoring.gold_facts import DatasetKey, chunks, hardness_of, problems_in
from workbench.core.scoring.gold_hardness import gold_hardness


def test_hardness_at_load_is_the_scorers_on_the_demo(demo_path: Path) -> None:
    dataset = Dataset(demo_path)
    items = dataset.load_split("dev").items
    levels = gold_hardness(dataset, items)
    assert Counter(levels.values()) == {"easy": 22, "medium": 28, "hard": 16, "extra": 22}
    with Scorer(dataset, workers=1) as scorer:  # gold scored against itself: the verdicts carry the scorer's level
        verdicts = scorer.score(items, [i.query for i in items])
    assert levels == {v.index: v.hardness for v in verdicts}


def test_a_given_hardness_is_kept_and_gold_outside_the_grammar_has_none(tmp_path: Path) -> None:
    rows = [*QUESTIONS, ("Odd", "SELECT name FROM customer WHERE name GLOB 'A*'", "")]
    dataset = Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv", rows))
    assert gold_hardness(dataset, dataset.load_split("q").items) == {0: "starter", 1: "easy", 2: "medium", 3: None}


def test_gold_problems_by_item_as_dataset_check_finds_them(tmp_path: Path) -> None:
    rows = [
        *QUESTIONS,
        ("Broken", "SELECT nope FROM customer", ""),
        ("Nobody", "SELECT name FROM customer WHERE city = 'Paris'", ""),
        ("Any two cities", "SELECT DISTINCT city FROM customer WHERE city IS NOT NULL LIMIT 5", ""),
    ]
    dataset = Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv", rows))
    items = dataset.load_split("q").items
    assert gold_problems(dataset, items) == {
        3: "gold query fails: runtime: no such column: nope",
        4: "gold query returns no rows",
        5: "gold query has LIMIT without ORDER BY: which rows come back is up to SQLite",
    }
    assert gold_problems(dataset, items[4:5]) == {4: "gold query returns no rows"}


def test_a_missing_database_is_every_items_problem(demo_copy: Path) -> None:
    dataset = Dataset(demo_copy)
    items = dataset.load_split("dev").items
    gone = items[0].db_id
    (dataset.db_path(gone)).unlink()
    found = gold_problems(dataset, items)
    assert set(found) == {i.index for i in items if i.db_id == gone}
    assert found[items[0].index] == f"database {gone!r} is unusable: missing"


def test_in_workers_the_gold_facts_are_the_same_and_a_query_that_stops_its_worker_is_its_items_problem(
    tmp_path: Path,
) -> None:
    rows = [
        *QUESTIONS,
        ("Endless", ENDLESS_SEARCH, ""),  # one C call that only the worker's supervisor stops
        ("Broken", "SELECT nope FROM customer", ""),
    ]
    dataset = Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv", rows))
    items = dataset.load_split("q").items
    key = DatasetKey.of(dataset)
    pool = BoundedPool(1, ExecLimits(time_limit_s=1.0, grace_s=0.3), context="forkserver")
    try:
        in_worker = pool.submit(hardness_of, key, items).result(timeout=60)
        assert in_worker == gold_hardness(dataset, items)
        found = asyncio.run(problems_in(pool, key, items))  # the whole chunk's worker is stopped: one by one again
    finally:
        pool.shutdown()
    assert found == {
        3: "gold query stopped from outside its worker (timeout)",
        4: "gold query fails: runtime: no such column: nope",
    }
    assert pool.killed == 2  # the chunk, then the endless item alone
    assert [list(c) for c in chunks(items, 2)] == [items[0:2], items[2:4], items[4:5]]
