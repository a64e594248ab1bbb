"""A run checks every variant's template on the first question before it exists; later failures fail one item."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.template_bounds import TemplateLimits
from workbench.core.prompts.templates import PromptTemplate, TemplateProblem
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import BatchLimits
from workbench.core.runs.events import Event, ItemFailed, RunFinished
from workbench.core.runs.runner import Runner, Variant
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

FAST = BatchLimits(first_poll_s=0.02, max_poll_s=0.1)
GOOD = "### user\n{{ schema }}\nQuestion: {{ question }}\n"


def variant(name: str, text: str, dataset: Dataset, store: Store, server: OpenAITestServer) -> Variant:
    version = store.version_for(name, PromptTemplate.parse(name, text, f"{name}.prompt").text)
    spec = VariantSpec(name, "gold", version, template_source=f"{name}.prompt")
    profile = EndpointProfile(name="gold", base_url=server.base_url, model="gold")
    # a generous clock, so that a hostile loop meets the loop budget (not the time limit) on a loaded machine
    (built,) = build_variants([spec], dataset, store, {"gold": profile}, TemplateLimits(time_limit_s=60.0))
    return built


def make(kind: type[Runner], *args: object, **kwargs: object) -> Runner:
    return kind(*args, **kwargs, **({"limits": FAST} if kind is BatchRunner else {}))  # type: ignore[arg-type]


def collect(runner: Runner) -> list[Event]:
    async def go() -> list[Event]:
        return [event async for event in runner.events()]

    return asyncio.run(go())


@pytest.mark.parametrize("kind", [Runner, BatchRunner])
def test_a_broken_template_refuses_the_run_before_it_exists(
    kind: type[Runner], openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    hostile = (
        "### user\n{{ question }}\n{% for a in range(10**5) %}{% for b in range(10**5) %}{% endfor %}{% endfor %}\n"
    )
    variants = [
        variant("good", GOOD, dataset, store, openai_server),
        variant("bad", hostile, dataset, store, openai_server),
    ]
    with pytest.raises(TemplateProblem) as info:
        collect(make(kind, store, dataset, "dev", variants, "r", limit=5))
    assert str(info.value) == "bad.prompt:3:4: more than 100000 loop iterations and calls (loop budget)"
    assert store.runs() == []
    assert openai_server.stats.received == 0
    assert openai_server.platform.stats()["batches"] == 0


@pytest.mark.parametrize("kind", [Runner, BatchRunner])
def test_a_template_failing_on_a_later_question_fails_only_that_question(
    kind: type[Runner], openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    text = "### user\n{{ question }}\n{% if '2018' in question %}{{ 'a' * 10**8 }}{% endif %}\n"
    runner = make(kind, store, dataset, "dev", [variant("x", text, dataset, store, openai_server)], "r", limit=4)
    events = collect(runner)
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert [(e.index, e.reason) for e in failed] == [
        (2, "template x.prompt:3:35: '*' would build more than 256 kB (output-size limit)")
    ]
    assert isinstance(events[-1], RunFinished) and (events[-1].state, events[-1].scored) == ("completed", 3)
