"""Live results, variant specs, progress, answer views, pause and the local endpoint identity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.client import ChatRequest
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.reports.answers import result_grid, sql_diff
from workbench.core.reports.results import QuestionFilter, RunResults
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RunFinished, RunStarted
from workbench.core.runs.progress import ProgressMeter, RunProgress, format_duration
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import LOCAL_PROFILE, SpecError, VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import ScoreRow, Store
from workbench.local.prompts import local_profile


def _profiles(server: OpenAITestServer) -> dict[str, EndpointProfile]:
    return {
        name: EndpointProfile(name=name, base_url=server.base_url, model=name, timeout_s=2.0)
        for name in ("gold", "wrong")
    }


def _specs(store: Store) -> list[VariantSpec]:
    version = store.version_for("zero_shot", load_template("zero_shot").text)
    return [VariantSpec("right", "gold", version), VariantSpec("wrong", "wrong", version, retrieval="bm25", k=2)]


def _run(runner: Runner, on_event: object = None) -> list[Event]:
    async def go() -> list[Event]:
        out: list[Event] = []
        async for event in runner.events():
            out.append(event)
            if callable(on_event):
                on_event(runner, out)
        return out

    return asyncio.run(go())


def _row(index: int, status: str = "scored", right: bool | None = True, cost: float = 0.0) -> ScoreRow:
    return ScoreRow(variant_id=1, item_index=index, db_id="db", status=status, reason="", exec_match=right, cost=cost)


@pytest.mark.server(answer="model")
def test_live_results_match_the_store(openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    dataset = Dataset(demo_path)
    variants = build_variants(_specs(store), dataset, store, _profiles(openai_server))
    live = RunResults([])
    events = _run(Runner(store, dataset, "dev", variants, "r", limit=30))
    for event in events:
        live.apply(event)
    run_id = events[-1].run_id  # type: ignore[union-attr]
    stored = RunResults.from_store(store, run_id)
    for results in (live, stored):
        by_name = {s.variant: s for s in results.summaries()}
        assert (by_name["right"].completed, by_name["right"].correct) == (30, 30)
        assert (by_name["wrong"].completed, by_name["wrong"].correct) == (30, 0)
        pair = results.compare("right", "wrong")
        assert (pair.first_only, pair.second_only, pair.n) == (30, 0, 30)
        everything = list(range(30))
        assert results.filter(everything, QuestionFilter("wrong", "wrong")) == everything
        assert results.filter(everything, QuestionFilter("wrong", "right")) == []
        assert results.filter(everything, QuestionFilter("disagree")) == everything
        easy = results.filter(everything, QuestionFilter("all", hardness="easy"))
        assert easy and all(results.hardness(i) == "easy" for i in easy)
    assert [s.to_json() for s in live.summaries()] == [s.to_json() for s in stored.summaries()]


@pytest.mark.server(answer="model")
def test_item_events_carry_the_rows_the_store_holds(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    dataset = Dataset(demo_path)
    variants = build_variants(_specs(store), dataset, store, _profiles(openai_server))
    events = _run(Runner(store, dataset, "dev", variants, "r", limit=10))
    streamed = {(e.row.variant_id, e.row.item_index): e.row for e in events if isinstance(e, ItemScored)}
    stored = {(r.variant_id, r.item_index): r for r in store.scores(events[-1].run_id)}  # type: ignore[union-attr]
    assert len(streamed) == 20 and streamed == stored


def test_progress_counts_this_start_from_the_results() -> None:
    results = RunResults([])
    results.apply(RunStarted(1, "r", 6, 0, ["a", "b"], {}))
    results.apply(ItemFailed(variant="a", row=_row(0, "failed", None)))
    results.apply(RunStarted(1, "r", 6, 2, ["a", "b"], {}))  # resumed: what came before is not this start's
    results.apply(ItemScored(variant="a", model="m", row=_row(1, right=False, cost=0.25)))
    results.apply(ItemScored(variant="b", model="m", row=_row(1, cost=0.5)))
    results.apply(ItemFailed(variant="b", row=_row(2, "failed", None)))
    results.apply(ItemScored(variant="b", model="m", row=_row(2, cost=0.5)))  # replaces its failure: counted once
    # the counts are this start's; the bar (``finished``) includes what was answered before it
    assert results.progress() == RunProgress(total=6, done=3, correct=2, failed=0, cost=1.25, before=2)
    assert results.progress().finished == 5 and results.progress().remaining == 1
    assert results.done == 4
    meter = ProgressMeter(results.progress)
    assert meter.describe().startswith("5/6 ") and "correct 2  failed 0  cost $1.2500" in meter.describe()


def test_results_fold_failures_and_rescores() -> None:
    results = RunResults([])
    results.apply(RunStarted(1, "r", 4, 0, ["a", "b"], {"a": "m1", "b": "m2"}))
    results.apply(ItemFailed(variant="a", row=ScoreRow(variant_id=1, item_index=0, db_id="db", status="failed",
                                                       reason="HTTP 500")))  # fmt: skip
    assert results.filter([0], QuestionFilter("failed", "a")) == [0]
    assert results.filter([0], QuestionFilter("wrong", "a")) == [0]
    scored = ItemScored(variant="a", model="m1", row=ScoreRow(
        variant_id=1, item_index=0, db_id="db", status="scored", reason="match", hardness="easy", exec_match=True,
        exact_match=True, predicted_sql="SELECT 1", cost=0.01, latency_ms=500.0, prompt_tokens=10, completion_tokens=2,
    ))  # fmt: skip
    results.apply(scored)  # the retry on resume replaces the failure
    (a, b) = results.summaries()
    assert (a.completed, a.correct, a.failed, a.cost) == (1, 1, 0, 0.01)
    assert (b.completed, b.model) == (0, "m2")
    assert not results.apply(RunFinished(1, "completed", 1, 1))


def test_comparisons_cover_every_pair_and_name_a_missing_variant() -> None:
    results = RunResults([])
    results.apply(RunStarted(1, "r", 3, 0, ["a", "b", "c"], {}))
    assert [(p.first, p.second) for p in results.comparisons()] == [("a", "b"), ("a", "c"), ("b", "c")]
    with pytest.raises(KeyError, match="no variant 'x' in run 1"):
        results.compare("a", "x")


def test_specs_say_what_is_wrong(demo_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    good = _specs(store)[0]
    bad = [
        VariantSpec("x", "nobody", good.template_version),
        VariantSpec("y", "gold", 999),
        VariantSpec("z", "gold", good.template_version, retrieval="magic"),
        VariantSpec("l", LOCAL_PROFILE, good.template_version),
    ]
    profiles = {"gold": EndpointProfile(name="gold", base_url="http://127.0.0.1:9", model="gold")}
    with pytest.raises(SpecError) as info:
        build_variants(bad, Dataset(demo_path), store, profiles)
    text = str(info.value)
    for words in ("no endpoint profile named 'nobody'", "prompt version 999", "unknown retrieval 'magic'",
                  "local model is not running"):  # fmt: skip
        assert words in text
    assert VariantSpec.from_json(good.to_json() | {"future_field": 1}) == good


def test_completion_specs_end_in_select(demo_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    version = store.version_for("completion_few_shot", load_template("completion_few_shot").text)
    profile = EndpointProfile(name="p", base_url="http://127.0.0.1:9", model="m")
    (variant,) = build_variants([VariantSpec("c", "p", version, "bm25", 2, mode="completion")],
                                Dataset(demo_path), store, {"p": profile})  # fmt: skip
    dataset = Dataset(demo_path)
    item = dataset.load_split("dev").items[0]
    messages = variant.messages(item, dataset.schema(item.db_id))
    assert variant.mode == "completion" and messages[-1]["content"].rstrip().endswith("SELECT")
    assert variant.request_params["stop"] and variant.answer_prefix == "SELECT"


@pytest.mark.server(answer="model")
def test_pause_holds_new_requests_until_unpaused(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "w.sqlite")
    dataset = Dataset(demo_path)
    variants = build_variants(_specs(store)[:1], dataset, store, _profiles(openai_server))
    seen: dict[str, int] = {}

    def control(runner: Runner, events: list[Event]) -> None:
        scored = sum(isinstance(e, ItemScored) for e in events)
        if scored == 5 and "paused_at" not in seen:
            runner.pause()
            seen["paused_at"] = openai_server.stats.received

            def later() -> None:
                seen["while_paused"] = openai_server.stats.received
                runner.unpause()

            asyncio.get_running_loop().call_later(0.3, later)

    events = _run(Runner(store, dataset, "dev", variants, "p", limit=40), control)
    assert isinstance(events[-1], RunFinished) and events[-1].scored == 40
    # in flight when paused may still arrive (concurrency 8), nothing new after that
    assert seen["while_paused"] <= seen["paused_at"] + 8
    assert openai_server.stats.received == 40


def test_local_profile_identity_survives_a_new_port() -> None:
    a, b = local_profile("http://127.0.0.1:4001/v1", "smollm2"), local_profile("http://127.0.0.1:5002/v1", "smollm2")
    request = ChatRequest(({"role": "user", "content": "q"},), {"temperature": 0})
    assert request.fingerprint(a) == request.fingerprint(b)
    other = EndpointProfile(name="x", base_url="http://127.0.0.1:4001/v1", model="smollm2")
    assert request.fingerprint(other) != request.fingerprint(a)


def test_progress_meter_rate_eta_and_durations() -> None:
    now = [100.0]
    results = RunResults([])
    meter = ProgressMeter(results.progress, clock=lambda: now[0])
    results.apply(RunStarted(1, "r", 10, 0, ["a"], {"a": "m"}))
    meter.restart()
    assert meter.eta_s is None and "ETA -" in meter.describe()
    now[0] = 102.0
    for index in range(4):
        results.apply(ItemScored(variant="a", model="m", row=_row(index, cost=0.5)))
    assert (meter.rate, meter.eta_s, meter.fraction, meter.cost) == (2.0, 3.0, 0.4, 2.0)
    assert [format_duration(s) for s in (3.2, 75, 3725, 8040, 292668)] == [
        "3 s", "1 min 15 s", "1 h 02 min", "2 h 14 min", "3 d 9 h"
    ]  # fmt: skip


def test_pause_freezes_rate_and_eta() -> None:
    now = [0.0]
    results = RunResults([])
    meter = ProgressMeter(results.progress, clock=lambda: now[0])
    results.apply(RunStarted(1, "r", 10, 0, ["a"], {"a": "m"}))
    now[0] = 2.0
    for index in range(4):
        results.apply(ItemScored(variant="a", model="m", row=_row(index)))
    meter.pause()
    now[0] = 500.0  # a long pause
    assert (meter.elapsed_s, meter.rate, meter.eta_s) == (2.0, 2.0, 3.0)
    assert "ETA 3 s (paused)" in meter.describe()
    meter.resume()
    now[0] = 501.0
    assert meter.elapsed_s == 3.0 and "(paused)" not in meter.describe()


def test_a_stored_run_shows_its_progress_before_any_start() -> None:
    results = RunResults(["a"])
    for index in range(3):
        results.apply(ItemScored(variant="a", model="m", row=_row(index)))
    results.expect(8)
    meter = ProgressMeter(results.progress)
    assert (meter.done, meter.total, meter.fraction) == (3, 8, 3 / 8)
    assert meter.describe().startswith("3/8 ")


def test_result_grid_and_sql_diff(demo_path: Path) -> None:
    dataset = Dataset(demo_path)
    item = dataset.load_split("dev").items[0]
    grid = result_grid(dataset.database(item.db_id), item.query)
    assert grid.error is None and grid.total_rows >= 1 and grid.columns
    hostile = result_grid(dataset.database(item.db_id), "DROP TABLE x")
    assert hostile.error and hostile.error.startswith("denied")
    assert result_grid(dataset.database(item.db_id), "").error == "no SQL"
    pieces = sql_diff("SELECT name FROM t WHERE a = 'X'", "select name, age FROM t")
    kinds = [(p.kind, p.text.strip()) for p in pieces]
    assert ("added", ", age") in kinds and ("removed", "WHERE a = 'X'") in kinds
    predicted = "SELECT T1.name ,  count(*)\nFROM t AS T1 WHERE x='a b'"
    assert "".join(p.text for p in sql_diff("SELECT count(*) FROM t", predicted) if p.kind != "removed") == predicted
    assert all(p.kind == "same" for p in sql_diff("SELECT a FROM t", "select A from T"))
