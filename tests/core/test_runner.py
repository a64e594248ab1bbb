"""Runs end to end against the test server: exact figures, caching, cancel and resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer, ServerConfig, load_answers
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.embeddings import Embedder, EmbeddingCache
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import ContextBuilder, load_template
from workbench.core.reports.results import RunResults
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RequestSent, RunFinished, RunStarted
from workbench.core.runs.runner import Runner, Variant
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store


def variants(server: OpenAITestServer, store: Store, dataset: Dataset, **kw: object) -> list[Variant]:
    options: dict = {"base_url": server.base_url, "concurrency": 8, "timeout_s": 2.0, "max_attempts": 6}
    options.update(kw)
    profiles = {f"p-{m}": EndpointProfile(name=f"p-{m}", model=m, **options) for m in ("gold", "wrong")}
    specs = [VariantSpec("right", "p-gold", None), VariantSpec("wrong", "p-wrong", None)]
    return build_variants(specs, dataset, store, profiles)


def collect(runner: Runner, stop_after: int | None = None) -> list[Event]:
    async def go() -> list[Event]:
        events: list[Event] = []
        async for event in runner.events():
            events.append(event)
            if stop_after is not None and sum(isinstance(e, ItemScored) for e in events) == stop_after:
                runner.cancel()
        return events

    return asyncio.run(go())


@pytest.mark.server(answer="model")
def test_two_variants_reach_exact_figures(openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    events = collect(
        Runner(store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "first")
    )
    started, finished = events[0], events[-1]
    assert (
        isinstance(started, RunStarted)
        and started.total == 176
        and started.models == {"right": "gold", "wrong": "wrong"}
    )
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored, finished.failed) == (
        "completed",
        176,
        0,
    )
    by_name = {s.variant: s for s in RunResults.from_store(store, finished.run_id).summaries()}
    assert (by_name["right"].completed, by_name["right"].correct, by_name["right"].exact) == (88, 88, 88)
    assert (by_name["wrong"].completed, by_name["wrong"].correct) == (88, 0)
    assert by_name["right"].by_hardness == {"easy": [22, 22], "medium": [28, 28], "hard": [16, 16], "extra": [22, 22]}
    assert openai_server.stats.received == 176
    pair = RunResults.from_store(store, finished.run_id).compare("right", "wrong")
    assert (pair.first_only, pair.second_only, pair.both_right, pair.both_wrong) == (88, 0, 0, 0)
    assert pair.p_value < 1e-20

    # the same requests in a new run come from the store: nothing is sent
    again = collect(
        Runner(store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "second")
    )
    assert not any(isinstance(e, RequestSent) for e in again)
    assert all(e.cached for e in again if isinstance(e, ItemScored))
    assert openai_server.stats.received == 176


@pytest.mark.server(answer="model", latency_s=0.05)
def test_cancel_then_resume_finishes_every_item_once(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    first = collect(
        Runner(store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "r"), stop_after=30
    )
    assert isinstance(first[-1], RunFinished) and first[-1].state == "cancelled"
    assert store.run("r").state == "cancelled"
    done_before = len(store.done_items(first[-1].run_id))
    assert 30 <= done_before < 176
    assert {t for t in asyncio.all_tasks(asyncio.new_event_loop())} == set()

    rest = collect(
        Runner(store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "r", resume=True)
    )
    assert isinstance(rest[0], RunStarted) and rest[0].already_done == done_before
    assert rest[-1].state == "completed"  # type: ignore[union-attr]
    rows = list(store.scores(rest[-1].run_id))  # type: ignore[union-attr]
    assert len(rows) == 176 and len({(r.variant_id, r.item_index) for r in rows}) == 176
    assert openai_server.stats.duplicates <= 16  # at most what was in flight when cancelled
    assert store.run("r").state == "completed"


@pytest.mark.server(answer="model", fault_rate=1.0, faults=("503",))
def test_failures_are_recorded_with_reasons_and_retried_on_resume(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    events = collect(
        Runner(
            store,
            Dataset(demo_path),
            "dev",
            variants(openai_server, store, Dataset(demo_path), max_attempts=2),
            "r",
            limit=5,
        )
    )
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert len(failed) == 10 and all("http 503" in e.reason for e in failed)
    openai_server.config.fault_rate = 0.0  # the endpoint recovers
    events = collect(
        Runner(
            store,
            Dataset(demo_path),
            "dev",
            variants(openai_server, store, Dataset(demo_path)),
            "r",
            limit=5,
            resume=True,
        )
    )
    assert sum(isinstance(e, ItemScored) for e in events) == 10
    summary = {s.variant: s for s in RunResults.from_store(store, events[-1].run_id).summaries()}  # type: ignore[union-attr]
    assert (summary["right"].correct, summary["right"].failed) == (5, 0)


def test_resume_checks_the_run_matches(openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path) -> None:
    from workbench.core.store import StoreError

    store = Store(tmp_path / "w.sqlite")
    collect(Runner(store, Dataset(demo_path), "dev", variants(openai_server, store, Dataset(demo_path)), "r", limit=2))
    with pytest.raises(StoreError, match="other variants"):
        collect(
            Runner(
                store,
                Dataset(demo_path),
                "dev",
                variants(openai_server, store, Dataset(demo_path))[:1],
                "r",
                limit=2,
                resume=True,
            )
        )
    with pytest.raises(StoreError, match=r"not .* / train"):
        collect(
            Runner(
                store,
                Dataset(demo_path),
                "train",
                variants(openai_server, store, Dataset(demo_path)),
                "r",
                limit=2,
                resume=True,
            )
        )


def test_contexts_are_built_off_the_event_loop(demo_path: Path, tmp_path: Path) -> None:
    """Dense retrieval asks an embeddings server that runs on the run's own event loop.

    Fitting the retriever (the first render) and each question's retrieval wait for that
    server: built on the loop, they would wait for an answer the blocked loop cannot give.
    """

    async def go() -> tuple[int, list[Event], int]:
        server = OpenAITestServer(ServerConfig(answer="model", answers=load_answers(demo_path)))
        await server.start()
        try:
            embed = EndpointProfile(name="emb", base_url=server.base_url, model="bow-64", timeout_s=2.0)
            embedder = Embedder(embed, EmbeddingCache(tmp_path / "vectors.sqlite"))
            dataset = Dataset(demo_path)
            context = ContextBuilder(dataset, load_template("few_shot"), "dense", 2, embedder=embedder)
            profile = EndpointProfile(name="p-gold", base_url=server.base_url, model="gold", timeout_s=2.0)
            runner = Runner(Store(tmp_path / "w.sqlite"), dataset, "dev", [Variant("dense", profile, context=context)],
                            "off-loop", limit=4)  # fmt: skip
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            ticker = asyncio.create_task(tick())
            events = runner.events()
            before = ticks
            started = await anext(events)  # the first render, which fits the retriever, comes before this
            during = ticks - before
            rest = [event async for event in events]
            ticker.cancel()
            return during, [started, *rest], embedder.requests
        finally:
            await server.stop()

    during, events, requests = asyncio.run(go())
    assert isinstance(events[0], RunStarted) and during > 0  # the loop kept turning while the retriever was fitted
    finished = events[-1]
    assert isinstance(finished, RunFinished) and (finished.state, finished.scored, finished.failed) == (
        "completed",
        4,
        0,
    )
    assert requests > 0


@pytest.mark.server(answer="model", latency_s=0.05)
def test_asking_again_replaces_only_those_rows_and_keeps_an_unfinished_run_unfinished(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    first = collect(Runner(store, dataset, "dev", variants(openai_server, store, dataset), "r"), stop_after=20)
    assert first[-1].state == "cancelled"  # type: ignore[union-attr]
    before = {(r.variant_id, r.item_index): r for r in store.scores(first[-1].run_id)}  # type: ignore[union-attr]
    asked = openai_server.stats.received
    only_right = [v for v in variants(openai_server, store, dataset) if v.name == "right"]
    events = collect(Runner(store, dataset, "dev", only_right, "r", resume=True, again={0, 3}))
    started, finished = events[0], events[-1]
    assert isinstance(started, RunStarted) and started.variants == ["right"]
    assert openai_server.stats.received == asked + 2  # past the cache: both asked, nothing else
    assert isinstance(finished, RunFinished) and finished.scored == 2 and finished.state == "cancelled"
    after = {(r.variant_id, r.item_index): r for r in store.scores(finished.run_id)}
    assert {k for k in after if k not in before} <= {(k[0], i) for k in after for i in (0, 3)}
    assert all(after[k] == before[k] for k in before if k[1] not in (0, 3))
    assert store.run("r").state == "cancelled"  # still unfinished: resume finishes it
