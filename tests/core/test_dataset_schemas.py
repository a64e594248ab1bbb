"""A tables file's schemas built on first use (``lazy_schemas``): what a command does not use, it never builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bird_data import HEADER, write_bird
from tests.conftest import write_json
from workbench.cli import main
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.scoring.scorer import Scorer

CLINIC_BROKEN = r"tables\.json: entry 1 \(db_id 'clinic'\): missing field 'column_types'"


def break_clinic(root: Path) -> None:
    data = json.loads((root / "tables.json").read_text())
    del data[1]["column_types"]
    write_json(root / "tables.json", data)


def gold_of(root: Path, db_ids: set[str], folder: Path) -> tuple[Path, Path]:
    """A gold file of the demo's dev items on ``db_ids``, and predictions that are those gold queries."""
    lines = [line for line in (root / "dev_gold.sql").read_text().splitlines() if line.split("\t")[-1] in db_ids]
    gold, pred = folder / "gold.sql", folder / "pred.sql"
    gold.write_text("".join(line + "\n" for line in lines))
    pred.write_text("".join(line.split("\t")[0] + "\n" for line in lines))
    return gold, pred


def test_a_split_builds_no_schema_and_scoring_builds_those_it_scores(demo_path: Path, tmp_path: Path) -> None:
    dataset = Dataset(demo_path, lazy_schemas=True)
    gold, pred = gold_of(demo_path, {"library", "transit"}, tmp_path)
    split = dataset.load_split(str(gold))
    assert dataset.built_schemas == [] and len(dataset.db_ids) == 4  # every db_id known, none built
    with Scorer(dataset, workers=1) as scorer:
        verdicts = scorer.score(split.items, pred.read_text().splitlines(), database_problems=split.database_problems)
    assert all(v.exec_match for v in verdicts)
    assert sorted(dataset.built_schemas) == ["library", "transit"]
    assert sorted(Dataset(demo_path).built_schemas) == ["clinic", "library", "shop", "transit"]  # the default


def test_a_malformed_entry_is_reported_when_its_schema_is_first_used(demo_copy: Path) -> None:
    break_clinic(demo_copy)
    with pytest.raises(DatasetError, match=CLINIC_BROKEN):
        Dataset(demo_copy)  # by default, at once
    dataset = Dataset(demo_copy, lazy_schemas=True)
    assert len(dataset.load_split("dev")) == 88 and dataset.schema("library").tables
    for _ in range(2):  # each time it is asked for, not only the first
        with pytest.raises(DatasetError, match=CLINIC_BROKEN):
            dataset.schema("clinic")
    with pytest.raises(DatasetError, match=CLINIC_BROKEN):
        dataset.check_schemas()
    with pytest.raises(DatasetError, match=r"tables\.json: no schema for db_id 'atlantis'"):
        dataset.schema("atlantis")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([1, 2], r"tables\.json: entry 2: expected an object, got a list"),
        ({"table_names": []}, r"tables\.json: entry 2: missing field 'db_id'"),
        ({"db_id": 7}, r"tables\.json: entry 2: field 'db_id' should be a str, got an integer"),
        ({"db_id": "library"}, r"tables\.json: entry 2: db_id 'library' appears twice"),
    ],
)
def test_entries_without_a_db_id_are_reported_on_opening(demo_copy: Path, entry: object, message: str) -> None:
    data = json.loads((demo_copy / "tables.json").read_text())
    write_json(demo_copy / "tables.json", [*data[:2], entry, *data[2:]])
    for lazy in (False, True):
        with pytest.raises(DatasetError, match=message):
            Dataset(demo_copy, lazy_schemas=lazy)


def test_score_needs_only_the_entries_of_the_databases_it_scores(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_clinic(demo_copy)
    gold, pred = gold_of(demo_copy, {"library", "shop"}, tmp_path)
    assert main(["score", "--dataset", str(demo_copy), "--split", str(gold), "--predictions", str(pred)]) == 0
    assert "all           44        44  100.0%" in capsys.readouterr().out
    gold, pred = gold_of(demo_copy, {"library", "clinic"}, tmp_path)
    assert main(["score", "--dataset", str(demo_copy), "--split", str(gold), "--predictions", str(pred)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "entry 1 (db_id 'clinic')" in err
    assert main(["dataset", "check", str(demo_copy)]) == 2  # the check reads every entry, used or not
    assert "entry 1 (db_id 'clinic'): missing field 'column_types'" in capsys.readouterr().err


def test_a_bird_folder_reads_the_descriptions_of_the_schemas_it_builds(tmp_path: Path) -> None:
    root = write_bird(tmp_path / "b")
    broken = root / "dev_databases" / "orchard" / "database_description" / "tree.csv"
    broken.write_text(HEADER + 'status,"never closed,text,\n')
    dataset = Dataset(root, lazy_schemas=True)
    assert dataset.db_ids == ["library", "orchard"] and dataset.built_schemas == []
    assert dataset.schema("library").has_descriptions and dataset.built_schemas == ["library"]
    assert dataset.database("orchard").path == root / "dev_databases" / "orchard" / "orchard.sqlite"
    with pytest.raises(DatasetError, match=r"tree\.csv: line 2: a quoted field is never closed"):
        dataset.schema("orchard")
    with pytest.raises(DatasetError, match=r"tree\.csv: line 2: a quoted field is never closed"):
        Dataset(root)  # by default, at once
