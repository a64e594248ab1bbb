"""Long waits on the platform API: every page retried, events read incrementally, outages of any length outlasted."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from tests.servers.faults import Injection
from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.pacing import backoff_delay
from workbench.core.endpoints.platform import PlatformClient
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.finetune.backends import ApiBackend, FineTuneContext, TrainingRequest
from workbench.core.finetune.jobs import start_job, watch
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import BatchLimits
from workbench.core.runs.events import BatchUpdate, Event, ItemScored, RunFinished
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

OUTAGE = re.compile(r"^service unavailable since \d\d:\d\d, retrying$")
EXAMPLE = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "SELECT 1"}]}


def training_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(EXAMPLE) + "\n" for _ in range(10)))
    return path


def base_profile(server: OpenAITestServer) -> EndpointProfile:
    return EndpointProfile(name="base", base_url=server.base_url, model="gold", timeout_s=5)


def test_a_patient_wait_backs_off_to_its_ceiling_and_no_further() -> None:
    assert backoff_delay(60, 503, {}, 0.0, 0.999, ceiling_s=2.0) == pytest.approx(2.0, abs=0.01)
    assert backoff_delay(3, 503, {"Retry-After": "600"}, 0.0, 0.5, ceiling_s=2.0) == 2.0
    assert backoff_delay(60, 503, {}, 0.0, 0.999) <= 30.0  # without patience: as before


@pytest.mark.server(platform=PlatformConfig(phase_s=0.01, steps=300))
def test_a_300_event_job_is_watched_with_one_request_per_poll(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    calls = openai_server.platform.calls

    async def scenario() -> tuple[str, dict[str, int], int, int, int]:
        client = PlatformClient(base_profile(openai_server))
        try:
            job = await start_job(client, store, training_file(tmp_path), None, "gold")
            await watch(client, store, job.id, first_poll_s=0.02, max_poll_s=0.05)
            watched = dict(calls)
            await watch(client, store, job.id)  # a new session, caught up from the store: one look, one page
            again = calls["job_events"] - watched["job_events"]
            before = calls["job_events"]
            everything = await client.events(job.id)  # all 300-odd, page by page
            return job.id, watched, again, calls["job_events"] - before, len(everything)
        finally:
            await client.aclose()

    job_id, watched, again, pages, listed = asyncio.run(scenario())
    events = store.job_events(job_id)
    assert len(events) > 300 and len({e["id"] for e in events}) == len(events)
    assert [e["data"].get("step") for e in events if e["data"].get("step")] == list(range(1, 301))
    assert watched["get_job"] > 20  # many polls …
    assert watched["job_events"] <= watched["get_job"] + 2  # … each reading one page of new events
    assert again == 1  # caught up: one request
    assert listed == len(events) and pages == 4  # the whole listing: four pages of 100, each retried on its own


@pytest.mark.server(platform=PlatformConfig(phase_s=0.001, steps=250))
def test_a_rate_limit_on_a_later_page_of_events_is_retried(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")

    async def scenario() -> tuple[int, int]:
        client = PlatformClient(base_profile(openai_server))
        try:
            job = await start_job(client, store, training_file(tmp_path), None, "gold")
            await asyncio.sleep(0.5)  # all 250 steps logged
            later_pages = openai_server.inject(Injection(r"/events\?.*after=", "429", times=2))
            return len(await client.events(job.id)), later_pages.faulted
        finally:
            await client.aclose()

    listed, faulted = asyncio.run(scenario())
    assert listed > 250 and faulted == 2  # the SDK's own iterator raised RateLimitError here


@pytest.mark.server(platform=PlatformConfig(phase_s=0.05, steps=3))
def test_a_job_watch_survives_an_outage_longer_than_five_attempts(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    profiles = ProfileStore(tmp_path / "profiles.json")
    profiles.save({"base": base_profile(openai_server)})
    context = FineTuneContext(store, profiles, max_poll_s=0.05, outage_ceiling_s=0.1)
    backend = ApiBackend(context, "base")
    statuses: list[str] = []

    async def scenario() -> str:
        started = await backend.start(TrainingRequest(training_file(tmp_path)))
        openai_server.inject(Injection(r"GET /v1/fine_tuning/jobs/", "503", for_s=3.0))
        return await backend.follow(started.job_id, on_status=statuses.append)

    assert asyncio.run(scenario()) == "succeeded"
    outage = openai_server.injections[0]
    assert outage.faulted > 5  # the old policy gave up after 5 attempts
    assert any(OUTAGE.match(s) for s in statuses) and statuses[-1] == "succeeded"


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.05))
def test_a_batch_run_survives_an_outage_longer_than_five_attempts(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    profiles = {"gold": EndpointProfile(name="gold", base_url=openai_server.base_url, model="gold", timeout_s=5)}
    variants = build_variants([VariantSpec("gold", "gold", None)], dataset, store, profiles)
    limits = BatchLimits(first_poll_s=0.02, max_poll_s=0.05, outage_ceiling_s=0.1)
    outage = openai_server.inject(Injection(r"GET /v1/batches/", "503", for_s=3.0))

    async def go() -> list[Event]:
        return [e async for e in BatchRunner(store, dataset, "dev", variants, "b", limit=5, limits=limits).events()]

    events = asyncio.run(go())
    finished = events[-1]
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored) == ("completed", 5)
    assert sum(isinstance(e, ItemScored) for e in events) == 5
    assert outage.faulted > 5  # the old policy gave up after 5 attempts and the run ended "interrupted"
    assert any(isinstance(e, BatchUpdate) and OUTAGE.match(e.status) for e in events)


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.05))
def test_a_job_watch_and_a_batch_run_outlast_a_sixty_second_outage(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    """The issue's case: a minute of 503s on every poll, for a fine-tuning job and a batch run at once."""
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    profiles = ProfileStore(tmp_path / "profiles.json")
    profiles.save({"base": base_profile(openai_server)})
    backend = ApiBackend(FineTuneContext(store, profiles, max_poll_s=0.5, outage_ceiling_s=2.0), "base")
    endpoints = {"gold": EndpointProfile(name="gold", base_url=openai_server.base_url, model="gold", timeout_s=5)}
    variants = build_variants([VariantSpec("gold", "gold", None)], dataset, store, endpoints)
    limits = BatchLimits(first_poll_s=0.1, max_poll_s=0.5, outage_ceiling_s=2.0)
    statuses: list[str] = []

    async def scenario() -> tuple[str, list[Event]]:
        started = await backend.start(TrainingRequest(training_file(tmp_path)))
        openai_server.inject(Injection(r"GET /v1/fine_tuning/jobs/", "503", for_s=60.0))
        openai_server.inject(Injection(r"GET /v1/batches/", "503", for_s=60.0))

        async def batch() -> list[Event]:
            return [e async for e in BatchRunner(store, dataset, "dev", variants, "b", limit=5, limits=limits).events()]

        return await asyncio.gather(backend.follow(started.job_id, on_status=statuses.append), batch())

    job_status, events = asyncio.run(scenario())
    assert job_status == "succeeded" and statuses[-1] == "succeeded"
    assert any(OUTAGE.match(s) for s in statuses)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored) == ("completed", 5)
    assert any(isinstance(e, BatchUpdate) and OUTAGE.match(e.status) for e in events)
    assert all(outage.faulted > 5 for outage in openai_server.injections)
