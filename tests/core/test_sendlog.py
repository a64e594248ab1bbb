"""The send log in the store, and windows that count what others sent (kill + resume keeps the limits)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ServerProcess
from workbench.core.endpoints import client as client_module
from workbench.core.endpoints.client import ChatRequest, EndpointClient
from workbench.core.endpoints.pacing import SlidingWindowLimiter
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.endpoints.sendlog import SendLog
from workbench.core.sandbox import lifeline
from workbench.core.store import MIGRATIONS, Store

KEY = "p http://x/v1"


def dead_owner() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    token = lifeline.identity(proc.pid)
    proc.wait()
    return f"{token}/0a1b2c3d"


def test_attempts_count_from_their_answer_in_flight_or_from_their_process_death(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    log = SendLog(store)
    me, other = f"{lifeline.identity()}/aaaa", f"{lifeline.identity()}/bbbb"
    log.finished(log.sent(KEY, other, 100, timeout_s=30))
    log.sent(KEY, other, 200, timeout_s=30)  # in flight, in a live process
    log.sent(KEY, me, 250, timeout_s=30)  # ours: the windows count it in memory already
    log.sent("q http://y/v1", other, 300, timeout_s=30)
    now = time.time()
    store.db.executescript(
        f"INSERT INTO request_sends (window_key, owner, sent_at, deadline, tokens) "
        f"VALUES ('{KEY}', '{dead_owner()}', {now - 5}, {now + 25}, 400);"  # cut off by a kill
        f"INSERT INTO request_sends (window_key, owner, sent_at, deadline, finished_at, tokens) "
        f"VALUES ('{KEY}', 'gone', {now - 500}, {now - 470}, {now - 499}, 500);"  # long out of any window
    )
    sends = {s.tokens: s.at for s in log.recent(KEY, window_s=60, exclude=me)}
    assert set(sends) == {100, 200, 400}
    assert all(at == pytest.approx(now, abs=1) for at in sends.values())
    time.sleep(0.2)
    later = {s.tokens: s.at for s in log.recent(KEY, window_s=60, exclude=me)}
    assert later[200] > sends[200]  # still in flight: counts as of each check
    assert later[400] == sends[400]  # its process is dead: closed once, as of when that was seen
    store.close()


def test_a_window_counts_the_uses_of_others_at_every_check() -> None:
    theirs: list[tuple[float, float]] = []

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(3, window_s=0.5, margin_s=0.0, others=lambda: theirs)
        now = limiter.clock()
        theirs.extend([(now - 0.2, 1.0), (now - 0.3, 1.0)])  # two used 0.2-0.3 s ago, by a killed process
        start = time.monotonic()
        for _ in range(2):
            async with limiter.slot():
                pass
        return time.monotonic() - start

    assert asyncio.run(scenario()) >= 0.15  # one slot was free at once; the second waited for the oldest use


def test_two_event_loops_on_one_store_share_the_servers_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rpm, each = 6, 9
    server = ServerProcess("--rpm", str(rpm), "--window", "2", "--latency", "0.02")
    monkeypatch.setattr(client_module, "RATE_WINDOW_S", 2.0)  # the server's window, for a short test
    profile = EndpointProfile(name="shared", base_url=server.base_url, model="gold", rpm=rpm, timeout_s=5)
    path = tmp_path / "w.sqlite"
    Store(path).close()
    failures: list[BaseException] = []

    def run_alone(worker: int) -> None:  # its own store connection, event loop and windows: a process
        async def scenario() -> None:
            store = Store(path)
            try:
                requests = [ChatRequest(({"role": "user", "content": f"Q {worker}-{i}"},), {}) for i in range(each)]
                async with EndpointClient(profile, sends=SendLog(store)) as client:
                    await asyncio.gather(*(client.complete(r) for r in requests))
            finally:
                store.close()

        try:
            asyncio.run(scenario())
        except BaseException as exc:
            failures.append(exc)

    try:
        threads = [threading.Thread(target=run_alone, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stats = server.stats()
    finally:
        server.stop()
    assert not failures, failures
    assert stats["succeeded"] == 2 * each and stats["rpm_violations"] == 0, stats


def test_a_version_6_store_gains_the_send_log_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    old = Store(path, migrations=MIGRATIONS[:6])
    run = old.create_run("r", old.dataset_id("/d", "d"), "dev", None, [old.variant_id("v", "http://x/v1", "m", {})])
    old.close()
    store = Store(path)
    assert store.version == len(MIGRATIONS) >= 7  # the send log came with 7; later migrations apply too
    assert store.run(run).name == "r"
    assert SendLog(store).recent("any", 60.0) == []
    store.close()
