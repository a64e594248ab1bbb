"""`score`, `run`, `report` and `dataset check` on a BIRD folder (our own fixture), and its bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bird_data import HEADER, RIGHT, bird_predictions, write_bird
from tests.conftest import ServerProcess
from workbench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def bird(tmp_path: Path) -> Path:
    return write_bird(tmp_path / "bird_dev")


def _predictions(tmp_path: Path) -> Path:
    preds = list(RIGHT)
    preds[1] = "SELECT variety FROM tree WHERE status = 1"  # the evidence ignored: wrong
    preds[3] = "SELECT tree_id, variety, planted FROM tree WHERE status = 1"  # partly right: Soft-F1 4/7
    path = tmp_path / "predict_dev.json"
    path.write_text(bird_predictions(preds))
    return path


def test_score_bird_json_predictions_with_bird_semantics(bird: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    done = workbench("score", "--dataset", str(bird), "--predictions", str(_predictions(tmp_path)), "--jsonl", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"dataset {bird}  split dev  6 questions"
    assert lines[1:7] == [
        "hardness      count execution (BIRD EX)           soft-F1",
        "simple            2           1   50.0%             50.0%",
        "moderate          2           1   50.0%             78.6%",
        "challenging       2           2  100.0%            100.0%",
        "all               6           4   66.7%             76.2%",
        "exact match: not applicable to BIRD (its EX compares the sets of result rows)",
    ]
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(verdicts[0]) == {
        "index", "db_id", "hardness", "exec_match", "exact_match", "reason", "ts_match", "soft_f1"
    }  # fmt: skip
    assert all(v["ts_match"] is None for v in verdicts)  # a BIRD folder has no test suite
    assert [(v["hardness"], v["exec_match"], v["exact_match"]) for v in verdicts] == [
        ("simple", True, None), ("simple", False, None), ("moderate", True, None),
        ("moderate", False, None), ("challenging", True, None), ("challenging", True, None),
    ]  # fmt: skip
    assert [v["soft_f1"] for v in verdicts] == pytest.approx([1.0, 0.0, 1.0, 4 / 7, 1.0, 1.0])


def test_r_ves_times_the_correct_pairs(bird: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    done = workbench("score", "--dataset", str(bird), "--predictions", str(_predictions(tmp_path)), "--jsonl",
                     str(out), "--r-ves", "3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].endswith("soft-F1    R-VES")
    rewards = [json.loads(line)["r_ves_reward"] for line in out.read_text().splitlines()]
    assert rewards[1] == rewards[3] == 0.0  # wrong: no reward, not timed
    assert all(r in (0.25, 0.5, 0.75, 1.0, 1.25) for k, r in enumerate(rewards) if k not in (1, 3))
    overall = float(done.stdout.splitlines()[5].split()[-1])
    assert overall == pytest.approx(100 * sum(r**0.5 for r in rewards) / 6, abs=0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"0": "SELECT 1"', "malformed JSON at line 1, column 17"),
        ('{"0": "SELECT 1"}', "1 predictions for 6 questions; none for question(s) 1, 2, 3, 4, 5"),
        (json.dumps({str(k): "SELECT 1\t----- bird -----\tlibrary" for k in range(6)}),
         "key '1' names db_id 'library' but question 1 is on 'orchard'; are the predictions in question order?"),
    ],
)  # fmt: skip
def test_bad_bird_predictions_are_one_line_exit_2(bird: Path, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    done = workbench("score", "--dataset", str(bird), "--predictions", str(path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path}: ") and message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_malformed_description_file_is_one_line_exit_2(bird: Path, tmp_path: Path) -> None:
    csv = bird / "dev_databases" / "orchard" / "database_description" / "tree.csv"
    csv.write_text(HEADER + "tree_id,tree id,the tree's number,integer,\nstatus,\"health,integer,\n")
    done = workbench("score", "--dataset", str(bird), "--predictions", str(_predictions(tmp_path)))
    assert done.returncode == 2
    assert done.stderr == f"error: {csv}: line 3: a quoted field is never closed\n"


def test_dataset_check_on_a_bird_folder(bird: Path) -> None:
    done = workbench("dataset", "check", str(bird))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no problems found" in done.stdout


@pytest.fixture()
def server(bird: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess("--answer", "model", "--dataset", str(bird))  # answers BIRD's questions with their SQL
    yield srv
    srv.stop()


def test_run_and_report_on_a_bird_folder_show_bird_levels_and_soft_f1(
    bird: Path, server: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "w.sqlite"
    assert main(["run", "--dataset", str(bird), "--base-url", server.base_url, "--model", "gold", "--store",
                 str(store), "--run-name", "bird"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    head, row, note = printed.splitlines()[1:4]
    assert head.split()[:7] == ["variant", "n", "EX%", "95%", "CI", "EX%ovr", "SoftF1%"]
    assert head.split()[7:10] == ["simple", "moderate", "challenging"] and "easy" not in head
    assert row.split()[1:3] == ["6", "100.0"] and row.split()[4:9] == ["100.0", "100.0", "100.0", "100.0", "100.0"]
    assert note == "EX% is BIRD's (sets of result rows); exact match does not apply to BIRD"
    assert main(["report", "bird", "--store", str(store), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["variants"]
    assert summary["soft_f1"] == 1.0 and summary["exact"] == 0
    assert summary["by_hardness"] == {level: {"correct": 2, "n": 2} for level in ("simple", "moderate", "challenging")}
    # the HTML and CSV exports carry BIRD's levels and Soft-F1 too
    html, table = tmp_path / "r.html", tmp_path / "r.csv"
    assert main(["report", "bird", "--store", str(store), "--html", str(html), "--csv", str(table)]) == 0
    page = html.read_text()
    assert "<th>Soft-F1 %</th>" in page and "<th>challenging EX %</th>" in page and "<th>easy EX %</th>" not in page
    header, line = table.read_text().splitlines()[:2]
    columns = header.split(",")
    assert "challenging_n" in columns and "easy_n" not in columns and columns[-1] == "soft_f1"
    values = dict(zip(columns, line.split(","), strict=True))
    assert (values["simple_correct"], values["simple_n"], values["soft_f1"]) == ("2", "2", "1.0000")
