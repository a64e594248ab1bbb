"""The send log in the store, and windows that start from it (kill + resume keeps the limits)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.core import lifeline
from workbench.core.limits import SlidingWindowLimiter
from workbench.core.sendlog import SendLog
from workbench.core.store import MIGRATIONS, Store


def dead_owner() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    token = lifeline.identity(proc.pid)
    proc.wait()
    return token


def test_attempts_count_from_their_answer_or_until_their_deadline(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    log = SendLog(store)
    answered = log.sent("p http://x/v1", 100, timeout_s=30)
    log.finished(answered)
    log.sent("p http://x/v1", 200, timeout_s=30)  # in flight here, in a live process
    log.sent("other http://y/v1", 300, timeout_s=30)
    now = time.time()
    store.db.executescript(
        f"INSERT INTO request_sends (window_key, owner, sent_at, deadline, tokens) "
        f"VALUES ('p http://x/v1', '{dead_owner()}', {now - 5}, {now + 25}, 400);"  # cut off by a kill
        f"INSERT INTO request_sends (window_key, owner, sent_at, deadline, finished_at, tokens) "
        f"VALUES ('p http://x/v1', 'gone', {now - 500}, {now - 470}, {now - 499}, 500);"  # long out of the window
    )
    sends = {s.tokens: s.at for s in log.recent("p http://x/v1", window_s=60)}
    assert set(sends) == {100, 200, 400}
    assert sends[100] == pytest.approx(now, abs=1)  # answered: counts when it was answered
    assert sends[200] == pytest.approx(now + 30, abs=1)  # live and unanswered: may still arrive until its deadline
    assert sends[400] == pytest.approx(now, abs=1)  # its process died: it arrived, if at all, before now
    store.close()


def test_a_window_started_from_earlier_uses_waits_for_them_to_leave() -> None:
    async def scenario() -> float:
        limiter = SlidingWindowLimiter(3, window_s=0.5, margin_s=0.0)
        now = limiter.clock()
        limiter.preload([(now - 0.2, 1.0), (now - 0.3, 1.0)])  # two used 0.2-0.3 s ago, by a killed process
        start = time.monotonic()
        for _ in range(2):
            async with limiter.slot():
                pass
        return time.monotonic() - start

    assert asyncio.run(scenario()) >= 0.15  # one slot was free at once; the second waited for the oldest use


def test_a_version_6_store_gains_the_send_log_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    old = Store(path, migrations=MIGRATIONS[:6])
    run = old.create_run("r", old.dataset_id("/d", "d"), "dev", None, [old.variant_id("v", "http://x/v1", "m", {})])
    old.close()
    store = Store(path)
    assert store.version == 7 == len(MIGRATIONS)
    assert store.run(run).name == "r"
    assert SendLog(store).recent("any", 60.0) == []
    store.close()
