"""The collector during a run: raised thresholds, restored when the last run ends; what the app froze stays frozen.

The runner's test compares with what it found (another test's run may still be going in this process)."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_runner import variants
from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.runs.collector import RUN_THRESHOLDS
from workbench.core.runs.events import ItemScored, RunFinished
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

ROOT = Path(__file__).resolve().parents[2]

# In a process of its own: in the suite's process another test's run may still be going (an
# abandoned event loop never finishes its runs), and the collector is the whole process's.
ALONE = """
import gc

import pytest

from workbench.core.runs.collector import RUN_THRESHOLDS, run_collector

before = gc.get_threshold()
assert before != RUN_THRESHOLDS
gc.freeze()  # as the app does with what it loaded: a run must leave that frozen
frozen = gc.get_freeze_count()
with run_collector(8):  # few in flight: the defaults
    assert gc.get_threshold() == before
with run_collector(1024):
    assert gc.get_threshold() == RUN_THRESHOLDS
# (a frozen object that dies leaves the count: only an unfreeze would empty it)
assert gc.get_threshold() == before and frozen > 1000 and gc.get_freeze_count() > frozen - 100

first, second = run_collector(1024), run_collector(256)  # overlapping runs
first.__enter__()
second.__enter__()
first.__exit__(None, None, None)
assert gc.get_threshold() == RUN_THRESHOLDS  # the second run still goes
second.__exit__(None, None, None)
assert gc.get_threshold() == before

with pytest.raises(ZeroDivisionError), run_collector(1024):  # a failing run
    _ = 1 / 0
assert gc.get_threshold() == before and gc.get_freeze_count() > frozen - 100
print("restored")
"""


def test_runs_raise_the_collector_thresholds_and_the_last_to_end_restores_them() -> None:
    done = subprocess.run([sys.executable, "-c", ALONE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "restored", done.stderr


def thresholds_while_scored(runner: Runner) -> list[tuple[int, int, int]]:
    """The collector's thresholds as each ItemScored event is read."""
    during: list[tuple[int, int, int]] = []

    async def go() -> RunFinished:
        async for event in runner.events():
            if isinstance(event, ItemScored):
                during.append(gc.get_threshold())
            if isinstance(event, RunFinished):
                return event
        raise AssertionError("no RunFinished")

    assert asyncio.run(go()).state == "completed"
    return during


@pytest.mark.server(answer="model", latency_s=0.05)
def test_a_run_with_many_in_flight_runs_under_the_raised_collector_and_one_with_few_does_not(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    before = gc.get_threshold()
    wide = variants(openai_server, store, dataset, concurrency=128)  # two profiles: 256 in flight
    during = thresholds_while_scored(Runner(store, dataset, "dev", wide, "wide", limit=20))
    # the first events are read while the other items are still being scored
    assert len(during) == 40 and during[0] == RUN_THRESHOLDS and gc.get_threshold() == before
    narrow = variants(openai_server, store, dataset, params={"temperature": 0.5})  # 8 each, not from the cache
    during = thresholds_while_scored(Runner(store, dataset, "dev", narrow, "narrow", limit=20))
    assert len(during) == 40 and set(during) == {before} and gc.get_threshold() == before
    # two variants on one 128-wide profile share its gate: 128 in flight, not 256
    profile = EndpointProfile(name="one", model="gold", base_url=openai_server.base_url, concurrency=128)
    specs = [VariantSpec("a", "one", None), VariantSpec("b", "one", None)]
    shared = build_variants(specs, dataset, store, {"one": profile})
    during = thresholds_while_scored(Runner(store, dataset, "dev", shared, "shared", limit=20))
    assert len(during) == 40 and set(during) == {before}
