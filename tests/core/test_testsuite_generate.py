"""`workbench testsuite generate` on the demo: the databases it writes keep the schema, the keys and the
real values, tell a known near neighbour of a gold query from gold, and bad input is one line, exit 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_db
from workbench.cli import main
from workbench.core.data.dataset import Dataset
from workbench.core.scoring import Scorer
from workbench.core.scoring.testsuite.neighbours import neighbours

GOLD = "SELECT genre, count(*) FROM book WHERE price > 15 GROUP BY genre"  # demo dev question 11 (library)
NEIGHBOUR = "SELECT genre, COUNT(*) FROM book WHERE price >= 15 GROUP BY genre"  # no book costs 15 in the demo


def _listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def _master(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's library questions (the dev split's first 22) with a suite of at most 3 databases."""
    from workbench.paths import DEMO_DATASET

    out = tmp_path_factory.mktemp("suite") / "demo-ts"
    before = _listing(DEMO_DATASET)
    args = ["testsuite", "generate", "--dataset", str(DEMO_DATASET), "--limit", "22", "--out", str(out)]
    assert main([*args, "--per-db", "3", "--workers", "1"]) == 0
    assert _listing(DEMO_DATASET) == before  # the user's dataset is never touched
    return out


def test_the_suite_keeps_schema_keys_and_value_pools(suite: Path) -> None:
    folder = suite / "database" / "library"
    kept = sorted(folder.glob("library_ts*.sqlite"))
    assert 1 <= len(kept) <= 3 and not list((suite / "database" / "shop").glob("*_ts*.sqlite"))
    original = folder / "library.sqlite"
    conn = sqlite3.connect(original)
    countries = {r[0] for r in conn.execute("SELECT DISTINCT country FROM author")}
    conn.close()
    for path in kept:
        assert _master(path) == _master(original)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []  # every key finds its parent row
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] >= 1
            assert {r[0] for r in conn.execute("SELECT DISTINCT country FROM author")} <= countries
            ids = [r[0] for r in conn.execute("SELECT book_id FROM book")]
            assert len(ids) == len(set(ids))
        finally:
            conn.close()


def test_the_suite_tells_a_known_neighbour_from_gold(suite: Path) -> None:
    assert NEIGHBOUR in neighbours(GOLD, {"book": ["book_id", "title", "author_id", "genre", "price"]})
    dataset = Dataset(suite)
    item = dataset.load_split("dev").items[11]
    assert item.query == GOLD
    with Scorer(dataset, workers=1) as scorer:
        (verdict,) = scorer.score([item], [NEIGHBOUR])
        (gold,) = scorer.score([item], [GOLD])
    assert verdict.exec_match is True and verdict.ts_match is False  # the main database cannot tell them apart
    assert gold.exec_match is True and gold.ts_match is True


def test_the_same_seed_builds_the_same_suite(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    args = ["testsuite", "generate", "--dataset", str(suite), "--limit", "22", "--out", str(out), "--workers", "1"]
    assert main(args) == 0
    for path in sorted((suite / "database" / "library").glob("library_ts*.sqlite")):
        twin = out / "database" / "library" / path.name
        assert (
            sqlite3.connect(twin).execute("SELECT * FROM book").fetchall()
            == sqlite3.connect(path).execute("SELECT * FROM book").fetchall()
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dataset", "{tmp}/nowhere"], "error: {tmp}/nowhere: dataset not found"),
        (["--dataset", "{demo}", "--per-db", "0"], "argument --per-db: expected at least 1, got 0"),
        (["--dataset", "{demo}", "--per-db", "many"], "argument --per-db: expected an integer, got 'many'"),
        (
            ["--dataset", "{demo}", "--out", "{tmp}/full"],
            "error: {tmp}/full: already exists and is not an empty folder",
        ),
        (["--dataset", "{tmp}/own.sqlite"], "a test suite needs a Spider-format folder"),
        (["--dataset", "{demo}", "--split", "nosuch"], "no split 'nosuch'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, demo_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("mine")
    make_db(tmp_path / "own.sqlite", "CREATE TABLE t (a INTEGER PRIMARY KEY);")
    args = [a.format(tmp=tmp_path, demo=demo_path) for a in extra]
    command = ["testsuite", "generate", *args, "--workers", "1"]
    if "argument" in message:  # argparse's own check of a flag: its usage line, then the error
        with pytest.raises(SystemExit) as exited:
            main(command)
        code = exited.value.code
    else:
        code = main(command)
    assert code == 2
    err = capsys.readouterr().err
    assert message.format(tmp=tmp_path) in err and "Traceback" not in err
    if "argument" not in message:
        assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "full" / "x.txt").read_text() == "mine"
