"""The `workbench score` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main


def test_score_prints_table_and_writes_jsonl(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.jsonl"
    rc = main(
        [
            "score",
            "--dataset",
            str(demo_path),
            "--split",
            "dev",
            "--predictions",
            str(demo_path / "sample_predictions.sql"),
            "--jsonl",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "all           88        66   75.0%        63   71.6%" in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 88
    assert set(rows[0]) == {"index", "db_id", "hardness", "exec_match", "exact_match", "reason", "ts_match"}
    assert [r["index"] for r in rows] == list(range(88))
    assert {r["hardness"] for r in rows} == {"easy", "medium", "hard", "extra"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("SELECT 1\n", "1 predictions for 88 questions"),
        ("".join("SELECT 1\tshop\n" for _ in range(88)), "line 1 names db_id 'shop' but question 0 is on 'library'"),
    ],
)
def test_bad_predictions_exit_2_with_a_clear_message(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    preds = tmp_path / "p.sql"
    preds.write_text(content)
    assert main(["score", "--dataset", str(demo_path), "--predictions", str(preds)]) == 2
    assert message in capsys.readouterr().err


def test_missing_dataset_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "--dataset", str(tmp_path), "--predictions", str(tmp_path / "p.sql")]) == 2
    assert "tables.json: file not found" in capsys.readouterr().err


def test_console_script_runs_headless(demo_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "score", "--predictions", str(demo_path / "dev_gold.sql")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "all           88        88  100.0%        88  100.0%" in proc.stdout
    assert "scored in" in proc.stderr


def test_core_and_cli_never_import_qt() -> None:
    code = (
        "import sys, workbench.cli, workbench.core.data.dataset, workbench.core.scoring, "
        "workbench.core.sandbox.sqlexec; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'qasync', 'shiboken6'))]; print(bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    root = Path(__file__).resolve().parents[1] / "workbench"
    for path in [*root.joinpath("core").rglob("*.py"), *root.joinpath("cli").rglob("*.py")]:
        text = path.read_text()
        assert "PySide6" not in text and "qasync" not in text, path


def test_hostile_predictions_change_nothing(demo_copy: Path, tmp_path: Path) -> None:
    import hashlib

    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in demo_copy.rglob("*.sqlite")}
    hostile = [
        "DROP TABLE book",
        "DELETE FROM loan; SELECT 1",
        "ATTACH 'x.db' AS x",
        "PRAGMA writable_schema = 1",
        "UPDATE orders SET status = 'x'",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT * FROM c",
        "SELECT load_extension('evil')",
        "VACUUM INTO 'copy.db'",
    ]
    preds = tmp_path / "hostile.sql"
    preds.write_text("".join(f"{hostile[k % len(hostile)]}\n" for k in range(88)))
    out = tmp_path / "v.jsonl"
    assert main(["score", "--dataset", str(demo_copy), "--predictions", str(preds), "--jsonl", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["exec_match"] is False for r in rows)
    assert "prediction fails: denied" in rows[0]["reason"]
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in demo_copy.rglob("*.sqlite")}
    assert after == before
    assert sorted(p.name for p in demo_copy.rglob("*") if p.is_file() and "sqlite" in p.name) == sorted(
        p.name for p in before
    )
