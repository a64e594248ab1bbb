"""How many times a score connects to a PostgreSQL server, counted by the real server (pg_stat_database).

``Dataset.load_split`` checks each database of the split (a connection and the role check); the scorer
takes those findings (``Split.database_problems``) instead of checking again, so a score connects once
per database to check it and once per chunk of items to score them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import ADMIN, OWNER, PASSWORD_ENV, READER
from workbench.cli import main
from workbench.core.data.convert import Target, convert_dataset
from workbench.core.data.dataset import Dataset
from workbench.core.scoring.scorer import Scorer, parse_predictions
from workbench.paths import DEMO_DATASET

COUNTED = "counted"  # a database of its own: only this module's tests connect to it


@pytest.fixture(scope="module")
def on_server(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> Path:
    """The demo converted into the server's database ``counted``, read as the read-only role."""
    from psycopg import sql

    with pg_server.connect(ADMIN, "postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(COUNTED), sql.Identifier(OWNER)))
    folder = tmp_path_factory.mktemp("counted") / "demo"
    convert_dataset(DEMO_DATASET, Target("postgres", folder, pg_server.url(OWNER, COUNTED), PASSWORD_ENV[OWNER]))
    with pg_server.connect(ADMIN, COUNTED) as conn:
        for db_id in Dataset(DEMO_DATASET).db_ids:
            conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {0} TO {1}; GRANT SELECT ON ALL TABLES IN SCHEMA {0} TO {1}").format(
                    sql.Identifier(db_id), sql.Identifier(READER)
                )
            )
    (folder / "engine.toml").write_text(
        f'engine = "postgres"\nurl = "{pg_server.url(READER, COUNTED)}"\npassword_env = "{PASSWORD_ENV[READER]}"\n'
    )
    return folder


def sessions(pg_server: Any) -> int:
    """Connections made to ``counted`` so far, once none is open (a backend's count reaches the statistics as
    it ends)."""
    with pg_server.connect(ADMIN, "postgres") as conn:
        deadline = time.monotonic() + 30
        while True:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute("SELECT numbackends, sessions FROM pg_stat_database WHERE datname = %s", (COUNTED,))
            open_now, made = row.fetchone()
            if open_now == 0:
                return int(made)
            assert time.monotonic() < deadline, f"{open_now} connection(s) to {COUNTED} still open"
            time.sleep(0.05)


def test_a_score_checks_each_database_once_and_connects_once_per_chunk_to_score(
    on_server: Path, pg_server: Any
) -> None:
    dataset = Dataset(on_server)
    predictions = parse_predictions((on_server / "dev_gold.sql").read_text())
    before = sessions(pg_server)
    split = dataset.load_split("dev")
    databases = len(split.database_problems)
    assert split.database_problems == dict.fromkeys({item.db_id for item in split.items}, "") and databases == 4
    assert sessions(pg_server) - before == databases  # the split's check: one connection per database

    before = sessions(pg_server)
    with Scorer(dataset, workers=1, gold_cache=False) as scorer:  # 22 items a database: one chunk each
        verdicts = scorer.score(split.items, predictions, database_problems=split.database_problems)
    assert all(v.exec_match for v in verdicts), [v.reason for v in verdicts if not v.exec_match]
    assert sessions(pg_server) - before == databases  # only the worker's, to score: the check is not repeated

    before = sessions(pg_server)
    with Scorer(dataset, workers=1, gold_cache=False) as scorer:  # without the split's findings it checks itself
        assert scorer.score(split.items, predictions) == verdicts
    assert sessions(pg_server) - before == 2 * databases


def test_the_score_command_connects_twice_per_database(
    on_server: Path, pg_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sessions(pg_server)
    args = ["score", "--dataset", str(on_server), "--predictions", str(on_server / "dev_gold.sql"), "--workers", "1"]
    assert main([*args, "--no-gold-cache"]) == 0
    assert "88 questions" in capsys.readouterr().out
    assert sessions(pg_server) - before == 2 * 4  # the split's check, then the worker's connection to score
