"""`workbench disputes list|export`, and the report's EX with overrides beside plain EX (text, JSON, HTML, CSV)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.core.test_export import ReportParser, make_run
from tests.servers.openai import WRONG_SQL, OpenAITestServer
from workbench.cli import main
from workbench.core.data.dataset import Dataset
from workbench.core.store import Dispute, Store


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def disputed_store(tmp_path: Path, demo_path: Path) -> Path:
    path = tmp_path / "w.sqlite"
    store = Store(path)
    root = Dataset(demo_path).identity[0]
    store.save_dispute(root, "demo", Dispute("dev", 0, "gold_wrong", "counts\nevery loan"))
    store.save_dispute(root, "demo", Dispute("dev", 1, "also_correct", "", WRONG_SQL, "shared:wrong"))
    store.save_dispute(root, "demo", Dispute("train", 4, "ambiguous", "which year?"))
    store.close()
    return path


def test_disputes_list_and_export(demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(disputed_store(tmp_path, demo_path))
    questions = {i.index: i.question for i in Dataset(demo_path).load_split("dev").items}
    code, out, _ = run_cli(capsys, "disputes", "list", "--dataset", str(demo_path), "--store", store)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"dev #0: gold is wrong: {questions[0]}" and lines[1] == "    note: counts\\nevery loan"
    assert lines[2] == f"dev #1: this prediction is also correct (shared:wrong): {questions[1]}"
    assert lines[3] == f"    prediction: {WRONG_SQL}" and lines[4].startswith("train #4: question is ambiguous: ")
    assert lines[-1] == "3 dispute(s)"

    code, out, _ = run_cli(capsys, "disputes", "list", "--split", "dev", "--json", "--store", store)
    listing = json.loads(out)
    assert listing["dataset"] == str(demo_path.resolve()) and listing["split"] == "dev"
    assert [(d["item_index"], d["kind"], d["note"]) for d in listing["disputes"]] == [
        (0, "gold_wrong", "counts\nevery loan"),
        (1, "also_correct", ""),
    ]
    assert listing["disputes"][1]["predicted_sql"] == WRONG_SQL and listing["disputes"][0]["question"] == questions[0]

    out_json, out_csv = tmp_path / "x" / "d.json", tmp_path / "x" / "d.csv"
    code, _, err = run_cli(capsys, "disputes", "export", str(out_json), "--store", store)
    assert code == 0 and f"wrote {out_json} (3 disputes)" in err
    assert (
        json.loads(out_json.read_text())["disputes"]
        == json.loads(run_cli(capsys, "disputes", "list", "--json", "--store", store)[1])["disputes"]
    )
    assert run_cli(capsys, "disputes", "export", str(out_csv), "--split", "train", "--store", store)[0] == 0
    (row,) = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert (row["split"], row["item_index"], row["label"], row["note"]) == ("train", "4", "question is ambiguous",
                                                                            "which year?")  # fmt: skip

    code, out, _ = run_cli(capsys, "disputes", "list", "--split", "test", "--store", store)
    assert code == 0 and out == f"no gold disputes for {demo_path.resolve()} (split test)\n"
    code, _, err = run_cli(capsys, "disputes", "export", str(tmp_path / "d.txt"), "--store", store)
    assert code == 2 and err.strip() == f"error: {tmp_path / 'd.txt'}: expected a file name ending .json or .csv"
    code, _, err = run_cli(capsys, "disputes", "list", "--dataset", str(tmp_path / "nowhere"), "--store", store)
    assert code == 2 and err.startswith(f"error: {tmp_path / 'nowhere'}: ") and len(err.splitlines()) == 1


@pytest.mark.server(answer="model")
def test_reports_show_ex_with_overrides_beside_ex(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = disputed_store(tmp_path, demo_path)
    name = make_run(openai_server, demo_path, store)  # 24 questions: right, wrong, also-right

    code, out, _ = run_cli(capsys, "report", name, "--store", str(store), "--json")
    assert code == 0
    report = json.loads(out)
    figures = {v["variant"]: (v["correct"], v["completed"], v["with_overrides"]) for v in report["variants"]}
    assert figures == {
        "right": (24, 24, {"correct": 23, "n": 23, "execution_accuracy": 1.0}),
        "wrong": (0, 24, {"correct": 1, "n": 23, "execution_accuracy": 0.0435}),
        "also-right": (24, 24, {"correct": 23, "n": 23, "execution_accuracy": 1.0}),
    }
    assert [(d["item_index"], d["kind"]) for d in report["disputes"]] == [(0, "gold_wrong"), (1, "also_correct")]

    code, out, _ = run_cli(capsys, "report", name, "--store", str(store))
    assert code == 0
    header, *rows = out.splitlines()[1:5]
    assert "EX%ovr" in header.split() and rows[1].split()[:5] == ["wrong", "24", "0.0", "0.0-13.8", "4.3"]
    assert "EX%ovr: EX with the split's 2 gold dispute(s) applied" in out

    html_out, csv_out = tmp_path / "r.html", tmp_path / "r.csv"
    code, _, _ = run_cli(capsys, "report", name, "--store", str(store), "--html", str(html_out), "--csv", str(csv_out))
    assert code == 0
    parser = ReportParser()
    parser.feed(html_out.read_text())
    head, *table = parser.tables["accuracy"]
    assert head[-1] == "EX (overrides)" and [(r[0], r[3], r[-1]) for r in table] == [
        ("right", "100.0", "100.0 (23)"), ("wrong", "0.0", "4.3 (23)"), ("also-right", "100.0", "100.0 (23)")
    ]  # fmt: skip
    _, *listed = parser.tables["disputes"]
    assert [(r[0], r[1], r[3], r[4]) for r in listed] == [
        ("0", "gold is wrong", "counts\nevery loan", ""),
        ("1", "this prediction is also correct", "", WRONG_SQL),
    ]
    by_variant = {r["variant"]: r for r in csv.DictReader(io.StringIO(csv_out.read_text()))}
    assert (by_variant["wrong"]["overrides_correct"], by_variant["wrong"]["overrides_n"]) == ("1", "23")
    assert by_variant["wrong"]["execution_accuracy_overrides"] == "0.0435"
