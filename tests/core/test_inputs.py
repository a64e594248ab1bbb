"""Input files read as one-line problems: positions, BOMs, JSONL lines, typed fields, database folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from workbench.cli import main
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.data.inputs import InputError, jsonl_lines, read_json, read_text, read_toml
from workbench.core.endpoints.profiles import ProfileError, ProfileStore
from workbench.core.finetune.validate import validate
from workbench.core.runs.variant_file import VariantFileError, read_variant_file
from workbench.core.scoring import Scorer
from workbench.core.scoring.suite import database_files
from workbench.core.store import Store, StoreError


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_a_bom_is_dropped_and_invalid_utf8_is_placed(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"\xef\xbb\xbf[1, 2]")
    assert read_json(path) == [1, 2]
    path.write_bytes(b'[\n  "ok",\n  "b\xffd"\n]')
    with pytest.raises(InputError) as exc:
        read_json(path)
    assert one_line(exc) == f"{path}: line 3, column 5: byte 0xff is not UTF-8; expected UTF-8 text"


def test_a_folder_where_a_file_is_expected(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_text(tmp_path)
    assert one_line(exc) == f"{tmp_path}: is a folder; expected a file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", "malformed JSON at line 1, column 6"),
        ('{"a":\n 1' + "0" * 5000 + "}", "line 2, column 2: a number with 5001 digits; expected at most 4300"),
        ("[1e999]", "line 1, column 2: 1e999 is out of range; expected a finite number"),
        ("[NaN]", "line 1, column 2: NaN is not a JSON number"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_json_problems_name_a_position(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        read_json(path)
    assert one_line(exc).startswith(f"{path}: ") and message in str(exc.value)


def test_jsonl_splits_on_newline_only() -> None:
    text = '{"a": "x\u2028y"}\r\n\n{"b": "\u2029"}\n'
    assert [(n, json.loads(line)) for n, line in jsonl_lines(text)] == [(1, {"a": "x\u2028y"}), (3, {"b": "\u2029"})]


def test_toml_problems_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_bytes(b"\xef\xbb\xbfa = 1\n")
    assert read_toml(path) == {"a": 1}
    path.write_text("a = [" * 5000)
    with pytest.raises(InputError) as exc:
        read_toml(path)
    one_line(exc)


def _profiles(tmp_path: Path, **fields: object) -> ProfileStore:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps([{"name": "p", "base_url": "http://x/v1", "model": "m", **fields}]))
    return ProfileStore(path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"concurrency": "8"}, "[0]: concurrency: expected an integer, got a string"),
        ({"concurrency": 0}, "[0]: concurrency: expected at least 1, got 0"),
        ({"rpm": "fast"}, "[0]: rpm: expected an integer, got a string"),
        ({"rpm": 0}, "[0]: rpm: expected more than 0, got 0"),
        ({"timeout_s": "x"}, "[0]: timeout_s: expected a number, got a string"),
        ({"timeout_s": -1}, "[0]: timeout_s: expected more than 0, got -1"),
        ({"max_attempts": True}, "[0]: max_attempts: expected an integer, got a boolean"),
        ({"batch_queue_tokens": 0}, "[0]: batch_queue_tokens: expected at least 1, got 0"),
        ({"batch_queue_tokens": "2M"}, "[0]: batch_queue_tokens: expected an integer, got a string"),
        ({"params": [1]}, "[0]: params: expected an object, got a list"),
        ({"api_key_keyring": "yes"}, "[0]: api_key_keyring: expected a boolean, got a string"),
        ({"reuses_prompt_prefix": 1}, "[0]: reuses_prompt_prefix: expected a boolean, got an integer"),
        ({"base_url": "http://127.0.0.1:4\u20286617/v1"}, "[0]: base_url: expected an http(s) URL, got"),
        ({"base_url": "ftp://host/v1"}, "[0]: base_url: expected an http(s) URL with a host, got 'ftp://host/v1'"),
    ],
)
def test_profile_fields_are_typed_and_ranged(tmp_path: Path, fields: dict[str, object], message: str) -> None:
    store = _profiles(tmp_path, **fields)
    with pytest.raises(ProfileError) as exc:
        store.load()
    assert one_line(exc).startswith(f"{store.path}: {message}")


def test_an_error_message_never_breaks_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _profiles(tmp_path, **{"mo\u2028del\r": 1})
    assert main(["run", "--variant", "p", "--profiles", str(store.path), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.rstrip("\n")] and "unknown field(s) 'mo\\u2028del\\r'" in err


def test_good_profiles_still_load(tmp_path: Path) -> None:
    store = _profiles(tmp_path, rpm=None, timeout_s=30, price_in_per_m=0.15, params={"temperature": 0})
    assert store.load()["p"].timeout_s == 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("variant = [1, 2]\n", "variant 1: expected a [[variant]] table, got an integer"),
        ('variant = "x"\n', "variant: expected one or more [[variant]] tables, got a string"),
        ('[[variant]]\nname = "v"\nprofile = "p"\nk = -5\n', "variant 1: k: expected at least 0, got -5"),
        ('[[variant]]\nname = "v"\nprofile = "p"\nk = "3"\n', "variant 1: k: expected an integer, got a string"),
        ('[[variant]]\nname = "v"\nprofile = "p"\nk = true\n', "variant 1: k: expected an integer, got a boolean"),
        ('[[variant]]\nname = "v"\nprofile = 3\n', "variant 1: profile: expected a string, got an integer"),
    ],
)
def test_variant_files_are_typed_and_ranged(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "v.toml"
    path.write_text(text)
    with pytest.raises(VariantFileError) as exc:
        read_variant_file(path)
    assert one_line(exc) == f"{path}: {message}"


def test_embedding_profile_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "v.toml"
    path.write_text('[[variant]]\nname = "d"\nprofile = "p"\nretrieval = "dense"\nembedding_profile = "e"\n')
    assert read_variant_file(path)["d"]["embedding_profile"] == "e"


def test_wrong_types_in_tables_json_name_the_entry_and_field(demo_copy: Path) -> None:
    tables = json.loads((demo_copy / "tables.json").read_text())
    tables[2]["table_names_original"][1] = 7
    (demo_copy / "tables.json").write_text(json.dumps(tables))
    with pytest.raises(DatasetError) as exc:
        Dataset(demo_copy)
    assert "tables.json: entry 2 (db_id" in one_line(exc)
    assert "table_names_original[1]: expected a string, got an integer" in str(exc.value)


def test_question_file_with_a_bom_and_a_folder_for_a_split(demo_copy: Path) -> None:
    dev = demo_copy / "dev.json"
    dev.write_bytes(b"\xef\xbb\xbf" + dev.read_bytes())
    assert len(Dataset(demo_copy).load_split("dev")) == 88
    dev.unlink()
    dev.mkdir()
    with pytest.raises(DatasetError) as exc:
        Dataset(demo_copy).load_split("dev")
    assert one_line(exc) == f"{dev}: is a folder; expected a file"


def test_only_real_sqlite_files_beside_a_database_are_opened(demo_copy: Path) -> None:
    folder = demo_copy / "database" / "shop"
    (folder / "shop.sqlite-journal").write_bytes(b"junk")
    (folder / "shop.sqlite.bak").write_bytes((folder / "shop.sqlite").read_bytes())
    (folder / "shop_junk.sqlite").write_bytes(b"not a database at all")
    shutil.copy(folder / "shop.sqlite", folder / "shop_2.sqlite")
    assert database_files(str(folder), "shop") == [str(folder / "shop.sqlite"), str(folder / "shop_2.sqlite")]
    dataset = Dataset(demo_copy)
    dev = dataset.load_split("dev")
    with Scorer(dataset, workers=1) as scorer:
        verdicts = scorer.score(dev.items, [i.query for i in dev.items])
    assert all(v.exec_match for v in verdicts)


@pytest.mark.parametrize(("content", "why"), [(b"", "empty file"), (b"garbage" * 50, "no SQLite header")])
def test_an_empty_or_corrupt_database_is_a_warning(
    demo_path: Path, demo_copy: Path, capsys: pytest.CaptureFixture[str], content: bytes, why: str
) -> None:
    db = demo_copy / "database" / "shop" / "shop.sqlite"
    db.write_bytes(content)
    split = Dataset(demo_copy).load_split("dev")
    assert split.missing_db == {} and split.unusable_db["shop"][1] == 22
    preds = demo_path / "sample_predictions.sql"
    assert main(["score", "--dataset", str(demo_copy), "--predictions", str(preds), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert f"warning: database 'shop' is unusable ({db}: {why}" in err
    assert "22 item(s) cannot be scored" in err


def test_a_bom_on_predictions_is_not_part_of_the_first_query(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preds = tmp_path / "p.sql"
    preds.write_bytes(b"\xef\xbb\xbf" + (demo_path / "dev_gold.sql").read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "v.jsonl"
    args = ["score", "--dataset", str(demo_path), "--predictions", str(preds), "--jsonl", str(out), "--workers", "1"]
    assert main(args) == 0
    first = json.loads(out.read_text().split("\n")[0])
    assert first["exec_match"] is True, first["reason"]


def test_finetune_lines_with_u2028_huge_numbers_and_deep_nesting(tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "a\u2028b"}, {"role": "assistant", "content": "SELECT 1"}]}
    lines = [json.dumps(good, ensure_ascii=False) for _ in range(10)]
    lines += ['{"n": 1' + "0" * 5000 + "}", "[" * 50_000]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate(path)
    assert report.examples == 10
    assert [str(p) for p in report.errors] == [
        "train line 11: column 7: a number with 5001 digits; expected at most 4300",
        "train line 12: column 100: nested too deeply; expected at most ~100 levels",
    ]


def test_a_store_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a store")
    with pytest.raises(StoreError) as exc:
        Store(junk)
    assert one_line(exc).startswith(f"{junk}: not a run store")
    assert main(["report", "1", "--store", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: not a run store (not a file)\n"


def test_run_warns_about_an_empty_database(
    openai_server: Any, demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = demo_copy / "database" / "library" / "library.sqlite"
    db.write_bytes(b"")
    args = ["run", "--dataset", str(demo_copy), "--base-url", openai_server.base_url, "--model", "gold"]
    assert main([*args, "--limit", "2", "--store", str(tmp_path / "s.sqlite"), "--run-name", "r"]) == 0
    assert f"warning: database 'library' is unusable ({db}: empty file)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--validation-fraction", "2"], "error: the validation fraction must be at least 0 and below 1\n"),
        (["--template", "TMP/t.prompt"], "error: TMP/t.prompt: line 1, column 1: byte 0xff is not UTF-8"),
    ],
)
def test_finetune_export_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    (tmp_path / "t.prompt").write_bytes(b"\xff### user\n{{ question }}\n")
    extra = [e.replace("TMP", str(tmp_path)) for e in extra]
    assert main(["finetune", "export", "--split", "train", "--out", str(tmp_path / "o.jsonl"), *extra]) == 2
    assert capsys.readouterr().err.startswith(message.replace("TMP", str(tmp_path)))


def test_a_damaged_run_store_is_one_line(
    openai_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "w.sqlite"
    args = ["run", "--base-url", openai_server.base_url, "--model", "gold", "--limit", "10", "--store", str(store)]
    assert main([*args, "--run-name", "r"]) == 0
    original = store.read_bytes()
    unreadable = 0
    for page in range(1, len(original) // 4096):
        damaged = tmp_path / f"d{page}.sqlite"
        damaged.write_bytes(original[: page * 4096] + b"\xaa" * 300 + original[page * 4096 + 300 :])
        capsys.readouterr()
        rc = main(["report", "r", "--store", str(damaged)])
        err = capsys.readouterr().err
        assert rc in (0, 2) and (rc == 0 or err.count("\n") == 1), err
        unreadable += "the run store cannot be read (database disk image is malformed)" in err
    assert unreadable


def test_batch_output_lines_split_on_newline_only() -> None:
    from workbench.core.runs.batch_lines import parse_output

    body = {"choices": [{"message": {"content": "SELECT 'a\u2028b'"}}], "usage": {}, "model": "m"}
    line = json.dumps({"custom_id": "k", "response": {"status_code": 200, "body": body}}, ensure_ascii=False)
    answer, why = parse_output(b"\xef\xbb\xbf" + line.encode() + b"\r\n")["k"]
    assert why == "" and answer is not None and answer.text == "SELECT 'a\u2028b'"
