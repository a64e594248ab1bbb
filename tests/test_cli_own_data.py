"""`score`, `run`, `finetune export` and `dataset check` on a SQLite file and a question file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess
from tests.own_data import QUESTIONS, make_shop, write_answers, write_questions_csv
from workbench.cli import main
from workbench.core.store import Store

ROOT = Path(__file__).resolve().parents[1]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def shop(tmp_path: Path) -> tuple[Path, Path]:
    return make_shop(tmp_path / "data"), write_questions_csv(tmp_path / "data" / "q.csv")


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess("--answer", "model", "--dataset", str(write_answers(tmp_path / "answers")))
    yield srv
    srv.stop()


def test_score_a_database_file_and_its_questions(shop: tuple[Path, Path], tmp_path: Path) -> None:
    db, questions = shop
    preds = tmp_path / "p.sql"
    preds.write_text("SELECT count(*) FROM customer\nSELECT name FROM customer WHERE city = 'Rome'\nSELECT 1\n")
    out = tmp_path / "v.jsonl"
    done = workbench("score", "--dataset", str(db), "--questions", str(questions), "--predictions", str(preds),
                     "--jsonl", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"dataset {db}  split q  3 questions" in done.stdout
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(v["db_id"], v["hardness"], v["exec_match"]) for v in verdicts] == [
        ("shop", "starter", True),
        ("shop", "easy", False),
        ("shop", "medium", False),
    ]


def test_a_missing_column_is_one_line_and_exit_2(shop: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,query\nHow many?,SELECT 1\n")
    done = workbench("score", "--dataset", str(shop[0]), "--questions", str(bad), "--predictions", str(bad))
    assert done.returncode == 2
    assert done.stderr == f"error: {bad}: line 1: header has no column 'sql'; expected columns question, sql " \
                          "(optional: db_id, evidence, hardness)\n"  # fmt: skip


def test_dataset_check_reports_problems_exit_1_and_clean_exit_0(shop: tuple[Path, Path], tmp_path: Path) -> None:
    db, questions = shop
    clean = workbench("dataset", "check", str(db), "--questions", str(questions))
    assert clean.returncode == 0, clean.stderr
    assert f"database shop: {db} (3 tables: customer, product, orders)" in clean.stdout
    assert "split q: 3 questions (shop 3)" in clean.stdout and "no problems found" in clean.stdout
    broken = write_questions_csv(db.parent / "questions.csv", [*QUESTIONS, ("Broken", "SELECT nope FROM x", "")])
    questions.unlink()  # the folder now holds one database and one question file
    found = workbench("dataset", "check", str(db.parent))
    assert found.returncode == 1
    assert f"problem: {broken}: line 6: gold query fails: runtime: no such table: x" in found.stdout
    assert "1 problem(s)" in found.stdout
    unreadable = workbench("dataset", "check", str(tmp_path / "nowhere"))
    assert unreadable.returncode == 2 and unreadable.stderr == (
        f"error: {tmp_path / 'nowhere'}: no such folder or file; expected a dataset folder or a database file\n"
    )


def test_run_on_own_data_and_resume_it(
    shop: tuple[Path, Path], server: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, questions = shop
    store = tmp_path / "w.sqlite"
    args = ["run", "--dataset", str(db), "--questions", str(questions), "--base-url", server.base_url,
            "--model", "gold", "--store", str(store), "--run-name", "own"]  # fmt: skip
    assert main([*args, "--limit", "2"]) == 0
    first = capsys.readouterr()
    assert "run 'own'" in first.err and f"{db.resolve()}  split q" in first.out
    assert main([*args, "--resume"]) == 0
    resumed = capsys.readouterr()
    assert "3 answers to get, 2 already done" in resumed.err
    opened = Store(store)
    run = opened.run("own")
    opened.close()
    assert (run.dataset_root, run.split, run.questions) == (str(db.resolve()), "q", str(questions.resolve()))
    assert main(["report", "own", "--store", str(store), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["variants"]
    assert (summary["completed"], summary["correct"]) == (3, 3)
    other = write_questions_csv(tmp_path / "other" / "q.csv")
    assert main(["run", "--dataset", str(db), "--questions", str(other), "--base-url", server.base_url,
                 "--model", "gold", "--store", str(store), "--run-name", "own", "--resume"]) == 2  # fmt: skip
    assert f"was on {db.resolve()} / q / {questions.resolve()}, not" in capsys.readouterr().err
    opened = Store(store)
    opened.set_state(run.id, "cancelled")
    opened.close()
    assert main(["runs", "--store", str(store)]) == 0  # the hint to continue it names the question file
    assert f"--dataset {db.resolve()} --questions {questions.resolve()} --split q" in capsys.readouterr().out


def test_finetune_export_on_own_data(shop: tuple[Path, Path], tmp_path: Path) -> None:
    db, questions = shop
    out = tmp_path / "ft" / "train.jsonl"
    assert main(["finetune", "export", "--dataset", str(db), "--questions", str(questions), "--out", str(out),
                 "--validation-fraction", "0"]) == 0  # fmt: skip
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3
    *prompt, answer = rows[1]["messages"]
    assert (
        "CREATE TABLE customer" in prompt[-1]["content"] and 'Which customers live in "Oslo"?' in prompt[-1]["content"]
    )
    assert answer["content"] == "```sql\nSELECT name FROM customer\nWHERE city = 'Oslo'\n```"
