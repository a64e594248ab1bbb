"""Every kind of input file, mutated, through every command that reads it: exit 0, or exit 2
with one ``error:`` line on stderr; never a traceback.

Mutations: truncation, type swaps (a value replaced by another JSON/TOML type, a huge
number or a deeply nested list), a BOM, CRLF line ends, invalid UTF-8, U+2028, a wrong
top-level type. Commands run in-process through ``workbench.cli.main`` (the real entry
point); a few run as real processes at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import undecodable_schema
from workbench.cli import main
from workbench.paths import DEMO_DATASET

ROOT = Path(__file__).resolve().parents[1]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HUGE, DEEP = "1" + "0" * 5000, "[" * 3000 + "]" * 3000
SWAPS: list[Any] = [None, True, -5, 0, 1.5, "x", "", [], {}, [1, 2], {"a": 1}, HUGE, DEEP]
TOP_LEVEL = [b"", b"{}", b"[]", b"42", b'"x"', b"null", b"true", b"[1]", b"[[]]"]
BAD_UTF8 = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


# --- mutations -------------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _dump_json(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False)
    return text.replace(json.dumps(HUGE), HUGE).replace(json.dumps(DEEP), DEEP).encode()


def json_swap(draw: st.DrawFn, value: Any) -> Any:
    paths = list(_paths(value))
    path = paths[draw(st.integers(0, min(len(paths) - 1, 400)))]
    return _replaced(value, path, draw(st.sampled_from(SWAPS)))


def toml_swap(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    assignments = [k for k, line in enumerate(lines) if re.match(r"^\w+ = ", line)]
    k = draw(st.sampled_from(assignments))
    value = draw(st.sampled_from(['"x"', '""', "3", "-5", "1.5", "true", "[1, 2]", "{ a = 1 }", "nan", HUGE, DEEP]))
    lines[k] = lines[k].split(" = ", 1)[0] + " = " + value
    return "\n".join(lines)


@st.composite
def mutated(draw: st.DrawFn, original: bytes, kind: str) -> bytes:
    """``original`` changed in one way; ``kind`` (json, jsonl, toml, text, sqlite) picks the type swaps."""
    how = draw(st.sampled_from(["truncate", "swap", "bom", "crlf", "utf8", "u2028", "top"]))
    at = draw(st.integers(0, max(0, len(original) - 1)))
    if how == "truncate":
        return original[:at]
    if how == "bom":
        return b"\xef\xbb\xbf" + original
    if how == "crlf":
        return original.replace(b"\n", b"\r\n")
    if how == "utf8":
        return original[:at] + draw(st.sampled_from(BAD_UTF8)) + original[at:]
    if how == "top":
        return draw(st.sampled_from(TOP_LEVEL))
    if kind in ("sqlite", "text") or how == "u2028":
        text = original.decode("utf-8", errors="surrogateescape")
        cut = min(at, len(text))
        if how == "u2028" or kind == "text":
            insert = draw(st.sampled_from(["\u2028", HUGE, DEEP, "\t", "\n", "\x00"])) if how != "u2028" else "\u2028"
            return (text[:cut] + insert + text[cut:]).encode("utf-8", errors="surrogateescape")
        junk = bytes(draw(st.lists(st.integers(0, 255), min_size=1, max_size=64))) * draw(st.integers(1, 8))
        if draw(st.booleans()):  # the start of a page: its header, cells or b-tree pointers
            at = (at // 4096) * 4096 + draw(st.integers(0, 16))
        return original[:at] + junk + original[at + len(junk) :]
    text = original.decode()
    if kind == "toml":
        return toml_swap(draw, text).encode()
    if kind == "jsonl":
        lines = text.split("\n")
        k = draw(st.integers(0, len(lines) - 2))
        lines[k] = _dump_json(json_swap(draw, json.loads(lines[k]))).decode()
        return "\n".join(lines).encode()
    return _dump_json(json_swap(draw, json.loads(text)))


# --- the files and the commands that read them ------------------------------------------------
def check(rc: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert rc in (0, 2), err
    lines = err.splitlines()
    assert lines == err.rstrip("\n").split("\n")[: len(lines)], err  # no CR, U+2028... inside a line
    errors = [line for line in lines if line.startswith("error:")]
    if rc == 2:
        assert len(errors) == 1 and lines[-1] == errors[0], err
    else:
        assert not errors, err


def run_cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    capsys.readouterr()
    rc = main(args)
    check(rc, capsys.readouterr().err)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with two dev questions per database, and their gold SQL as predictions."""
    root = tmp_path_factory.mktemp("small") / "ds"
    shutil.copytree(DEMO_DATASET, root, ignore=shutil.ignore_patterns("source", "*.py", "__pycache__", "*.sql"))
    dev = json.loads((root / "dev.json").read_text())
    kept = [q for db in ("library", "shop", "clinic", "transit") for q in [q for q in dev if q["db_id"] == db][:2]]
    (root / "dev.json").write_text(json.dumps(kept, indent=1))
    (root / "preds.sql").write_text("".join(f"{q['query']}\t{q['db_id']}\n" for q in kept))
    return root


def fresh_copy(small: Path, into: Path) -> Path:
    dest = into / "ds"
    shutil.copytree(small, dest)
    return dest


SHOP = "database/shop/shop.sqlite"
DATASET_FILES = {"tables.json": "json", "dev.json": "json", SHOP: "sqlite", "preds.sql": "text"}
STRAY = {f"{SHOP}-journal": SHOP, f"{SHOP}.bak": SHOP, "database/shop/shop_2.sqlite": SHOP}  # file: made from


@pytest.mark.parametrize("name", [*DATASET_FILES, *STRAY])
def test_score_survives_any_mutation_of_its_inputs(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Each dataset file, the predictions, and (a mutated copy of) a database left beside the real one."""
    original = (small / STRAY.get(name, name)).read_bytes()

    @settings(PROPERTY, max_examples=40 if name in DATASET_FILES else 15)
    @given(mutated(original, DATASET_FILES.get(name, "sqlite")))
    def prop(content: bytes) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as work:
            ds = fresh_copy(small, Path(work))
            (ds / name).write_bytes(content)
            run_cli(capsys, ["score", "--dataset", str(ds), "--predictions", str(ds / "preds.sql"), "--workers", "1"])

    prop()


def test_a_database_whose_schema_holds_a_line_breaking_character_is_warned_of_on_one_line(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the property above found once: SQLite's message quotes the schema's text, here a vertical tab."""
    ds = fresh_copy(small, tmp_path)
    content = (ds / SHOP).read_bytes()
    assert b"customer_id IN" in content
    (ds / SHOP).write_bytes(content.replace(b"customer_id IN", b"c\x0bstomer_id IN", 1))
    capsys.readouterr()
    rc = main(["score", "--dataset", str(ds), "--predictions", str(ds / "preds.sql"), "--workers", "1"])
    err = capsys.readouterr().err
    check(rc, err)
    assert "is unusable" in err and "\\x0b" in err  # the character named, escaped, on the warning's line


def finetune_lines() -> bytes:
    rows = [
        {"messages": [{"role": "user", "content": f"question {k}"}, {"role": "assistant", "content": f"SELECT {k}"}]}
        for k in range(12)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_finetune_validate_survives_any_mutation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    @PROPERTY
    @given(mutated(finetune_lines(), "jsonl"))
    def prop(content: bytes) -> None:
        path = tmp_path / "train.jsonl"
        path.write_bytes(content)
        run_cli(capsys, ["finetune", "validate", str(path)])

    prop()


def run_files(folder: Path, base_url: str) -> dict[str, tuple[bytes, str]]:
    """A profiles file, a variants file and a template for ``workbench run``: name -> (content, kind)."""
    template = (ROOT / "resources" / "templates" / "few_shot.prompt").read_bytes()
    profiles = [{"name": "gold", "base_url": base_url, "model": "gold", "max_attempts": 1, "timeout_s": 5}]
    variants = (
        f'[[variant]]\nname = "v"\nprofile = "gold"\ntemplate = "{folder / "t.prompt"}"\n'
        'retrieval = "bm25"\nk = 2\nschema_tables = 0\n'
    )
    return {
        "profiles.json": (json.dumps(profiles).encode(), "json"),
        "variants.toml": (variants.encode(), "toml"),
        "t.prompt": (template, "text"),
    }


@pytest.mark.parametrize("name", ["profiles.json", "variants.toml", "t.prompt", "train.json"])
def test_run_survives_any_mutation_of_its_inputs(
    openai_server: Any, small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """The endpoint profiles, the variants, a variant's template, and the split its examples come from."""
    files = run_files(tmp_path, openai_server.base_url)
    for file, (content, _) in files.items():
        (tmp_path / file).write_bytes(content)
    files["train.json"] = ((small / "train.json").read_bytes(), "json")
    counter = iter(range(10_000))

    @settings(PROPERTY, max_examples=15)
    @given(mutated(*files[name]))
    def prop(content: bytes) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as work:
            ds = fresh_copy(small, Path(work)) if name == "train.json" else small
            (ds if name == "train.json" else tmp_path).joinpath(name).write_bytes(content)
            store = tmp_path / f"store-{next(counter)}.sqlite"
            args = ["run", "--dataset", str(ds), "--profiles", str(tmp_path / "profiles.json"), "--variants"]
            args += [str(tmp_path / "variants.toml"), "--variant", "v", "--limit", "2", "--store", str(store)]
            run_cli(capsys, [*args, "--run-name", "r"])

    prop()


@pytest.fixture(scope="module")
def stored_run(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run store holding one finished run named 'r' (two items, from the test server)."""
    from tests.servers.openai import ServerConfig, ServerThread, load_answers

    store = tmp_path_factory.mktemp("store") / "w.sqlite"
    with ServerThread(ServerConfig(answers=load_answers(DEMO_DATASET))) as server:
        args = ["run", "--dataset", str(small), "--base-url", server.base_url, "--model", "gold", "--limit", "2"]
        assert main([*args, "--store", str(store), "--run-name", "r"]) == 0
    return store


def test_report_survives_any_mutation_of_the_store(
    stored_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = stored_run.read_bytes()

    @settings(PROPERTY, max_examples=30)
    @given(mutated(original, "sqlite"), st.sampled_from([[], ["--json"], ["--csv", "OUT"]]))
    def prop(content: bytes, extra: list[str]) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as work:
            store = Path(work) / "w.sqlite"
            store.write_bytes(content)
            extra = [str(Path(work) / "out.csv") if e == "OUT" else e for e in extra]
            run_cli(capsys, ["report", "r", "--store", str(store), *extra])

    prop()


CASES: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("stray.sqlite-journal", lambda ds: ["score", "--dataset", str(ds), "--predictions", str(ds / "preds.sql")]),
    ("profiles.json", lambda ds: ["run", "--dataset", str(ds), "--variant", "a", "--profiles", str(ds / "p.json")]),
    ("train.jsonl", lambda ds: ["finetune", "validate", str(ds / "train.jsonl")]),
    ("w.sqlite", lambda ds: ["report", "r", "--store", str(ds / "w.sqlite")]),
]


@pytest.mark.parametrize(("broken", "args"), CASES, ids=[c[0] for c in CASES])
def test_a_real_process_never_prints_a_traceback(small: Path, tmp_path: Path, broken: str, args: Any) -> None:
    ds = fresh_copy(small, tmp_path)
    (ds / f"{SHOP}-journal").write_bytes(b"journal junk" * 40)  # score: never opened as a database
    (ds / "tables.json").write_bytes(b"\xef\xbb\xbf" + (small / "tables.json").read_bytes())  # a BOM is fine
    (ds / "p.json").write_text('[{"name": "a", "base_url": "http://x", "model": "m", "concurrency": "8"}]')
    (ds / "train.jsonl").write_text("[" * 100_000 + "\n")
    (ds / "w.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", *args(ds)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)  # fmt: skip
    if broken.startswith("stray"):  # nothing wrong with what is read: it scores, silently
        assert (proc.returncode, proc.stderr) == (0, "scored in " + proc.stderr.split("scored in ")[-1]), proc.stderr
        assert "all            8         8  100.0%" in proc.stdout
    else:
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr


@pytest.mark.parametrize("name", [SHOP, "database/shop/shop_2.sqlite"])
def test_a_database_whose_schema_is_not_utf8_is_a_clear_error(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Found by the property above: SQLite's message quoting such a schema could not be decoded (a traceback)."""
    ds = fresh_copy(small, tmp_path)
    undecodable_schema(ds / name)
    run_cli(capsys, ["score", "--dataset", str(ds), "--predictions", str(ds / "preds.sql"), "--workers", "1"])
