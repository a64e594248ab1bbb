"""A create whose reply is lost is retried without creating twice: exactly one job, exactly one batch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.servers.faults import Injection
from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.platform import CREATION_TAG, JobInfo, JobSpec, PlatformClient
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import BatchLimits
from workbench.core.runs.events import Event, RunFinished
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

EXAMPLE = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "SELECT 1"}]}


def profile(server: OpenAITestServer) -> EndpointProfile:
    return EndpointProfile(name="gold", base_url=server.base_url, model="gold", timeout_s=5)


def create_jobs(server: OpenAITestServer, count: int) -> list[JobInfo]:
    async def scenario() -> list[JobInfo]:
        client = PlatformClient(profile(server))
        try:
            content = "".join(json.dumps(EXAMPLE) + "\n" for _ in range(10)).encode()
            file_id = await client.upload_bytes("train.jsonl", content, "fine-tune")
            return [await client.create(JobSpec("gold", file_id, suffix="sql")) for _ in range(count)]
        finally:
            await client.aclose()

    return asyncio.run(scenario())


def test_a_lost_create_reply_yields_exactly_one_job(openai_server: OpenAITestServer) -> None:
    lost = openai_server.inject(Injection("POST /v1/fine_tuning/jobs$", "lost_reply", times=1))
    (job,) = create_jobs(openai_server, 1)
    assert lost.hits == 1  # the retry found the job instead of creating another
    assert list(openai_server.platform.jobs) == [job.id]
    assert CREATION_TAG in openai_server.platform.jobs[job.id].data["metadata"]


def test_two_deliberate_creates_still_make_two_jobs(openai_server: OpenAITestServer) -> None:
    jobs = create_jobs(openai_server, 2)
    assert len({j.id for j in jobs}) == 2 and len(openai_server.platform.jobs) == 2


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02))
def test_a_lost_create_reply_yields_exactly_one_batch(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    lost = openai_server.inject(Injection("POST /v1/batches$", "lost_reply", times=1))
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    variants = build_variants([VariantSpec("gold", "gold", None)], dataset, store, {"gold": profile(openai_server)})
    limits = BatchLimits(first_poll_s=0.02, max_poll_s=0.05)

    async def go() -> list[Event]:
        return [e async for e in BatchRunner(store, dataset, "dev", variants, "b", limit=5, limits=limits).events()]

    finished = asyncio.run(go())[-1]
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored) == ("completed", 5)
    assert lost.hits == 1 and openai_server.platform.stats()["batches"] == 1
    (record,) = store.batches(finished.run_id)
    assert record["id"] in openai_server.platform.batches and record["ingested"]
