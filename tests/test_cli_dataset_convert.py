"""`workbench dataset convert`: the demo copied into DuckDB files end to end, its gold queries checked there."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_db, write_json
from workbench.cli import main
from workbench.core.data.transpile import transpile
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.sandbox.sqlexec import QueryResult, SandboxedDatabase
from workbench.paths import DEMO_DATASET

SUMMARY = re.compile(r"converted (\d+) databases, (\d+) gold queries; (\d+) changed their result")
CHANGED = re.compile(r"changed: (\S+) (item|line) (\d+) \((\w+)\): (.+)")


def test_the_demo_converts_to_duckdb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo-duckdb"
    assert main(["dataset", "convert", str(DEMO_DATASET), "--to", "duckdb", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    summary = SUMMARY.fullmatch(lines[-1])
    assert summary is not None, lines[-1]
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    train = json.loads((DEMO_DATASET / "train.json").read_text())
    gold_lines = [line for line in (DEMO_DATASET / "dev_gold.sql").read_text().splitlines() if line.strip()]
    assert summary.groups() == ("4", str(len(dev) + len(train) + len(gold_lines)), str(len(lines) - 1))
    assert "copying 1/4: " in captured.err and "checking dev.json" in captured.err  # progress on stderr
    assert (out / "engine.toml").read_text() == 'engine = "duckdb"\n'
    assert sorted(p.name for p in out.iterdir()) == [
        "database", "dev.json", "dev_gold.sql", "engine.toml", "sample_predictions.sql", "tables.json", "train.json"
    ]  # fmt: skip
    assert (out / "tables.json").read_bytes() == (DEMO_DATASET / "tables.json").read_bytes()
    for db_id in ("library", "clinic", "shop", "transit"):
        assert registry.problem(DatabaseRef("duckdb", str(out / "database" / db_id / f"{db_id}.duckdb"))) == ""

    # every dev gold query, as written into the new dev.json, gives SQLite's rows unless it is reported
    reported = {(m[1], int(m[3])): m[5] for m in map(CHANGED.fullmatch, lines[:-1]) if m}
    assert len(reported) == len(lines) - 1
    converted = json.loads((out / "dev.json").read_text())
    assert [c["question"] for c in converted] == [d["question"] for d in dev]
    for k, (before, after) in enumerate(zip(dev, converted, strict=True)):
        assert after["query"] == transpile(before["query"], "duckdb")
        db_id = before["db_id"]
        ref = DatabaseRef("duckdb", str(out / "database" / db_id / f"{db_id}.duckdb"))
        with (
            registry.open_database(ref) as duck,
            SandboxedDatabase(DEMO_DATASET / "database" / db_id / f"{db_id}.sqlite") as lite,
        ):
            got, want = duck.execute(after["query"]), lite.execute(before["query"])
        assert isinstance(want, QueryResult) and isinstance(got, QueryResult), (before["query"], got)
        same = sorted(got.rows, key=repr) == sorted(want.rows, key=repr)
        in_order = got.rows == want.rows or "order by" not in before["query"].lower()
        assert (same and in_order) == (("dev.json", k) not in reported), (k, before["query"])
    # SQLite's bare columns beside GROUP BY run on DuckDB once converted
    grouped = [c["query"] for c in converted if "GROUP BY T1." in c["query"] and c["query"].startswith("SELECT MIN(")]
    assert grouped and all('AS "' in q for q in grouped)

    assert (
        main(["dataset", "convert", str(DEMO_DATASET), "--to", "duckdb", "--out", str(tmp_path / "j"), "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["databases"] == 4 and report["gold_queries"] == int(summary.group(2))
    assert [f"{c['file']} {c['position']}" for c in report["changed"]] == [
        f"{m[1]} {m[2]} {m[3]}" for m in map(CHANGED.fullmatch, lines[:-1]) if m
    ]
    assert report["summary"] == lines[-1]


def test_each_changed_result_is_reported_with_its_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "tiny"
    make_db(
        root / "database" / "people" / "people.sqlite",
        "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);"
        "INSERT INTO person VALUES (1, 'Ada', 36), (2, 'Bram', 41), (3, 'Chioma', 51);",
    )
    entry = {
        "db_id": "people",
        "table_names_original": ["person"],
        "table_names": ["person"],
        "column_names_original": [[-1, "*"], [0, "id"], [0, "name"], [0, "age"]],
        "column_names": [[-1, "*"], [0, "id"], [0, "name"], [0, "age"]],
        "column_types": ["text", "number", "text", "number"],
        "primary_keys": [1],
        "foreign_keys": [],
    }
    write_json(root / "tables.json", [entry])
    questions = [
        ("How many people?", "SELECT count(*) FROM person"),
        ("Half the count?", "SELECT count(*) / 2 FROM person"),  # SQLite divides integers: 1; DuckDB 1.5
        ("Is there an ada?", "SELECT name FROM person WHERE name LIKE 'ada'"),  # SQLite's LIKE ignores case
        ("A blob?", "SELECT zeroblob(2)"),  # no such function in DuckDB
        ("Broken?", "SELECT nope FROM person"),  # fails on both: not a change
        ("Ada's age?", 'SELECT age FROM person WHERE name = "Ada"'),  # SQLite's string in double quotes
    ]
    write_json(root / "dev.json", [{"db_id": "people", "question": q, "query": s} for q, s in questions])
    (root / "dev_gold.sql").write_text("SELECT count(*) / 2 FROM person\tpeople\n\nSELECT 1\tpeople\n")
    out = tmp_path / "tiny-duckdb"
    assert main(["dataset", "convert", str(root), "--to", "duckdb", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "changed: dev.json item 1 (people): result differs: 1 rows on sqlite, 1 on duckdb; only on sqlite: (1,)",
        "changed: dev.json item 2 (people): result differs: 1 rows on sqlite, 0 on duckdb; only on sqlite: ('Ada',)",
        lines[2],
        "changed: dev_gold.sql line 1 (people): result differs: 1 rows on sqlite, 1 on duckdb; only on sqlite: (1,)",
        "converted 1 databases, 8 gold queries; 4 changed their result",
    ]
    assert lines[2].startswith("changed: dev.json item 3 (people): fails on duckdb: runtime: Catalog Error")
    assert (out / "dev_gold.sql").read_text().splitlines()[1] == ""  # blank lines kept where they were
    assert json.loads((out / "dev.json").read_text())[5]["query"] == "SELECT age FROM person WHERE name = 'Ada'"


@pytest.mark.parametrize(
    ("gold", "columns", "converted"),
    [
        ('SELECT a FROM t WHERE country = "France"', ["a", "country"], "SELECT a FROM t WHERE country = 'France'"),
        ('SELECT "a" FROM t WHERE "country" = "x"', ["a", "country"], "SELECT \"a\" FROM t WHERE \"country\" = 'x'"),
        ('SELECT count(*) AS "n" FROM t ORDER BY "n"', ["a"], 'SELECT COUNT(*) AS "n" FROM t ORDER BY "n" NULLS FIRST'),
        ("SELECT T2.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id GROUP BY T1.id", ["id", "name"],
         'SELECT MIN(T2.name) AS "name" FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id GROUP BY T1.id'),
        ("SELECT dept, count(*) FROM t GROUP BY dept", ["dept"], "SELECT dept, COUNT(*) FROM t GROUP BY dept"),
        ("SELEC nothing", [], "SELEC nothing"),  # not a query sqlglot reads: as written
    ],
)  # fmt: skip
def test_transpiling_sqlite_habits(gold: str, columns: list[str], converted: str) -> None:
    assert transpile(gold, "duckdb", columns) == converted
    assert transpile(gold, "sqlite", columns) == gold


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "postgres", "--url", "postgresql://reader:secret@localhost/spider"],
         "error: --url: a password in the URL is refused: put it in the keyring or an environment variable"),
        (["--to", "postgres", "--url", "postgresql://reader@localhost"],  # the engine.toml it writes would refuse it
         "error: --url: expected a database name (postgresql://user@host:port/dbname)"),
        (["--to", "postgres"], "error: --url (none): expected a postgresql://user@host:port/dbname URL"),
        (["--to", "duckdb", "--url", "postgresql://localhost/x"],
         "error: --url goes with --to postgres; DuckDB files are written under --out"),
    ],
)  # fmt: skip
def test_bad_targets_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    rc = main(["dataset", "convert", str(DEMO_DATASET), "--out", str(tmp_path / "new"), *args])
    assert rc == 2
    assert capsys.readouterr().err == message + "\n"
    assert not (tmp_path / "new").exists()


def test_an_existing_folder_or_a_non_sqlite_source_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("mine")
    assert main(["dataset", "convert", str(DEMO_DATASET), "--to", "duckdb", "--out", str(busy)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {busy}: already exists and is not an empty folder; choose a new --out folder\n"
    )
    assert (busy / "x").read_text() == "mine"
    converted = tmp_path / "once"
    assert main(["dataset", "convert", str(DEMO_DATASET), "--to", "duckdb", "--out", str(converted)]) == 0
    capsys.readouterr()
    assert main(["dataset", "convert", str(converted), "--to", "duckdb", "--out", str(tmp_path / "twice")]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {converted / 'engine.toml'}: engine 'duckdb'; convert copies a SQLite dataset\n"
    )
    lone = make_db(tmp_path / "lone" / "one.sqlite", "CREATE TABLE t (x INTEGER);")
    assert main(["dataset", "convert", str(lone.parent), "--to", "duckdb", "--out", str(tmp_path / "o")]) == 2
    assert "convert takes a Spider or BIRD folder" in capsys.readouterr().err


def test_the_source_is_left_as_it_was(tmp_path: Path, demo_copy: Path) -> None:
    before = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    assert main(["dataset", "convert", str(demo_copy), "--to", "duckdb", "--out", str(tmp_path / "dd")]) == 0
    assert {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()} == before
    conn = sqlite3.connect(demo_copy / "database" / "shop" / "shop.sqlite")
    conn.execute("BEGIN EXCLUSIVE")  # nothing left holding the source
    conn.rollback()
    conn.close()


def test_a_bird_folder_converts_with_its_descriptions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bird_data import QUESTIONS, write_bird

    root = write_bird(tmp_path / "bird")
    out = tmp_path / "bird-duckdb"
    assert main(["dataset", "convert", str(root), "--to", "duckdb", "--out", str(out)]) == 0
    summary = SUMMARY.fullmatch(capsys.readouterr().out.splitlines()[-1])
    assert summary is not None and summary.group(2) == str(2 * len(QUESTIONS))  # dev.json and dev.sql
    for db in (root / "dev_databases").iterdir():
        assert (out / "dev_databases" / db.name / f"{db.name}.duckdb").is_file()
        for description in (db / "database_description").iterdir():
            assert (out / "dev_databases" / db.name / "database_description" / description.name).read_bytes() == (
                description.read_bytes()
            )
    assert (out / "dev_tables.json").read_bytes() == (root / "dev_tables.json").read_bytes()
    converted = json.loads((out / "dev.json").read_text())
    assert [c["SQL"] for c in converted] == [transpile(str(q["SQL"]), "duckdb") for q in QUESTIONS]
    assert [c["evidence"] for c in converted] == [q["evidence"] for q in QUESTIONS]
