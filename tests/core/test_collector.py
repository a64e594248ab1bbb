"""The collector during a run: frozen start-up objects and raised thresholds, restored when the last run ends."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from tests.core.test_runner import variants
from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.runs.collector import RUN_THRESHOLDS, run_collector
from workbench.core.runs.events import ItemScored, RunFinished
from workbench.core.runs.runner import Runner
from workbench.core.store import Store


def test_a_run_freezes_what_was_there_and_raises_the_thresholds_until_it_ends() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    old = [object() for _ in range(10)]  # alive before: frozen
    with run_collector():
        assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_freeze_count() >= frozen + len(old)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_overlapping_runs_restore_the_collector_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first, second = run_collector(), run_collector()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == RUN_THRESHOLDS  # the second run still goes
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_failing_run_restores_the_collector() -> None:
    before = gc.get_threshold()
    with pytest.raises(ZeroDivisionError), run_collector():
        _ = 1 / 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.server(answer="model", latency_s=0.05)
def test_the_runner_runs_under_the_run_collector(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    runner = Runner(
        store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "gc", limit=20
    )
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []

    async def go() -> RunFinished:
        async for event in runner.events():
            if isinstance(event, ItemScored):
                during.append(gc.get_threshold())
            if isinstance(event, RunFinished):
                return event
        raise AssertionError("no RunFinished")

    finished = asyncio.run(go())
    assert finished.state == "completed" and len(during) == 40
    # answers come 50 ms apart: the first events are read while later requests are still in flight
    assert during[0] == RUN_THRESHOLDS and gc.get_threshold() == before and gc.get_freeze_count() == 0
