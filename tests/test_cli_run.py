"""`workbench run`, `runs` and `report` as a user runs them, including a crash and a resume."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ServerProcess
from workbench.cli import main
from workbench.core.endpoints.connection import resolve_api_key
from workbench.core.endpoints.profiles import (
    EndpointProfile,
    ProfileError,
    ProfileStore,
    store_api_key,
)

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture()
def server() -> ServerProcess:
    srv = ServerProcess("--answer", "model", "--dataset", str(ROOT / "resources" / "demo"), "--latency", "0.05")
    yield srv
    srv.stop()


def scored_count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM scores").fetchone()[0])
    except sqlite3.Error:  # not created yet, or caught mid-write: nothing scored so far
        return 0


def test_killed_run_resumes_with_every_item_once(server: ServerProcess, tmp_path: Path) -> None:
    store = tmp_path / "w.sqlite"
    args = [
        "run",
        "--base-url",
        server.base_url,
        "--model",
        "gold",
        "--store",
        str(store),
        "--run-name",
        "crash",
        "--concurrency",
        "4",
    ]
    proc = cli(*args)
    deadline = time.monotonic() + 60
    while scored_count(store) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    before = scored_count(store)
    assert 15 <= before < 88, "the kill should land mid-run"

    resumed = cli(*args, "--resume")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"{before} already done" in err
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT item_index, count(*) FROM scores GROUP BY item_index").fetchall()
        states = db.execute("SELECT state FROM runs").fetchall()
    assert len(rows) == 88 and all(n == 1 for _, n in rows)
    assert states == [("completed",)]
    stats = server.stats()
    assert stats["duplicates"] <= 4  # only what was in flight at the kill was asked twice
    assert stats["succeeded"] <= 88 + 4
    assert "answered by: gold = gold" in out and "100.0" in out


def test_run_report_and_runs(server: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "w.sqlite"
    profiles = tmp_path / "profiles.json"
    ProfileStore(profiles).save(
        {
            "good": EndpointProfile(
                name="good", base_url=server.base_url, model="gold", price_in_per_m=2.0, price_out_per_m=8.0
            ),
            "bad": EndpointProfile(name="bad", base_url=server.base_url, model="wrong"),
        }
    )
    rc = main(
        [
            "run",
            "--variant",
            "good",
            "--variant",
            "bad",
            "--profiles",
            str(profiles),
            "--store",
            str(store),
            "--run-name",
            "pair",
            "--limit",
            "10",
        ]
    )
    assert rc == 0
    out = capsys.readouterr()
    assert "models: good = gold, bad = wrong" in out.err
    assert main(["report", "pair", "--store", str(store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    good, bad = report["variants"]
    assert (good["variant"], good["completed"], good["failed"], good["correct"]) == ("good", 10, 0, 10)
    assert (good["model"], bad["model"]) == ("gold", "wrong")
    assert (bad["variant"], bad["completed"], bad["correct"]) == ("bad", 10, 0)
    assert good["cost"] > 0 and bad["cost"] == 0
    (pair,) = report["paired"]
    assert (pair["first"], pair["second"], pair["first_only"], pair["second_only"]) == ("good", "bad", 10, 0)
    assert pair["mcnemar_p"] == pytest.approx(2 / 1024, abs=1e-6)
    assert main(["runs", "--store", str(store)]) == 0
    assert "pair" in capsys.readouterr().out


def test_bad_input_gives_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "w.sqlite")
    assert main(["run", "--base-url", "http://127.0.0.1:1/v1", "--store", store]) == 2
    assert "needs both --base-url and --model" in capsys.readouterr().err
    assert main(["run", "--variant", "ghost", "--profiles", str(tmp_path / "none.json"), "--store", store]) == 2
    assert "no endpoint profile named 'ghost'" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                "--base-url",
                "http://127.0.0.1:1/v1",
                "--model",
                "m",
                "--api-key-env",
                "WORKBENCH_TEST_UNSET_KEY",
                "--store",
                store,
            ]
        )
        == 2
    )
    assert "WORKBENCH_TEST_UNSET_KEY is not set" in capsys.readouterr().err
    assert main(["report", "nope", "--store", store]) == 2
    assert "no run 'nope'" in capsys.readouterr().err


def test_api_keys_never_reach_files_or_output(server: ServerProcess, tmp_path: Path) -> None:
    secret = "sk-test-" + "9f8e7d6c5b4a" * 3
    store = tmp_path / "w.sqlite"
    proc = cli(
        "run",
        "--base-url",
        server.base_url,
        "--model",
        "gold",
        "--api-key-env",
        "WB_SECRET",
        "--store",
        str(store),
        "--limit",
        "3",
        env={"WB_SECRET": secret},
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert secret not in out + err
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):  # the store, and the caches under xdg/
        assert secret.encode() not in path.read_bytes(), path


def test_keys_go_to_the_keyring_not_the_profiles_file(tmp_path: Path, memory_keyring: object) -> None:
    profiles = tmp_path / "profiles.json"
    profile = EndpointProfile(name="openai", base_url="https://api.example/v1", model="m", api_key_keyring=True)
    ProfileStore(profiles).save({"openai": profile})
    with pytest.raises(ProfileError, match="no key stored in the keyring"):
        resolve_api_key(profile)
    store_api_key("openai", "sk-live-secret")
    assert resolve_api_key(ProfileStore(profiles).get("openai")) == "sk-live-secret"
    assert b"sk-live-secret" not in profiles.read_bytes()


def test_variants_file_combines_templates_retrieval_and_endpoints(
    server: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles.json"
    ProfileStore(profiles).save({"gold": EndpointProfile(name="gold", base_url=server.base_url, model="gold")})
    variants = tmp_path / "variants.toml"
    variants.write_text("""
[[variant]]
name = "zero"
profile = "gold"
template = "zero_shot"

[[variant]]
name = "bm25"
profile = "gold"
template = "few_shot"
retrieval = "bm25"
k = 2

[[variant]]
name = "hyde"
profile = "gold"
template = "hyde_revise"
retrieval = "skeleton"
""")
    store = tmp_path / "w.sqlite"
    args = [
        "run",
        "--profiles",
        str(profiles),
        "--variants",
        str(variants),
        "--store",
        str(store),
        "--run-name",
        "ladder",
        "--limit",
        "4",
    ]
    assert main([*args, "--variant", "zero", "--variant", "bm25", "--variant", "hyde"]) == 0
    capsys.readouterr()
    assert main(["report", "ladder", "--store", str(store), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(v["variant"], v["correct"]) for v in report["variants"]] == [("zero", 4), ("bm25", 4), ("hyde", 4)]
    with sqlite3.connect(store) as db:
        versions = db.execute(
            "SELECT v.name, p.name FROM variants AS v JOIN prompt_versions AS p "
            "ON v.prompt_version_id = p.id ORDER BY v.id"
        ).fetchall()
        retrieval = dict(db.execute("SELECT name, retrieval FROM variants").fetchall())
    assert versions == [("zero", "zero_shot"), ("bm25", "few_shot"), ("hyde", "hyde_revise")]
    assert retrieval == {"zero": "none", "bm25": "bm25", "hyde": "skeleton"}
    # zero-shot and the HyDE draft prompt are the same request: the draft came from the cache
    assert server.stats()["received"] == 4 + 4 + 4

    variants.write_text('[[variant]]\nname = "x"\nprofile = "gold"\nretrieval = "magic"\n')
    assert main([*args, "--run-name", "bad", "--variant", "x"]) == 2
    assert "retrieval must be one of" in capsys.readouterr().err
