"""Gold disputes in the store (per dataset and split, migrated from the previous schema) and EX with overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.reports.overrides import Overrides
from workbench.core.reports.results import RunResults
from workbench.core.store import MIGRATIONS, Dispute, ScoreRow, Store

ROOT = "/data/demo"


def test_disputes_round_trip_per_dataset_and_split(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    wrong = store.save_dispute(ROOT, "demo", Dispute("dev", 3, "gold_wrong", "  counts the header row  "))
    also = store.save_dispute(
        ROOT, "demo", Dispute("dev", 3, "also_correct", "same rows", " SELECT 1 ", said_of="run-1:right")
    )
    store.save_dispute(ROOT, "demo", Dispute("train", 0, "ambiguous", "which year?"))
    store.save_dispute("/data/other", "other", Dispute("dev", 3, "ambiguous"))
    assert wrong.note == "counts the header row" and wrong.created_at and also.predicted_sql == "SELECT 1"

    assert store.disputes(ROOT, "dev") == [also, wrong]  # by item, then kind
    assert [d.split for d in store.disputes(ROOT)] == ["dev", "dev", "train"]
    assert [d.kind for d in store.disputes("/data/other")] == ["ambiguous"]
    assert store.disputes("/data/never-opened") == []

    again = store.save_dispute(ROOT, "demo", Dispute("dev", 3, "gold_wrong", "off by one"))  # a new note replaces
    assert [d.note for d in store.disputes(ROOT, "dev") if d.kind == "gold_wrong"] == ["off by one"]
    assert store.remove_dispute(ROOT, again) and not store.remove_dispute(ROOT, again)
    assert store.disputes(ROOT, "dev") == [also]
    store.close()
    reopened = Store(tmp_path / "s.sqlite")
    assert reopened.disputes(ROOT, "dev") == [also]
    reopened.close()


def test_a_dispute_names_a_known_kind_and_only_also_correct_carries_sql() -> None:
    with pytest.raises(ValueError, match="unknown dispute kind 'typo'"):
        Dispute("dev", 0, "typo")
    with pytest.raises(ValueError, match="goes with 'also_correct'"):
        Dispute("dev", 0, "also_correct", "no prediction given")
    with pytest.raises(ValueError, match="goes with 'also_correct'"):
        Dispute("dev", 0, "gold_wrong", predicted_sql="SELECT 1")


def test_the_previous_schema_migrates_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Store(path, migrations=MIGRATIONS[:-1])
    assert old.disputes(ROOT) == []  # no table yet: nothing disputed, no error
    ds = old.dataset_id(ROOT, "demo")
    vid = old.variant_id("base", "http://x/v1", "m", {})
    run = old.create_run("r", ds, "dev", None, [vid])
    old.save_score(run, ScoreRow(variant_id=vid, item_index=0, db_id="library", status="scored", reason="same",
                                 exec_match=True))  # fmt: skip
    old.close()

    store = Store(path)
    assert store.version == len(MIGRATIONS)
    assert [r.exec_match for r in store.scores(run)] == [True] and store.run("r").dataset_root == ROOT
    store.save_dispute(ROOT, "demo", Dispute("dev", 0, "ambiguous", "two readings"))
    assert store.db.execute("SELECT count(*) FROM datasets").fetchone()[0] == 1  # the run's dataset, reused
    assert [d.note for d in store.disputes(ROOT, "dev")] == ["two readings"]
    store.close()


def _row(index: int, status: str = "scored", right: bool | None = None, sql: str = "") -> ScoreRow:
    return ScoreRow(variant_id=1, item_index=index, db_id="db", status=status, reason="", exec_match=right,
                    predicted_sql=sql)  # fmt: skip


# (row, disputes, counted as) for one row: None = left out of EX with overrides
OVERRIDE_CASES = [
    (_row(0, right=True), [], True),
    (_row(0, right=False, sql="SELECT a"), [], False),
    (_row(0, right=True), [Dispute("dev", 0, "gold_wrong")], None),
    (_row(0, right=False), [Dispute("dev", 0, "ambiguous")], None),
    (_row(0, right=False, sql=" SELECT a\n"), [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a")], True),
    (_row(0, right=False, sql="SELECT b"), [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a")], False),
    (_row(1, right=False, sql="SELECT a"), [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a")], False),
    (_row(0, right=False, sql="SELECT a"),
     [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a"), Dispute("dev", 0, "gold_wrong")], None),
    (_row(0, status="failed"), [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a")], None),
    (_row(0, status="unscorable", sql="SELECT a"), [Dispute("dev", 0, "also_correct", predicted_sql="SELECT a")],
     None),
]  # fmt: skip


@pytest.mark.parametrize(("row", "disputes", "expected"), OVERRIDE_CASES)
def test_the_override_rule_row_by_row(row: ScoreRow, disputes: list[Dispute], expected: bool | None) -> None:
    assert Overrides.of(disputes).verdict(row) is expected


def test_ex_with_overrides_beside_plain_ex_from_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    ds = store.dataset_id(ROOT, "demo")
    vid = store.variant_id("v", "http://x/v1", "m", {})
    run = store.create_run("r", ds, "dev", None, [vid])
    table = [  # item: (status, right, sql)
        ("scored", True, "SELECT 0"),  # 0 right
        ("scored", False, "SELECT 1"),  # 1 wrong, marked also correct: right with overrides
        ("scored", False, "SELECT 2"),  # 2 wrong, gold wrong: left out
        ("scored", True, "SELECT 3"),  # 3 right, question ambiguous: left out
        ("scored", False, "SELECT 4"),  # 4 wrong, another prediction marked also correct: still wrong
        ("failed", None, None),  # 5 no answer: in neither figure
        ("unscorable", None, "SELECT 6"),  # 6 gold fails: in neither figure
    ]
    for index, (status, right, sql) in enumerate(table):
        store.save_score(run, ScoreRow(variant_id=vid, item_index=index, db_id="db", status=status, reason="",
                                       exec_match=right, predicted_sql=sql))  # fmt: skip
    plain = RunResults.from_store(store, run).summaries()[0]
    assert (plain.correct, plain.completed) == (2, 5) and (plain.override_correct, plain.override_n) == (2, 5)
    for dispute in (
        Dispute("dev", 1, "also_correct", predicted_sql="SELECT 1", said_of="r:v"),
        Dispute("dev", 2, "gold_wrong", "the join drops rows"),
        Dispute("dev", 3, "ambiguous"),
        Dispute("dev", 4, "also_correct", predicted_sql="SELECT 44"),
        Dispute("train", 0, "gold_wrong"),  # another split's: no effect here
    ):
        store.save_dispute(ROOT, "demo", dispute)
    results = RunResults.from_store(store, run)
    summary = results.summaries()[0]
    assert (summary.correct, summary.completed, summary.execution_accuracy) == (2, 5, 0.4)  # plain EX unchanged
    assert (summary.override_correct, summary.override_n, summary.override_accuracy) == (2, 3, 2 / 3)
    assert summary.to_json()["with_overrides"] == {"correct": 2, "n": 3, "execution_accuracy": 0.6667}
    results.set_disputes([])
    assert results.summaries()[0].override_n == 5
    store.close()
