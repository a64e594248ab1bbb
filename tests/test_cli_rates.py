"""Rate windows survive restarts: a run killed mid-minute and resumed never exceeds the server's RPM."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.conftest import ServerProcess
from tests.test_cli_run import ROOT, cli

RPM = 15
ITEMS = 12  # with faults and the answers the kill cut off, under two windows of attempts: about a minute


def test_a_killed_and_resumed_run_keeps_the_servers_rpm(tmp_path: Path) -> None:
    server = ServerProcess(
        "--answer", "model", "--dataset", str(ROOT / "resources" / "demo"), "--latency", "0.05",
        "--rpm", str(RPM), "--fault-rate", "0.15", "--faults", "500,503,429,malformed", "--seed", "7",
    )  # fmt: skip
    try:
        store = tmp_path / "w.sqlite"
        args = ["run", "--base-url", server.base_url, "--model", "gold", "--rpm", str(RPM), "--concurrency", "4",
                "--limit", str(ITEMS), "--store", str(store), "--run-name", "polite"]  # fmt: skip
        first = cli(*args)
        deadline = time.monotonic() + 30
        while server.stats()["received"] < RPM // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)  # mid-minute, with attempts in flight
        first.wait(10)
        sent_before = server.stats()["received"]
        assert RPM // 2 <= sent_before < RPM, "the kill should land inside the first window"

        resumed = cli(*args, "--resume")
        _, err = resumed.communicate(timeout=85)
        assert resumed.returncode == 0, err
        stats = server.stats()
    finally:
        server.stop()
    assert stats["rpm_violations"] == 0, stats
    assert sum(stats["faults"].values()) > 0, stats  # retries happened and counted against the window too
    with sqlite3.connect(store) as db:
        statuses = db.execute("SELECT status, count(*) FROM scores GROUP BY status").fetchall()
        unanswered = db.execute("SELECT count(*) FROM request_sends WHERE finished_at IS NULL").fetchone()[0]
    assert statuses == [("scored", ITEMS)], statuses
    assert unanswered <= 4  # only what the kill cut off (at most --concurrency) was left without its answer
