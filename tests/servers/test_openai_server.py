"""The test server itself speaks the protocol the way the official SDK expects."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import openai
import pytest

from tests.servers.openai import WRONG_SQL, OpenAITestServer
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
