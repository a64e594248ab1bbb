"""Your own data: a SQLite file and a question file, read into the one Dataset shape."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_db
from tests.own_data import QUESTIONS, make_shop, write_questions_csv, write_questions_jsonl
from workbench.core.data.check import check_dataset
from workbench.core.data.dataset import Dataset, DatasetError, OwnDataSource, SpiderSource, open_source
from workbench.core.data.introspect import introspect
from workbench.core.data.schema import ForeignKey
from workbench.core.engines.base import DatabaseRef
from workbench.core.prompts.context import ContextBuilder
from workbench.core.prompts.templates import PromptTemplate
from workbench.core.scoring import Scorer
from workbench.core.store import Store
from workbench.core.store.migrations import MIGRATIONS


def test_the_schema_is_introspected_with_types_keys_and_samples(tmp_path: Path) -> None:
    schema = introspect(DatabaseRef("sqlite", str(make_shop(tmp_path))), "shop")
    assert [t.name for t in schema.tables] == ["customer", "product", "orders"]
    assert schema.table("product").primary_key == ("sku", "variant")  # composite
    assert schema.table("customer").primary_key == ("id",)
    columns = {(c.table, c.name): c for c in schema.columns}
    assert columns[("customer", "city")].type == "VARCHAR(20)"
    assert columns[("orders", "quantity")].type == "ANY"  # declared without a type
    assert columns[("customer", "city")].samples == ("Oslo", "Rome")  # distinct, NULL left out
    assert columns[("product", "price")].samples == ("4.5", "5.0", "3.25")
    assert set(schema.foreign_keys) == {
        ForeignKey("orders", "customer_id", "customer", "id"),
        ForeignKey("orders", "sku", "product", "sku"),  # the composite key, one pair per column
        ForeignKey("orders", "variant", "product", "variant"),
    }
    assert "PRIMARY KEY (sku, variant)" in schema.create_table_sql()
    assert "FOREIGN KEY (variant) REFERENCES product(variant)" in schema.create_table_sql()
    assert schema.raw["primary_keys"] == [1, [4, 5], 7]  # what tables.json would say, for the scorer's parser
    assert columns[("customer", "name")].natural_name == "name"


def test_a_key_naming_only_its_parent_table_points_at_the_parent_primary_key(tmp_path: Path) -> None:
    db = make_db(tmp_path / "k.db", "CREATE TABLE p (a, b, PRIMARY KEY (b, a)); CREATE TABLE c (x, y, "
                 "FOREIGN KEY (x, y) REFERENCES p);")  # fmt: skip
    schema = introspect(DatabaseRef("sqlite", str(db)), "k")
    assert set(schema.foreign_keys) == {ForeignKey("c", "x", "p", "b"), ForeignKey("c", "y", "p", "a")}


def test_csv_questions_keep_commas_quotes_and_line_breaks(tmp_path: Path) -> None:
    dataset = Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv"))
    assert dataset.splits == ["q"] and dataset.default_split("dev") == "q"
    assert dataset.db_ids == ["shop"] and dataset.name == "shop"
    assert dataset.tables_path is None and not dataset.has_test_suites
    items = dataset.load_split("q").items
    assert [(i.question, i.query) for i in items] == [(q, sql) for q, sql, _ in QUESTIONS]
    assert [i.db_id for i in items] == ["shop"] * 3  # no db_id column: the one database
    assert [i.position for i in items] == ["line 2", "line 3", "line 5"]  # the second row spans two lines
    assert [i.hardness for i in items] == ["starter", None, None]


def test_jsonl_questions_with_evidence(tmp_path: Path) -> None:
    rows = [
        {"question": "Cheapest product?", "sql": "SELECT sku FROM product ORDER BY price LIMIT 1", "db_id": "shop",
         "evidence": "cheapest means lowest price", "hardness": "easy"},
        {"question": "Customers?", "sql": "SELECT name FROM customer"},
    ]  # fmt: skip
    dataset = Dataset(make_shop(tmp_path), write_questions_jsonl(tmp_path / "mine.jsonl", rows))
    items = dataset.load_split("mine").items
    assert items[0].evidence == "cheapest means lowest price" and items[0].hardness == "easy"
    assert items[1].evidence == "" and items[1].position == "line 2"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.csv", "question,query\nHow many?,SELECT 1\n", r"q.csv: line 1: header has no column 'sql'"),
        ("q.csv", "question,sql\nHow many?,SELECT 1\nNo SQL,\n", r"q.csv: line 3: 'sql' is empty"),
        ("q.csv", 'question,sql\n"unclosed,SELECT 1\n', r"q.csv: line 2: unexpected end of data"),
        ("q.jsonl", '{"question": "a", "sql": "SELECT 1"}\n{"question": "b"}\n', r"q.jsonl: line 2: missing 'sql'"),
        ("q.jsonl", '{"question": "a", "sql": 3}\n', r"q.jsonl: line 1: 'sql' should be a string, got an integer"),
        ("q.jsonl", "[1]\n", r"q.jsonl: line 1: expected an object, got a list"),
        ("q.txt", "question,sql\n", r"q.txt: expected a question file ending .csv or .jsonl"),
    ],
)
def test_bad_question_files_are_one_line_with_a_position(tmp_path: Path, name: str, content: str, message: str) -> None:
    questions = tmp_path / name
    questions.write_text(content)
    with pytest.raises(DatasetError, match=message) as caught:
        Dataset(make_shop(tmp_path), questions).load_split(questions.stem)
    assert "\n" not in str(caught.value)


def test_an_unknown_db_id_names_the_row(tmp_path: Path) -> None:
    questions = write_questions_jsonl(tmp_path / "q.jsonl", [{"question": "a", "sql": "SELECT 1", "db_id": "other"}])
    with pytest.raises(DatasetError, match=r"q.jsonl: line 1: unknown db_id 'other' \(the database is 'shop'"):
        Dataset(make_shop(tmp_path), questions).load_split("q")


def test_layouts_are_detected(tmp_path: Path, demo_path: Path) -> None:
    assert isinstance(open_source(demo_path), SpiderSource)
    folder = tmp_path / "mine"
    make_shop(folder)
    write_questions_csv(folder / "questions.csv")
    source = open_source(folder)
    assert isinstance(source, OwnDataSource) and source.splits() == ["questions"]
    assert Dataset(folder).load_split("questions").items[0].db_id == "shop"
    write_questions_jsonl(folder / "more.jsonl", [{"question": "a", "sql": "SELECT 1"}])
    write_questions_jsonl(folder / "questions.jsonl", [{"question": "b", "sql": "SELECT 2"}])
    assert open_source(folder).splits() == ["more", "questions.csv", "questions.jsonl"]
    assert Dataset(folder).load_split("questions.jsonl").items[0].question == "b"
    make_db(folder / "other.db", "CREATE TABLE t (a)")
    with pytest.raises(DatasetError, match=r"2 databases \(other.db, shop.sqlite\) and no tables.json"):
        open_source(folder)
    (tmp_path / "notes.sqlite").write_text("not a database")
    with pytest.raises(DatasetError, match=r"notes\.sqlite: not a SQLite database"):
        open_source(tmp_path / "notes.sqlite")
    with pytest.raises(DatasetError, match="--questions goes with a database"):
        open_source(demo_path, tmp_path / "q.csv")


def test_a_database_without_a_question_file_has_no_splits_but_scores(tmp_path: Path) -> None:
    dataset = Dataset(make_shop(tmp_path))
    assert dataset.splits == []
    with pytest.raises(DatasetError, match=r"no split 'dev' \(found: none; pass a question file"):
        dataset.load_split("dev")


def test_scoring_uses_the_file_and_the_given_hardness(tmp_path: Path) -> None:
    make_db(tmp_path / "shop_2.sqlite", "CREATE TABLE customer (id, name, city)")  # a stranger, not a test suite
    dataset = Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv"))
    items = dataset.load_split("q").items
    preds = ["SELECT count(*) FROM customer", "SELECT name FROM customer WHERE city = 'Rome'", items[2].query]
    with Scorer(dataset, workers=1) as scorer:
        verdicts = scorer.score(items, preds)
    assert [v.exec_match for v in verdicts] == [True, False, True]
    assert [v.hardness for v in verdicts] == ["starter", "easy", "medium"]  # given, else Spider's


def test_check_reports_each_problem_with_its_position(tmp_path: Path) -> None:
    rows = [
        *QUESTIONS,
        ("Broken", "SELECT nope FROM customer", ""),
        ("Nobody", "SELECT name FROM customer WHERE city = 'Paris'", ""),
        ("Some customer", "SELECT name FROM customer LIMIT 1", ""),
        ("Any two cities", "SELECT DISTINCT city FROM customer WHERE city IS NOT NULL LIMIT 5", ""),
    ]
    report = check_dataset(Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv", rows)))
    assert report.found[0].startswith("database shop: ") and "3 tables: customer, product, orders" in report.found[0]
    assert report.found[1] == "split q: 7 questions (shop 7)"
    where = str(tmp_path / "q.csv")
    assert [str(p) for p in report.problems] == [
        f"{where}: line 6: gold query fails: runtime: no such column: nope",
        f"{where}: line 7: gold query returns no rows",
        f"{where}: line 8: gold query returns other rows when run again (LIMIT without ORDER BY)",
        f"{where}: line 9: gold query has LIMIT without ORDER BY: which rows come back is up to SQLite",
    ]


def test_a_clean_dataset_checks_clean(tmp_path: Path) -> None:
    report = check_dataset(Dataset(make_shop(tmp_path), write_questions_csv(tmp_path / "q.csv")))
    assert report.problems == []


def test_a_version_7_store_gains_the_question_file_of_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    old = Store(path, migrations=MIGRATIONS[:7])
    run = old.create_run("r", old.dataset_id("/d", "d"), "dev", None, [old.variant_id("v", "e", "m", {})])
    assert old.run(run).questions is None
    old.close()
    store = Store(path)
    assert store.version == len(MIGRATIONS) >= 8 and store.run("r").split == "dev" and store.run("r").questions is None
    second = store.create_run("own", store.dataset_id("/x/shop.sqlite", "shop"), "q", None, [], "/x/q.csv")
    assert store.run(second).questions == "/x/q.csv" and store.run(second).dataset_root == "/x/shop.sqlite"
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT questions FROM runs ORDER BY id").fetchall() == [(None,), ("/x/q.csv",)]


def test_evidence_and_the_introspected_schema_reach_the_prompt(tmp_path: Path) -> None:
    rows = [{"question": "Cheapest?", "sql": "SELECT sku FROM product ORDER BY price LIMIT 1",
             "evidence": "cheapest means lowest price"}]  # fmt: skip
    dataset = Dataset(make_shop(tmp_path), write_questions_jsonl(tmp_path / "q.jsonl", rows))
    template = PromptTemplate.parse(
        "t", "### user\n{{ schema.render(sample_rows=1) }}\n{{ evidence }}\n{{ question }}\n"
    )
    (item,) = dataset.load_split("q").items
    (message,) = ContextBuilder(dataset, template, train_split="q").build(item).messages
    text = message["content"]
    assert (
        "CREATE TABLE product (\n  sku TEXT,\n  variant INTEGER,\n  price REAL,\n  PRIMARY KEY (sku, variant)" in text
    )
    assert "mug | 1 | 4.5" in text  # a sample row read through the sandbox
    assert text.endswith("cheapest means lowest price\nCheapest?")
