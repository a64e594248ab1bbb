"""Batch runs against the service as it behaves: odd output lines, late failures, expiry, slow cancels, queue limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.platform import PlatformClient
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import EXPIRED, BatchLimits
from workbench.core.runs.events import BatchUpdate, Event, ItemFailed, ItemScored, RunFinished
from workbench.core.runs.runner import Variant
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

FAST = BatchLimits(max_requests=50, first_poll_s=0.02, max_poll_s=0.05)
SHAPES = ("object", "string", "not_json", "error", "http_error")


def gold_variants(server: OpenAITestServer, store: Store, dataset: Dataset, queue_tokens: int = 10**9,
                  models: tuple[str, ...] = ("gold",)) -> list[Variant]:  # fmt: skip
    profiles = {m: EndpointProfile(name=m, base_url=server.base_url, model=m, timeout_s=5,
                                   batch_queue_tokens=queue_tokens) for m in models}  # fmt: skip
    return build_variants([VariantSpec(m, m, None) for m in models], dataset, store, profiles)


def run(runner: BatchRunner) -> list[Event]:
    async def go() -> list[Event]:
        return [e async for e in runner.events()]

    return asyncio.run(go())


def batch_run(server: OpenAITestServer, tmp: Path, demo: Path, resume: bool = False, **kw: object) -> list[Event]:
    store, dataset = Store(tmp / "w.sqlite"), Dataset(demo)
    variants = gold_variants(server, store, dataset, **kw)  # type: ignore[arg-type]
    return run(BatchRunner(store, dataset, "dev", variants, "b", resume=resume, limits=FAST))


def outcome(events: list[Event]) -> tuple[int, int]:
    return sum(isinstance(e, ItemScored) for e in events), sum(isinstance(e, ItemFailed) for e in events)


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, batch_line_shapes=SHAPES))
def test_every_documented_output_line_shape_is_read_and_bad_ones_retried_on_resume(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path)
    # 88 lines in batches of 50 and 38, shapes cycled per batch: bodies as objects and as JSON text are answers
    assert outcome(events) == (10 + 10 + 8 + 8, 88 - 36) and isinstance(events[-1], RunFinished)
    assert {e.reason for e in events if isinstance(e, ItemFailed)} == {
        "batch: the answer's body is not JSON ('<html>502</html>')",
        "batch: the line errored",
        "batch: Invalid 'messages': too long",
    }
    openai_server.platform.config.batch_line_shapes = ()
    again = batch_run(openai_server, tmp_path, demo_path, resume=True)
    assert outcome(again) == (52, 0)
    assert openai_server.platform.stats()["batch_requests"] == 88 + 52  # only the failed lines were sent again


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, batch_endings=("failed",)))
def test_a_batch_that_fails_late_fails_its_lines_with_the_servers_message_and_resume_retries_them(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path)
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert outcome(events) == (38, 50) and all("the model is unavailable, try again" in e.reason for e in failed)
    assert outcome(batch_run(openai_server, tmp_path, demo_path, resume=True)) == (50, 0)
    assert openai_server.platform.stats()["batch_requests"] == 88 + 50


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, batch_endings=("expired",)))
def test_an_expired_batch_keeps_its_answers_and_sends_the_rest_again(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path)
    assert outcome(events) == (88, 0)
    stats = openai_server.platform.stats()
    assert (stats["batches"], stats["batch_requests"], stats["distinct_batch_requests"]) == (3, 88 + 25, 88)
    assert "expired" in {e.status for e in events if isinstance(e, BatchUpdate)}


@pytest.mark.server(
    answer="model", platform=PlatformConfig(phase_s=0.02, batch_endings=("expired", "completed", "expired"))
)
def test_a_second_expiry_fails_the_rest_and_resume_sends_them(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path)
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert outcome(events) == (88 - 13, 13) and {e.reason for e in failed} == {EXPIRED}
    assert outcome(batch_run(openai_server, tmp_path, demo_path, resume=True)) == (13, 0)


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.3, cancelling_s=0.6))
def test_a_batch_cancelled_elsewhere_is_waited_for_while_cancelling(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    runner = BatchRunner(store, dataset, "dev", gold_variants(openai_server, store, dataset), "c",
                         limits=BatchLimits(first_poll_s=0.05, max_poll_s=0.1))  # fmt: skip

    async def go() -> list[Event]:
        events: list[Event] = []
        async for event in runner.events():
            events.append(event)
            if isinstance(event, BatchUpdate) and event.status == "validating":
                other = PlatformClient(gold_variants(openai_server, store, dataset)[0].profile)
                await other.cancel_batch(event.batch_id)
                await other.aclose()
        return events

    events = asyncio.run(go())
    statuses = [e.status for e in events if isinstance(e, BatchUpdate)]
    assert statuses.index("cancelling") < statuses.index("cancelled")
    assert outcome(events) == (0, 88) and events[-1].state == "completed"  # type: ignore[union-attr]


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, queue_tokens=20_000))
def test_a_run_over_the_queue_budget_is_submitted_as_earlier_batches_finish(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path, queue_tokens=20_000, models=("gold", "wrong"))
    assert outcome(events) == (176, 0)
    stats = openai_server.platform.stats()
    assert stats["batch_requests"] == stats["distinct_batch_requests"] == 176  # every line answered once
    assert stats["peak_enqueued_tokens"] <= 20_000 and stats["refused_for_tokens"] == 0
    assert stats["batches"] > 176 * 512 // 20_000  # more than one round of submissions


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.02, queue_tokens=20_000))
def test_batches_refused_for_the_token_limit_are_resubmitted_and_complete(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    events = batch_run(openai_server, tmp_path, demo_path, models=("gold", "wrong"))  # a budget above the server's
    assert outcome(events) == (176, 0)
    stats = openai_server.platform.stats()
    assert stats["refused_for_tokens"] > 0 and stats["distinct_batch_requests"] == 176
    assert stats["peak_enqueued_tokens"] <= 20_000


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.1, queue_tokens=20_000))
def test_resume_after_a_stop_mid_queue_submits_only_what_is_not_done(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)

    async def stopped() -> int:
        runner = BatchRunner(store, dataset, "dev", gold_variants(openai_server, store, dataset, 20_000), "k",
                             limits=FAST)  # fmt: skip
        stream = runner.events()
        async for event in stream:
            if isinstance(event, BatchUpdate) and event.status == "validating":
                break  # the app dies with one batch submitted and the rest still queued
        await stream.aclose()
        return openai_server.platform.stats()["batch_requests"]

    submitted = asyncio.run(stopped())
    assert 0 < submitted < 88
    variants = gold_variants(openai_server, store, dataset, 20_000)
    events = run(BatchRunner(store, dataset, "dev", variants, "k", resume=True, limits=FAST))
    assert outcome(events) == (88, 0)
    stats = openai_server.platform.stats()
    assert stats["batch_requests"] == stats["distinct_batch_requests"] == 88  # the submitted batch was reattached
