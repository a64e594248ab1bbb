"""Test-suite accuracy (TS) beside single-database execution accuracy (EX), on hand-made suites.

The dataset here is a tiny Spider folder whose database folder holds the main file and two
others with the same schema and other rows (the official test-suite layout).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_db, write_json
from workbench.cli.run_output import format_summaries
from workbench.cli.score import format_table
from workbench.core.data.dataset import Dataset
from workbench.core.reports.summaries import VariantSummary
from workbench.core.scoring import Scorer
from workbench.core.store import MIGRATIONS, ScoreRow, Store

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER);"
MAIN_ROWS = [(1, "Joe", 41), (2, "Ann", 52), (3, "Bo", 30)]
SUITE_ROWS = {"sing_ts1.sqlite": [(1, "Joe", 40), (2, "Ann", 22), (3, "Bo", 50)], "sing_ts2.sqlite": [(7, "Cy", 45)]}
GOLD = "SELECT name FROM singer WHERE age > 40"
TABLES = [
    {
        "db_id": "sing",
        "table_names_original": ["singer"],
        "table_names": ["singer"],
        "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"]],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"]],
        "column_types": ["text", "number", "text", "number"],
        "primary_keys": [1],
        "foreign_keys": [],
    }
]
# on the main database all but the last give gold's rows; on the suite only the first two do
PREDICTIONS = [
    GOLD,
    "SELECT name FROM singer WHERE 40 < age",
    "SELECT name FROM singer WHERE age > 35",  # Joe and Ann on the main file; Joe too on sing_ts1 (age 40)
    "SELECT name FROM singer WHERE singer_id < 3",  # Joe and Ann on the main file; Joe, Ann on sing_ts1
    "SELECT name FROM singer",
]


def _rows_script(rows: list[tuple[int, str, int]]) -> str:
    return SCHEMA + "".join(f"INSERT INTO singer VALUES ({i}, '{n}', {a});" for i, n, a in rows)


def suite_dataset(root: Path, with_suite: bool = True) -> Path:
    root.mkdir(parents=True)
    write_json(root / "tables.json", TABLES)
    write_json(root / "dev.json", [{"db_id": "sing", "question": f"q{k}", "query": GOLD} for k in range(5)])
    make_db(root / "database" / "sing" / "sing.sqlite", _rows_script(MAIN_ROWS))
    if with_suite:
        for name, rows in SUITE_ROWS.items():
            make_db(root / "database" / "sing" / name, _rows_script(rows))
    return root


def score(root: Path, predictions: list[str]) -> list:
    dataset = Dataset(root)
    items = dataset.load_split("dev").items
    with Scorer(dataset, workers=1) as scorer:
        return scorer.score(items, predictions)


def test_a_prediction_right_on_the_main_database_but_not_on_the_suite_is_ex_right_and_ts_wrong(
    tmp_path: Path,
) -> None:
    verdicts = score(suite_dataset(tmp_path / "ds"), PREDICTIONS)
    assert [v.exec_match for v in verdicts] == [True, True, True, True, False]
    assert [v.ts_match for v in verdicts] == [True, True, False, False, False]
    assert "test suite: sing_ts1.sqlite: rows differ: 2 vs 1" in verdicts[2].reason
    assert "test suite: same on all 3 databases" in verdicts[0].reason
    assert "test suite: wrong on sing.sqlite" in verdicts[4].reason
    table = format_table(verdicts)
    assert "execution EX" in table and "test suite TS" in table and "exact match EM" in table
    assert "all            5         4   80.0%         2   40.0%" in table


def test_without_a_suite_ts_is_none_and_ex_is_unchanged(tmp_path: Path) -> None:
    verdicts = score(suite_dataset(tmp_path / "ds", with_suite=False), PREDICTIONS)
    assert [v.exec_match for v in verdicts] == [True, True, True, True, False]
    assert [v.ts_match for v in verdicts] == [None] * 5
    assert "test suite" not in format_table(verdicts) and "test suite" not in verdicts[0].reason


def test_gold_failing_on_one_suite_database_leaves_that_item_without_a_ts_verdict(tmp_path: Path) -> None:
    root = suite_dataset(tmp_path / "ds")
    make_db(root / "database" / "sing" / "sing_ts3.sqlite", "CREATE TABLE singer (singer_id INTEGER, name TEXT);")
    verdicts = score(root, PREDICTIONS[:1] * 5)
    assert all(v.exec_match is True and v.ts_match is None for v in verdicts)
    assert "gold query fails on sing_ts3.sqlite" in verdicts[0].reason


@pytest.mark.parametrize("with_suite", [True, False])
def test_score_jsonl_lines_carry_ts_match(tmp_path: Path, with_suite: bool) -> None:
    root = suite_dataset(tmp_path / "ds", with_suite)
    preds, out = tmp_path / "p.sql", tmp_path / "v.jsonl"
    preds.write_text("\n".join(PREDICTIONS) + "\n")
    cmd = [sys.executable, "-m", "workbench", "score", "--dataset", str(root), "--predictions", str(preds)]
    done = subprocess.run([*cmd, "--jsonl", str(out), "--workers", "1"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all("ts_match" in r for r in rows)
    expected = [True, True, False, False, False] if with_suite else [None] * 5
    assert [r["ts_match"] for r in rows] == expected
    assert ("test suite TS" in done.stdout) is with_suite


def test_ts_match_survives_the_store_and_an_old_store_migrates(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    old = Store(path, migrations=MIGRATIONS[:-1])
    ds = old.dataset_id(str(tmp_path / "ds"), "ds")
    vid = old.variant_id("base", "http://x/v1", "m", {})
    run = old.create_run("r", ds, "dev", None, [vid])
    old.db.execute(
        "INSERT INTO scores (run_id, variant_id, item_index, db_id, status, reason, created_at, exec_match) "
        "VALUES (?, ?, 0, 'sing', 'scored', 'same rows', 'then', 1)",
        (run, vid),
    )
    old.db.commit()
    old.close()
    store = Store(path)
    assert [r.ts_match for r in store.scores(run)] == [None]
    for index, ts in ((1, True), (2, False)):
        store.save_score(run, ScoreRow(variant_id=vid, item_index=index, db_id="sing", status="scored",
                                       reason="", exec_match=True, ts_match=ts))  # fmt: skip
    rows = list(store.scores(run))
    assert [r.ts_match for r in rows] == [None, True, False]
    summary = VariantSummary("base")
    for row in rows:
        summary.add(row)
    assert (summary.correct, summary.ts_correct, summary.ts_n) == (3, 1, 2)
    assert summary.to_json()["test_suite_accuracy"] == 0.5
    table = format_summaries([summary])
    assert "TS%" in table.splitlines()[0] and " 50.0 " in table.splitlines()[1]
    assert "TS%" not in format_summaries([VariantSummary("plain")])
    store.close()
