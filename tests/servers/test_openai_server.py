"""The test server itself speaks the protocol the way the official SDK expects."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import openai
import pytest

from tests.servers.openai import WRONG_SQL, OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.core.endpoints.client import ChatRequest, EndpointClient
from workbench.core.endpoints.profiles import EndpointProfile


def test_models_stats_and_scripted_answers(openai_server: OpenAITestServer) -> None:
    async def scenario() -> tuple[list[str], str, str]:
        sdk = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0)
        models = [m.id async for m in sdk.models.list()]
        gold = await sdk.chat.completions.create(
            model="gold", messages=[{"role": "user", "content": "Question: How many loans has the member X made?"}]
        )
        known = await sdk.chat.completions.create(
            model="gold", messages=[{"role": "user", "content": "Question: unknown question"}]
        )
        await sdk.close()
        return models, known.choices[0].message.content or "", gold.usage.total_tokens  # type: ignore[union-attr]

    models, unknown, tokens = asyncio.run(scenario())
    assert "gold" in models and unknown == WRONG_SQL and tokens > 0
    stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{openai_server.port}/stats").read())
    assert {"received", "succeeded", "duplicates", "rpm_violations"} <= set(stats)
    assert stats["received"] == 2


def test_streaming_with_usage(openai_server: OpenAITestServer) -> None:
    question = next(iter(openai_server.config.answers))

    async def scenario() -> tuple[str, int]:
        sdk = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0)
        stream = await sdk.chat.completions.create(
            model="gold",
            messages=[{"role": "user", "content": f"Question: {question}"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            if chunk.usage:
                usage = chunk.usage.completion_tokens
        await sdk.close()
        return text, usage

    text, usage = asyncio.run(scenario())
    assert text == openai_server.config.answers[question] and usage > 0


@pytest.mark.server(answer="wrong")
def test_azure_style_profile_sends_api_version_and_key_header(openai_server: OpenAITestServer) -> None:
    prof = EndpointProfile(name="azure", base_url=openai_server.base_url, model="gpt", api_version="2024-10-21")

    async def scenario() -> str:
        async with EndpointClient(prof, api_key="az-key") as client:
            return (await client.complete(ChatRequest(({"role": "user", "content": "hi"},), {}))).text

    assert asyncio.run(scenario()) == WRONG_SQL
    assert openai_server.last_request["query"] == {"api-version": "2024-10-21"}
    assert openai_server.last_request["headers"]["api-key"] == "az-key"


@pytest.mark.server(platform=PlatformConfig(phase_s=0.01, steps=3))
def test_a_late_reader_sees_a_job_running_before_it_succeeds(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    """A poll that comes after the job's whole time (a loaded machine) still sees it running first."""
    pair = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"messages": pair}) + "\n" for _ in range(12)))

    async def scenario() -> list[str]:
        sdk = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0)
        uploaded = await sdk.files.create(file=train.open("rb"), purpose="fine-tune")
        job = await sdk.fine_tuning.jobs.create(model="gold", training_file=uploaded.id)
        await asyncio.sleep(0.5)  # ten times the job's time: every phase is over
        await sdk.fine_tuning.jobs.list_events(job.id)  # reading its events does not count as seeing it
        seen = [(await sdk.fine_tuning.jobs.retrieve(job.id)).status for _ in range(2)]
        events = [e.message async for e in sdk.fine_tuning.jobs.list_events(job.id)]
        await sdk.close()
        return [*seen, *events]

    first, second, *events = asyncio.run(scenario())
    assert (first, second) == ("running", "succeeded")
    assert any("Step 3/3" in message for message in events)
