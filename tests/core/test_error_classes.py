"""Refusals no retry can change end a call at once with a plain message; rate limits and outages are retried."""

from __future__ import annotations

import asyncio

import pytest

from tests.servers.faults import REFUSALS, Injection
from tests.servers.openai import OpenAITestServer
from workbench.core.endpoints.client import ChatRequest, EndpointClient, RequestFailed
from workbench.core.endpoints.platform import PlatformClient, PlatformError
from workbench.core.endpoints.profiles import EndpointProfile

PLAIN = {
    "insufficient_quota": "no quota left on this account",
    "invalid_api_key": "the API key was refused",
    "permission": "this key has no permission",
    "model_not_found": "the model does not exist",
    "context_length_exceeded": "the prompt is too long for the model",
    "invalid_param": "(parameter 'temperature')",
}


def profile(server: OpenAITestServer) -> EndpointProfile:
    return EndpointProfile(name="t", base_url=server.base_url, model="gold", timeout_s=2, max_attempts=6)


def ask(server: OpenAITestServer) -> RequestFailed | str:
    async def scenario() -> RequestFailed | str:
        async with EndpointClient(profile(server)) as client:
            try:
                request = ChatRequest(({"role": "user", "content": "Question: q"},), {"temperature": 0})
                return (await client.complete(request)).text
            except RequestFailed as exc:
                return exc

    return asyncio.run(scenario())


@pytest.mark.server(fault_rate=1.0, faults=("insufficient_quota",))
def test_a_quota_429_fails_fast_with_a_clear_message(openai_server: OpenAITestServer) -> None:
    failure = ask(openai_server)
    assert isinstance(failure, RequestFailed)
    assert (failure.kind, failure.attempts, openai_server.stats.received) == ("http 429", 1, 1)
    assert str(failure).startswith("http 429: no quota left on this account (check its plan and billing): You exceeded")
    assert "\n" not in str(failure) and "{" not in str(failure)  # one plain line, not the SDK's dump of the body


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_every_refusal_is_final_and_said_plainly(openai_server: OpenAITestServer, kind: str) -> None:
    openai_server.inject(Injection("POST /v1/chat/completions", kind))
    failure = ask(openai_server)
    assert isinstance(failure, RequestFailed) and failure.attempts == 1, failure
    assert PLAIN[kind] in str(failure) and "\n" not in str(failure)
    assert openai_server.injections[0].hits == 1


@pytest.mark.parametrize("kind", ["429", "503", "529", "500", "drop"])
def test_rate_limits_overload_and_outages_are_retried(openai_server: OpenAITestServer, kind: str) -> None:
    openai_server.config.retry_after_s = 0.01
    injection = openai_server.inject(Injection("POST /v1/chat/completions", kind, times=2))
    assert isinstance(ask(openai_server), str)
    assert (injection.hits, injection.faulted) == (3, 2)


def test_a_quota_429_fails_platform_calls_fast(openai_server: OpenAITestServer) -> None:
    upload = openai_server.inject(Injection("POST /v1/files", "insufficient_quota"))
    batch = openai_server.inject(Injection("GET /v1/batches/", "insufficient_quota"))

    async def scenario() -> list[PlatformError]:
        client = PlatformClient(profile(openai_server))
        failures = []
        try:
            for call in (client.upload_bytes("t.jsonl", b"{}\n", "batch"), client.retrieve_batch("batch_x")):
                with pytest.raises(PlatformError) as info:
                    await call
                failures.append(info.value)
        finally:
            await client.aclose()
        return failures

    failures = asyncio.run(scenario())
    assert (upload.hits, batch.hits) == (1, 1)
    assert str(failures[0]).startswith("upload t.jsonl: HTTP 429: no quota left on this account")
    assert str(failures[1]).startswith("batch batch_x: HTTP 429: no quota left on this account")


def test_a_429_carries_the_real_services_rate_limit_headers(openai_server: OpenAITestServer) -> None:
    import urllib.error
    import urllib.request

    openai_server.inject(Injection("POST /v1/chat/completions", "429"))
    request = urllib.request.Request(openai_server.base_url + "/chat/completions", b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    headers = info.value.headers
    assert info.value.code == 429 and headers["x-ratelimit-remaining-requests"] == "0"
    assert {"x-ratelimit-limit-requests", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"} <= set(headers)
