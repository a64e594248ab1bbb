"""Batch API runs end to end through the test server's files and batches endpoints."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, repeated_demo
from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.reports.results import RunResults
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import BatchLimits, chunks
from workbench.core.runs.events import BatchUpdate, Event, ItemFailed, ItemScored, RunFinished
from workbench.core.runs.runner import Variant
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

ROOT = Path(__file__).resolve().parents[2]
FAST = BatchLimits(max_requests=50, first_poll_s=0.02, max_poll_s=0.05)


def variants(server: OpenAITestServer, store: Store, dataset: Dataset, *specs: VariantSpec) -> list[Variant]:
    """The plain prompt to "gold" and "wrong" (or the specs given, on those profiles)."""
    profiles = {m: EndpointProfile(name=m, base_url=server.base_url, model=m, timeout_s=5) for m in ("gold", "wrong")}
    specs = specs or (VariantSpec("gold", "gold", None), VariantSpec("wrong", "wrong", None))
    return build_variants(list(specs), dataset, store, profiles)


def run(runner: BatchRunner) -> list[Event]:
    async def go() -> list[Event]:
        return [e async for e in runner.events()]

    return asyncio.run(go())


def test_chunks_respect_both_limits() -> None:
    lines = [b"x" * 10] * 7
    assert [len(c) for c in chunks(lines, BatchLimits(max_requests=3))] == [3, 3, 1]
    assert [len(c) for c in chunks(lines, BatchLimits(max_bytes=25))] == [2, 2, 2, 1]
    assert [len(c) for c in chunks([b"y" * 100], BatchLimits(max_bytes=25))] == [1]  # an oversize line goes alone


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02))
def test_batch_run_scores_like_a_live_run_and_fills_the_cache(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    dataset = Dataset(demo_path)
    events = run(BatchRunner(store, dataset, "dev", variants(openai_server, store, dataset), "b1", limits=FAST))
    finished = events[-1]
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored, finished.failed) == (
        "completed",
        176,
        0,
    )
    by_name = {s.variant: s for s in RunResults.from_store(store, finished.run_id).summaries()}
    assert (by_name["gold"].correct, by_name["wrong"].correct, by_name["gold"].completed) == (88, 0, 88)
    platform = openai_server.platform.stats()
    assert (platform["batches"], platform["batch_requests"]) == (4, 176)  # 2 x 88 split by 50
    assert openai_server.stats.received == 0  # nothing went out as a live request
    updates = [e for e in events if isinstance(e, BatchUpdate)]
    assert {u.status for u in updates} >= {"validating", "completed"} and updates[-1].open_batches == 0
    # the answers are in the response cache: the same variants again need no batch at all
    again = run(BatchRunner(store, dataset, "dev", variants(openai_server, store, dataset), "b2", limits=FAST))
    assert again[-1].scored == 176 and openai_server.platform.stats()["batches"] == 4  # type: ignore[union-attr]
    assert all(e.cached for e in again if isinstance(e, ItemScored))


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, batch_fail_every=10))
def test_failed_batch_lines_are_recorded_and_retried_on_resume(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    dataset = Dataset(demo_path)
    events = run(BatchRunner(store, dataset, "dev", variants(openai_server, store, dataset), "b", limits=FAST))
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert len(failed) == 16 and all(e.reason == "batch: the model failed to answer" for e in failed)  # 5 per 50
    events = run(
        BatchRunner(store, dataset, "dev", variants(openai_server, store, dataset), "b", resume=True, limits=FAST)
    )
    assert events[0].already_done == 160  # type: ignore[union-attr]
    retried = openai_server.platform.stats()["batch_requests"]
    assert retried == 176 + 16  # only the failures were sent again
    run(BatchRunner(store, dataset, "dev", variants(openai_server, store, dataset), "b", resume=True, limits=FAST))
    rows = list(store.scores(store.run("b").id))
    assert len(rows) == 176 and all(r.status == "scored" for r in rows)


def test_hyde_is_refused_in_batch_mode_with_a_reason(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    from workbench.core.prompts.context import load_template

    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    version = store.version_for("hyde_revise", load_template("hyde_revise").text)
    variant = variants(openai_server, store, dataset, VariantSpec("hyde", "gold", version, "skeleton", 2))
    events = run(BatchRunner(store, dataset, "dev", variant, "h", limit=3, limits=FAST))
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert len(failed) == 3 and "run it live" in failed[0].reason


def test_two_thousand_requests_survive_a_restart_and_are_scored_once(tmp_path: Path) -> None:
    server = ServerProcess("--answer", "model", "--dataset", str(ROOT / "resources" / "demo"), "--phase-s", "0.4")
    try:
        dataset = repeated_demo(tmp_path, 1000)
        profiles = tmp_path / "profiles.json"
        ProfileStore(profiles).save(
            {m: EndpointProfile(name=m, base_url=server.base_url, model=m) for m in ("gold", "wrong")}
        )
        store = tmp_path / "w.sqlite"
        cmd = [sys.executable, "-m", "workbench", "run", "--dataset", str(dataset), "--variant", "gold",
               "--variant", "wrong", "--batch", "--batch-max-requests", "500", "--batch-poll", "0.2",
               "--run-name", "big", "--store", str(store), "--profiles", str(profiles)]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        first = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
        submitted = 0
        assert first.stderr is not None
        deadline = time.monotonic() + 120
        while submitted < 2 and time.monotonic() < deadline:
            line = first.stderr.readline()
            submitted += line.startswith("batch ") and ": validating" in line
        first.send_signal(signal.SIGKILL)  # the app dies with batches submitted and others not
        first.wait(10)
        assert submitted == 2
        resumed = subprocess.run([*cmd, "--resume"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        rows = list(Store(store).scores(Store(store).run("big").id))
        assert len(rows) == 2000 and all(r.status == "scored" for r in rows)
        right = sum(bool(r.exec_match) for r in rows)
        assert right == 1000  # gold answers every copy right, wrong none
        stats = server.stats()["platform"]
        assert stats["distinct_batch_requests"] == 2000
        # the batches stored before the kill were reattached, not sent again; at most the one being
        # created at the moment of the kill (500 requests) was submitted twice
        assert 2000 <= stats["batch_requests"] <= 2500
        assert "state completed" in subprocess.run(
            [sys.executable, "-m", "workbench", "report", "big", "--store", str(store)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
    finally:
        server.stop()
