"""The engine setting of a dataset (engine.toml, a DuckDB file, a PostgreSQL URL) and the refs it gives."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from tests.bird_data import write_bird
from tests.own_data import make_shop
from workbench.cli import score as score_command
from workbench.cli.common import open_dataset
from workbench.cli.run_output import format_summaries
from workbench.cli.score import format_table
from workbench.core.data.dataset import Dataset, DatasetError, open_source
from workbench.core.data.engine_setting import url_database_ref
from workbench.core.engines.base import DatabaseRef
from workbench.core.reports.summaries import VariantSummary
from workbench.core.scoring import Scorer, parse_predictions
from workbench.core.scoring.scorer import Verdict, exact_note, execution_verdict
from workbench.core.scoring.suite import ExecutionVerdicts
from workbench.core.store import ScoreRow

URL = "postgresql://reader@db.example:5433/spider"


def with_setting(folder: Path, text: str) -> Path:
    (folder / "engine.toml").write_text(text)
    return folder


def test_a_spider_folder_naming_sqlite_scores_exactly_like_one_without(demo_copy: Path, tmp_path: Path) -> None:
    named = shutil.copytree(demo_copy, tmp_path / "named")
    with_setting(named, 'engine = "sqlite"\n')
    preds = parse_predictions((demo_copy / "sample_predictions.sql").read_text())
    verdicts = []
    for root in (demo_copy, named):
        dataset = Dataset(root)
        assert dataset.engine == "sqlite"
        with Scorer(dataset, workers=1, gold_cache=False) as scorer:
            verdicts.append(scorer.score(dataset.load_split("dev").items, preds))
    assert verdicts[0] == verdicts[1]
    assert any(v.exact_match for v in verdicts[1]) and any(v.exec_match for v in verdicts[1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('engine = "mysql"\n', "line 1, column 1: engine: expected one of: sqlite, duckdb, postgres, got 'mysql'"),
        ("engine = 3\n", "line 1, column 1: engine: expected a string, got an integer"),
        ('url = "postgresql://u@h/d"\n', "engine: missing; expected one of: sqlite, duckdb, postgres"),
        ('engine = "postgres"\n\nurl = "postgresql://u:hunter2@h/d"\n',
         "line 3, column 1: url: a password in the URL is refused: put it in the keyring or an environment variable"),
        ('engine = "postgres"\nurl = 5432\n', "line 2, column 1: url: expected a string, got an integer"),
        ('engine = "postgres"\nurl = "mysql://h/d"\n', "line 2, column 1: url: expected a URL starting postgresql://"),
        ('engine = "postgres"\n', "url: missing; expected postgresql://user@host:port/dbname"),
        ('engine = "postgres"\nurl = "postgresql://u@h/d"\nallow_privileged_role = "yes"\n',
         "line 3, column 1: allow_privileged_role: expected a boolean, got a string"),
        ('engine = "postgres"\nurl = "postgresql://u@h/d"\npassword_env = "NOT A NAME"\n',
         "line 3, column 1: password_env: expected an environment variable's name, got 'NOT A NAME'"),
        ('engine = "duckdb"\nurl = "postgresql://u@h/d"\n', "line 2, column 1: url: only for engine = \"postgres\""),
        ('engine = "sqlite"\nhost = "h"\n', "line 2, column 1: host: unknown key; expected one of: engine, url"),
        ('engine = "sqlite\n', "engine.toml: "),  # not TOML at all: the reader's own line and column
    ],
)  # fmt: skip
def test_bad_engine_settings_are_one_line_naming_the_file_and_key(demo_copy: Path, text: str, expected: str) -> None:
    with_setting(demo_copy, text)
    with pytest.raises(DatasetError) as caught:
        Dataset(demo_copy)
    message = str(caught.value)
    assert message.startswith(f"{demo_copy / 'engine.toml'}: ")
    assert expected in message
    assert "\n" not in message and "hunter2" not in message


def test_each_layout_gives_the_refs_of_its_engine(demo_copy: Path, tmp_path: Path) -> None:
    plain = Dataset(demo_copy)
    db_id = plain.db_ids[0]
    assert plain.database(db_id) == DatabaseRef("sqlite", str(demo_copy / "database" / db_id / f"{db_id}.sqlite"))
    assert plain.db_path(db_id) == demo_copy / "database" / db_id / f"{db_id}.sqlite"

    duck = Dataset(with_setting(shutil.copytree(demo_copy, tmp_path / "duck"), 'engine = "duckdb"\n'))
    assert duck.engine == "duckdb"
    assert duck.database(db_id) == DatabaseRef(
        "duckdb", str(tmp_path / "duck" / "database" / db_id / f"{db_id}.duckdb")
    )

    pg_text = f'engine = "postgres"\nurl = "{URL}"\npassword_env = "SPIDER_PG_PASSWORD"\n'
    pg = Dataset(with_setting(shutil.copytree(demo_copy, tmp_path / "pg"), pg_text))
    assert pg.engine == "postgres"
    assert pg.database(db_id) == DatabaseRef("postgres", URL, db_id, "SPIDER_PG_PASSWORD", False)
    with pytest.raises(DatasetError, match="a postgres database, not a file"):
        pg.db_path(db_id)
    assert Dataset(tmp_path / "pg", allow_privileged_role=True).database(db_id).allow_privileged_role
    on_file = with_setting(tmp_path / "pg", pg_text + "allow_privileged_role = true\n")
    assert Dataset(on_file).database(db_id).allow_privileged_role

    bird = with_setting(write_bird(tmp_path / "bird"), 'engine = "duckdb"\n')
    assert Dataset(bird).database("orchard") == DatabaseRef(
        "duckdb", str(bird / "dev_databases" / "orchard" / "orchard.duckdb")
    )


def test_own_data_can_be_a_duckdb_file_or_a_postgresql_url(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    assert open_source(shop).database("shop") == DatabaseRef("sqlite", str(shop))
    duck = tmp_path / "sales.duckdb"
    duck.write_bytes(b"")  # the source is chosen by the name; the engine reads the file
    source = open_source(duck)
    assert (source.engine, source.name, source.database("sales")) == (
        "duckdb",
        "sales",
        DatabaseRef("duckdb", str(duck)),
    )
    on_server = open_source(Path("shop"), None, "postgresql://reader@localhost:5432/shop")
    assert on_server.engine == "postgres" and on_server.name == "shop"
    assert on_server.database("shop") == DatabaseRef("postgres", "postgresql://reader@localhost:5432/shop")


def test_a_password_in_a_dataset_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(DatasetError) as caught:
        url_database_ref("postgresql://reader:hunter2@localhost/shop")
    assert "put it in the keyring or an environment variable" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(DatasetError) as opened:  # given as the dataset itself
        Dataset("postgresql://reader:hunter2@localhost/shop")
    assert str(opened.value) == (
        "dataset URL: a password in the URL is refused: put it in the keyring or an environment variable"
    )


def test_allow_privileged_role_reaches_every_ref(demo_copy: Path) -> None:
    with_setting(demo_copy, f'engine = "postgres"\nurl = "{URL}"\n')
    parser = argparse.ArgumentParser()
    score_command.add_arguments(parser)
    for flag, expected in (([], False), (["--allow-privileged-role"], True)):
        args = parser.parse_args(["--dataset", str(demo_copy), "--predictions", "p.sql", *flag])
        dataset = open_dataset(args)
        assert {dataset.database(d).allow_privileged_role for d in dataset.db_ids} == {expected}


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_exact_set_match_is_not_applicable_off_sqlite(engine: str) -> None:
    ex = ExecutionVerdicts(True, "same rows")
    verdict = execution_verdict(3, "pets", "easy", ex, False, True, "same clauses", engine)
    assert verdict == Verdict(3, "pets", "easy", True, None, f"execution: same rows; exact: not applicable ({engine})")
    on_sqlite = execution_verdict(3, "pets", "easy", ex, False, True, "same clauses", "sqlite")
    assert (on_sqlite.exact_match, on_sqlite.reason) == (True, "execution: same rows; exact: same clauses")
    assert exact_note(engine, "not compared") == f"not applicable ({engine})"
    assert exact_note("sqlite", "not compared") == "not compared"
    summary = VariantSummary("v", by_hardness={"easy": [0, 0]})
    row = ScoreRow(variant_id=1, item_index=3, db_id="pets", status=verdict.status, reason=verdict.reason,
                   hardness="easy", exec_match=verdict.exec_match, exact_match=verdict.exact_match)  # fmt: skip
    summary.add(row)
    run_table = format_summaries([summary], engine)
    assert run_table.splitlines()[1].split()[5] == "n/a"  # variant n EX% CI EX%ovr EM%
    assert run_table.splitlines()[-1].startswith(f"EM%: not applicable ({engine})")
    table = format_table([verdict], engine=engine)
    assert table.splitlines()[-2].split()[-1] == "n/a"
    assert (
        table.splitlines()[-1]
        == f"exact match: not applicable ({engine}): Spider's exact-set match is defined for SQLite"
    )
