"""A gateway that echoes the presented key in its 401: the key reaches no file, export or output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import ServerProcess
from tests.test_cli_run import ROOT, cli
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore

GOOD = "sk-proj-" + "GoodGood1234" * 4
WRONG = "sk-proj-" + "Wr0ngKeyAbCd" * 4 + "4f60"


def test_an_echoed_key_is_masked_in_the_store_exports_logs_and_output(tmp_path: Path) -> None:
    server = ServerProcess("--answer", "model", "--dataset", str(ROOT / "resources" / "demo"), "--require-key", GOOD)
    try:
        profiles = tmp_path / "profiles.json"
        ProfileStore(profiles).save({
            "good": EndpointProfile(name="good", base_url=server.base_url, model="gold", api_key_env="WB_GOOD"),
            "wrong": EndpointProfile(name="wrong", base_url=server.base_url, model="gold", api_key_env="WB_SECRET"),
        })  # fmt: skip
        store = tmp_path / "w.sqlite"
        env = {"WB_GOOD": GOOD, "WB_SECRET": WRONG}
        common = ["--store", str(store), "--profiles", str(profiles)]
        run = cli("run", "--variant", "good", "--variant", "wrong", "--run-name", "echo", "--limit", "6", *common,
                  env=env)  # fmt: skip
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        report = cli("report", "echo", "--store", str(store), "--html", str(tmp_path / "r.html"),
                     "--csv", str(tmp_path / "r.csv"), env=env)  # fmt: skip
        report_out, report_err = report.communicate(timeout=60)
        assert report.returncode == 0, report_err
        stats = server.stats()
    finally:
        server.stop()
    assert stats["faults"]["401"] == 6 and stats["succeeded"] == 6  # the wrong key was refused, the good one served
    with sqlite3.connect(store) as db:
        reasons = {r for (r,) in db.execute("SELECT reason FROM scores WHERE status = 'failed'")}
        errors = {e for (e,) in db.execute("SELECT error FROM responses WHERE ok = 0")}
    assert len(reasons) == 1 and len(errors) == 1
    assert "sk-proj-…4f60" in reasons.pop() and "sk-proj-…4f60" in errors.pop()
    for text in (out, err, report_out, report_err):
        assert WRONG not in text and GOOD not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]  # the store (and its WAL), reports, logs, profiles
    assert {store.name, "r.html", "r.csv"} <= {p.name for p in files}
    for path in files:
        data = path.read_bytes()
        assert WRONG.encode() not in data and WRONG[-30:].encode() not in data, path
        assert GOOD.encode() not in data, path
