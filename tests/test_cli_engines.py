"""The commands on a dataset whose engine.toml is wrong, or names an engine a command does not run on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_bad_engine_setting_is_one_line_and_exit_2(demo_copy: Path) -> None:
    (demo_copy / "engine.toml").write_text(
        'engine = "postgres"\nurl = "postgresql://reader:hunter2@localhost/spider"\n'
    )
    for command in (
        ["score", "--dataset", str(demo_copy), "--predictions", "p.sql"],
        ["dataset", "check", str(demo_copy)],
    ):
        proc = workbench(*command)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"error: {demo_copy / 'engine.toml'}: line 2, column 1: url: a password in the URL is refused: "
            "put it in the keyring or an environment variable"
        ]
        assert "hunter2" not in proc.stdout + proc.stderr


def test_a_missing_database_file_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    questions = tmp_path / "questions.csv"
    questions.write_text("question,sql\nHow many?,SELECT 1\n")
    for name, engine in (("sales.duckdb", "DuckDB"), ("shop.sqlite", "SQLite"), ("shop.db", "SQLite")):
        missing = tmp_path / name
        for command in (
            ["score", "--dataset", str(missing), "--questions", str(questions), "--predictions", "p.sql"],
            ["dataset", "check", str(missing), "--questions", str(questions)],
        ):
            proc = workbench(*command)
            assert proc.returncode == 2, proc.stderr
            assert proc.stderr.splitlines() == [f"error: {missing}: no such file; expected a {engine} database file"]


def test_testsuite_and_r_ves_refuse_a_dataset_on_another_engine(demo_copy: Path, tmp_path: Path) -> None:
    (demo_copy / "engine.toml").write_text('engine = "duckdb"\n')
    proc = workbench("testsuite", "generate", "--dataset", str(demo_copy), "--out", str(tmp_path / "suite"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {demo_copy}: a test suite is built from SQLite databases; this dataset is on duckdb (engine.toml)"
    ]
    assert not (tmp_path / "suite").exists()
    preds = str(demo_copy / "sample_predictions.sql")
    proc = workbench("score", "--dataset", str(demo_copy), "--predictions", preds, "--r-ves", "2")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {demo_copy}: --r-ves is for SQLite datasets; this one is on duckdb"
    ]
