"""BIRD folders on our own fixture: loading, descriptions, evidence in prompts, BIRD's metrics, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bird_data import HEADER, QUESTIONS, RIGHT, write_bird
from workbench.core.data.bird import BIRD_LEVELS, BirdSource
from workbench.core.data.dataset import Dataset, DatasetError, open_source
from workbench.core.prompts.context import ContextBuilder, load_template
from workbench.core.prompts.templates import PromptTemplate
from workbench.core.reports.results import RunResults
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring import Scorer
from workbench.core.scoring.bird_metrics import mean_without_outliers, r_ves, reward_for, set_match, soft_f1
from workbench.core.scoring.predictions import PredictionsError, parse_bird_predictions
from workbench.core.store import ScoreRow, Store
from workbench.core.store.migrations import MIGRATIONS, SOFT_F1_MIGRATION


@pytest.fixture()
def bird(tmp_path: Path) -> Path:
    return write_bird(tmp_path / "bird_dev")


def test_a_bird_folder_loads_with_its_difficulties_and_descriptions(bird: Path) -> None:
    assert isinstance(open_source(bird), BirdSource)
    dataset = Dataset(bird)
    assert dataset.splits == ["dev"] and dataset.db_ids == ["library", "orchard"]
    assert dataset.hardness_levels == BIRD_LEVELS == ("simple", "moderate", "challenging")
    assert dataset.bird_metrics is True
    split = dataset.load_split("dev")
    assert len(split) == 6 and split.missing_count == 0
    levels = [item.hardness for item in split.items]
    assert {level: levels.count(level) for level in BIRD_LEVELS} == {"simple": 2, "moderate": 2, "challenging": 2}
    assert split.items[3].evidence == "healthy refers to status = 1"
    assert split.items[2].query.startswith("SELECT SUM(T2.fee)") and split.items[2].where.endswith("(question_id 2)")
    assert dataset.db_path("orchard") == bird / "dev_databases" / "orchard" / "orchard.sqlite"
    member = dataset.schema("library").table("member")
    described = {c.name: c.description for c in member.columns}
    assert described == {
        "member_id": "the member's number",  # from a file with a BOM
        "name": "the member's first name",
        "tier": "the membership level, as a code; values: G: gold, S: silver, B: bronze",
        "joined": "",
    }
    loan = {c.name: c.description for c in dataset.schema("library").table("loan").columns}
    assert loan["fee"] == "the late fee in \u20ac"  # Windows-1252 text
    assert loan["loan_id"] == ""  # no description and no readable name beyond the column's own
    harvest = {c.name: c.description for c in dataset.schema("orchard").table("harvest").columns}
    assert harvest["kg"] == 'weight of fruit "picked" that season'  # a stray quote read as written
    assert dataset.schema("library") == dataset.schema("library").with_descriptions({})  # compare=False


def test_evidence_and_descriptions_reach_the_rendered_prompt(bird: Path) -> None:
    dataset = Dataset(bird)
    item = dataset.load_split("dev").items[1]  # diseased trees: only the evidence says status = 2
    (_system, user) = ContextBuilder(dataset, load_template("evidence_descriptions")).build(item).messages
    text = user["content"]
    assert "  status integer, -- the tree's health\n" in text
    assert "  variety text,\n" in text  # no description: no comment
    assert '  kg real, -- weight of fruit "picked" that season\n  PRIMARY KEY (harvest_id),\n' in text
    assert "External knowledge: diseased refers to status = 2\n" in text
    assert text.rstrip().endswith("Question: List the varieties of the diseased trees.")
    (plain,) = ContextBuilder(dataset, load_template("zero_shot")).build(item).messages[1:]
    assert "-- " not in plain["content"]  # descriptions only where a template asks for them


def test_compact_rendering_and_the_descriptions_variable(bird: Path) -> None:
    schema = Dataset(bird).schema("orchard")
    assert schema.compact(descriptions=True).split("\n")[:4] == [
        "tree(tree_id, variety, planted, status)",
        "  tree.tree_id: the tree's number",
        "  tree.status: the tree's health",
        "harvest(harvest_id, tree_id, season, kg)",
    ]
    dataset = Dataset(bird)
    template = PromptTemplate.parse("t", "### user\n{{ schema.descriptions }}\n")
    (message,) = ContextBuilder(dataset, template).build(dataset.load_split("dev").items[0]).messages
    assert message["content"].split("\n")[:2] == ["member.member_id: the member's number",
                                                  "member.name: the member's first name"]  # fmt: skip


# (gold rows, predicted rows, BIRD EX, Soft-F1), each worked out by hand (see docs/scoring.md)
CASES = [
    ([(1, "a"), (2, "b")], [(2, "b"), (1, "a"), (1, "a")], True, 1.0),  # order and duplicates ignored
    ([(1, None)], [(1, None)], True, 1.0),  # NULL equals NULL
    ([(1, None)], [(1, 0)], False, 0.5),  # one cell of two: P = R = 1/2
    ([(3.0,)], [(3,)], True, 1.0),  # 3 == 3.0
    ([(0.3,)], [(0.1 + 0.2,)], False, 0.0),  # floats compared exactly: 0.30000000000000004 != 0.3
    ([(1, "a"), (2, "b"), (3, "c")], [(1, "a"), (2, "x")], False, 0.6),  # tp 1.5, fp 0.5, fn 1.5
    ([(1,)], [(1,), (2,)], False, 2 / 3),  # an extra row: P = 1/2, R = 1
    ([(1, "a")], [("a", 1)], False, 1.0),  # columns swapped: EX compares tuples, Soft-F1 cells
    ([], [], True, 1.0),
    ([(1,)], [], False, 0.0),
]


@pytest.mark.parametrize(("gold", "pred", "ex", "f1"), CASES)
def test_bird_ex_and_soft_f1_by_hand(gold: list[tuple], pred: list[tuple], ex: bool, f1: float) -> None:
    assert set_match(gold, pred) is ex
    assert soft_f1(gold, pred) == pytest.approx(f1)


def test_r_ves_rewards_buckets_and_outliers() -> None:
    assert [reward_for(r) for r in (2.5, 2.0, 1.0, 0.99, 0.5, 0.3, 0.25, 0.2, 0.0)] == [
        1.25, 1.25, 1.0, 0.75, 0.75, 0.5, 0.5, 0.25, 0.0
    ]  # fmt: skip
    assert mean_without_outliers([1.0] * 20 + [100.0]) == pytest.approx(1.0)  # 100 is past mean + 3 sd
    assert mean_without_outliers([0.8, 0.8, 0.8]) == pytest.approx(0.8)  # no spread: all kept
    assert r_ves([1.25, 0.0, 0.25, 1.0]) == pytest.approx(100 * (1.25**0.5 + 0 + 0.5 + 1) / 4)


def test_the_scorer_uses_bird_semantics_on_a_bird_dataset(bird: Path) -> None:
    dataset = Dataset(bird)
    split = dataset.load_split("dev")
    preds = list(RIGHT)
    preds[1] = "SELECT variety FROM tree WHERE status = 1"  # without the evidence: the healthy trees
    preds[3] = "SELECT tree_id, variety, planted FROM tree WHERE status = 1"  # a column too many, a row too many
    preds[4] = "DELETE FROM member"  # hostile: refused, and the database is unchanged
    with Scorer(dataset, workers=1) as scorer:
        verdicts = scorer.score(split.items, preds)
    assert [v.hardness for v in verdicts] == [q["difficulty"] for q in QUESTIONS]
    assert [v.exec_match for v in verdicts] == [True, False, True, False, False, True]
    assert all(v.exact_match is None for v in verdicts)  # exact-set match does not apply to BIRD
    # item 3: gold [(1, Gala)] against [(1, Gala, 2010), (3, Gala, 2016)]: the first pair matches 2 cells of
    # the gold row's 2 (tp 1) with 1 predicted-only (fp 0.5); the second row is unpaired (fp 1): P 0.4, R 1, F1 4/7
    assert [v.soft_f1 for v in verdicts] == pytest.approx([1.0, 0.0, 1.0, 4 / 7, 0.0, 1.0])
    assert "not applicable (BIRD)" in verdicts[0].reason and "prediction fails" in verdicts[4].reason
    with Scorer(dataset, workers=1) as scorer:
        again = scorer.score(split.items, [i.query for i in split.items])
    assert [v.exec_match for v in again] == [True] * 6  # the members are all still there


def test_bird_prediction_json_in_question_order() -> None:
    text = json.dumps({"1": "SELECT 2\t----- bird -----\torchard", "0": "SELECT 1", "2": None})
    assert parse_bird_predictions(text, "p.json", 3) == [("SELECT 1", ""), ("SELECT 2", "orchard"), ("", "")]
    for text, message in [
        ("[]", "p.json: expected a JSON object of predictions, got a list"),
        ('{"0": "SELECT 1"}', "p.json: 1 predictions for 2 questions; none for question(s) 1"),
        ('{"0": "a", "x": "b"}', "p.json: key 'x': expected a question index, 0 to 1"),
        (
            '{"0": 1, "1": "b"}',
            "p.json: key '0': expected a string 'SQL<TAB>----- bird -----<TAB>db_id', got an integer",
        ),
        (
            '{"0": "a",',
            "p.json: malformed JSON at line 1, column 11: Expecting property name enclosed in double quotes",
        ),
    ]:
        with pytest.raises(PredictionsError) as caught:
            parse_bird_predictions(text, "p.json", 2)
        assert str(caught.value) == message


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("dev_databases/library/database_description/member.csv", HEADER + 'tier,"never closed,text,\n',
         "member.csv: line 2: a quoted field is never closed"),
        ("dev_databases/library/database_description/loan.csv", "name,description\nfee,money\n",
         "loan.csv: line 1: expected a header naming original_column_name, column_description (and column_name, "
         "data_format, value_description); got name, description"),
        ("dev_tables.json", '[{"db_id": "library"}]', "dev_tables.json: entry 0 (db_id 'library'): missing field"),
    ],
)  # fmt: skip
def test_malformed_bird_files_are_one_line(bird: Path, file: str, content: str, message: str) -> None:
    (bird / file).write_text(content)
    with pytest.raises(DatasetError) as caught:
        Dataset(bird)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(bird))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"difficulty": "hard"}, "dev.json: item 0 (question_id 0): difficulty 'hard' should be one of simple, "
                                 "moderate, challenging"),
        ({"SQL": None}, "dev.json: item 0 (question_id 0): field 'SQL' should be a string, got null"),
        ({"evidence": 3}, "dev.json: item 0 (question_id 0): field 'evidence' should be a string, got an integer"),
        ({"db_id": "zoo"}, "dev.json: item 0 (question_id 0): unknown db_id 'zoo' (not in dev_tables.json)"),
    ],
)  # fmt: skip
def test_malformed_questions_are_one_line(tmp_path: Path, change: dict[str, object], message: str) -> None:
    questions = [dict(QUESTIONS[0]) | change, *QUESTIONS[1:]]
    dataset = Dataset(write_bird(tmp_path / "b", questions))
    with pytest.raises(DatasetError, match="^" + str(tmp_path / "b") + "/") as caught:
        dataset.load_split("dev")
    assert str(caught.value).endswith(message)


def test_train_items_without_difficulty_have_no_hardness(tmp_path: Path) -> None:
    root = write_bird(tmp_path / "b")
    (root / "train.json").write_text(json.dumps([{k: v for k, v in QUESTIONS[0].items() if k != "difficulty"}]))
    dataset = Dataset(root)
    assert dataset.splits == ["dev", "train"]
    (item,) = dataset.load_split("train").items
    assert item.hardness is None and item.evidence == "gold members refers to tier = 'G'"


def test_soft_f1_is_stored_and_summarised_by_bird_levels(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.sqlite")
    vid = store.variant_id("v", "http://x/v1", "m", {})
    run = store.create_run("r", store.dataset_id(str(tmp_path), "bird"), "dev", None, [vid])
    for index, (level, ex, f1) in enumerate(
        [("simple", True, 1.0), ("simple", False, 0.5), ("challenging", False, 0.0)]
    ):
        store.save_score(run, ScoreRow(variant_id=vid, item_index=index, db_id="library", status="scored",
                                       reason="", hardness=level, exec_match=ex, soft_f1=f1))  # fmt: skip
    rows = list(store.scores(run))
    assert [r.soft_f1 for r in rows] == [1.0, 0.5, 0.0]
    (summary,) = RunResults.from_store(store, run, BIRD_LEVELS).summaries()
    assert summary.by_hardness == {"simple": [1, 2], "moderate": [0, 0], "challenging": [0, 1]}
    assert summary.soft_f1 == pytest.approx(0.5) and summary.to_json()["soft_f1"] == 0.5
    (spider,) = RunResults.from_store(store, run).summaries()
    assert list(spider.by_hardness) == ["easy", "medium", "hard", "extra"] and "soft_f1" in spider.to_json()
    store.close()


def test_a_store_before_soft_f1_migrates_and_reads_none(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Store(path, migrations=MIGRATIONS[: SOFT_F1_MIGRATION - 1])
    vid = old.variant_id("v", "http://x/v1", "m", {})
    run = old.create_run("r", old.dataset_id(str(tmp_path), "d"), "dev", None, [vid])
    old.save_score(run, ScoreRow(variant_id=vid, item_index=0, db_id="d", status="scored", reason="", soft_f1=0.7))
    (before,) = list(old.scores(run))
    assert before.soft_f1 is None  # that schema has no column for it
    old.close()
    store = Store(path)
    assert store.version == len(MIGRATIONS)
    (row,) = list(store.scores(run))
    assert row.soft_f1 is None and row.exec_match is None
    store.close()


def test_a_question_file_with_a_bird_folder_is_refused(bird: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.csv"
    questions.write_text("question,sql\nHow many?,SELECT 1\n")
    with pytest.raises(DatasetError) as caught:
        Dataset(bird, questions)
    assert str(caught.value) == (
        f"{bird}: a BIRD folder (dev_tables.json); --questions goes with a database file or a folder holding one "
        "database"
    )


def test_a_runaway_bird_prediction_is_stopped_and_scores_nothing(bird: Path) -> None:
    dataset = Dataset(bird)
    items = dataset.load_split("dev").items[:1]
    forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with Scorer(dataset, workers=1, limits=ExecLimits(time_limit_s=0.5)) as scorer:
        (verdict,) = scorer.score(items, [forever])
    assert (verdict.exec_match, verdict.soft_f1, verdict.exact_match) == (False, 0.0, None)
    assert "prediction fails: timeout: exceeded 0.5 s" in verdict.reason
