"""The async client against our OpenAI-protocol test server: faults, limits, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import ServerProcess
from tests.servers.openai import OpenAITestServer
from workbench.core.endpoints.client import ChatRequest, EndpointClient, RequestFailed, limits_for
from workbench.core.endpoints.pacing import SlidingWindowLimiter
from workbench.core.endpoints.profiles import EndpointProfile


def profile(server: OpenAITestServer, **kw: object) -> EndpointProfile:
    options: dict = {
        "name": "test",
        "base_url": server.base_url,
        "model": "gold",
        "concurrency": 16,
        "timeout_s": 0.5,
        "max_attempts": 10,
    }
    options.update(kw)
    return EndpointProfile(**options)


def request(i: int) -> ChatRequest:
    return ChatRequest(({"role": "user", "content": f"Question: question number {i}"},), {"temperature": 0})


def test_faults_and_rpm_over_500_requests() -> None:
    server = ServerProcess("--fault-rate", "0.2", "--rpm", "400", "--window", "2", "--seed", "5")
    try:

        async def scenario() -> list[str]:
            prof = EndpointProfile(
                name="faulty",
                base_url=server.base_url,
                model="gold",
                concurrency=16,
                timeout_s=0.5,
                max_attempts=10,
                rpm=400,
            )
            async with EndpointClient(prof, seed=3) as client:
                # the server counts in 2-second windows here; the profile's rpm is per 60 s in real use
                limits_for(prof).rpm = SlidingWindowLimiter(400, window_s=2.0)

                async def one(i: int) -> str:
                    try:
                        done = await client.complete(request(i))
                        return "ok" if done.text else "empty"
                    except RequestFailed as exc:
                        assert exc.kind and str(exc)
                        return "failed"

                return await asyncio.gather(*(one(i) for i in range(500)))

        outcomes = asyncio.run(scenario())
        stats = server.stats()
    finally:
        server.stop()
    assert len(outcomes) == 500 and set(outcomes) <= {"ok", "failed"}
    assert outcomes.count("ok") == stats["succeeded"]
    assert stats["rpm_violations"] == 0
    assert stats["duplicates"] == 0
    assert sum(stats["faults"].values()) > 50  # the faults really happened
    assert outcomes.count("ok") >= 490  # 10 attempts at 20% faults: failures are rare


@pytest.mark.server(latency_s=2.0)
def test_cancelling_a_batch_leaves_no_task_behind(openai_server: OpenAITestServer) -> None:
    async def scenario() -> set[asyncio.Task]:
        async with EndpointClient(profile(openai_server, name="slow", timeout_s=10)) as client:
            batch = asyncio.gather(*(client.complete(request(i)) for i in range(40)))
            await asyncio.sleep(0.3)
            batch.cancel()
            with pytest.raises(asyncio.CancelledError):
                await batch
            assert client._inflight == {}
        await asyncio.sleep(0)
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(scenario()) == set()


def test_identical_concurrent_requests_share_one_call(openai_server: OpenAITestServer) -> None:
    async def scenario() -> list[str]:
        async with EndpointClient(profile(openai_server, name="dedupe")) as client:
            results = await asyncio.gather(*(client.complete(request(7)) for _ in range(10)))
            return [r.text for r in results]

    texts = asyncio.run(scenario())
    assert len(set(texts)) == 1
    assert openai_server.stats.received == 1


@pytest.mark.server(fault_rate=1.0, faults=("500",))
def test_persistent_failure_gives_a_reason(openai_server: OpenAITestServer) -> None:
    async def scenario() -> RequestFailed:
        async with EndpointClient(profile(openai_server, name="down", max_attempts=3)) as client:
            with pytest.raises(RequestFailed) as info:
                await client.complete(request(1))
            return info.value

    failure = asyncio.run(scenario())
    assert failure.kind == "http 500" and failure.attempts == 3
    assert openai_server.stats.received == 3


def test_client_errors_are_not_retried(openai_server: OpenAITestServer) -> None:
    async def scenario() -> RequestFailed:
        prof = profile(openai_server, name="bad-url", base_url=openai_server.base_url + "/nowhere")
        async with EndpointClient(prof) as client:
            with pytest.raises(RequestFailed) as info:
                await client.complete(request(1))
            return info.value

    failure = asyncio.run(scenario())
    assert failure.kind == "http 404" and failure.attempts == 1


def test_connection_refused_is_reported() -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def scenario() -> RequestFailed:
        prof = EndpointProfile(name="nobody", base_url=f"http://127.0.0.1:{port}/v1", model="m", max_attempts=2)
        async with EndpointClient(prof) as client:
            with pytest.raises(RequestFailed) as info:
                await client.complete(request(1))
            return info.value

    assert asyncio.run(scenario()).kind == "connection"


@pytest.mark.server(require_key="the-right-key-0000")
def test_a_key_echoed_in_a_401_is_masked_in_the_failure(openai_server: OpenAITestServer) -> None:
    from workbench.core.endpoints.platform import PlatformClient, PlatformError

    key = "gw_9a8b7c6d5e4f3a2b1c0d"  # no known shape: masked because it is the key in use

    async def scenario() -> tuple[RequestFailed, PlatformError]:
        prof = profile(openai_server, name="echo")
        async with EndpointClient(prof, api_key=key) as client:
            with pytest.raises(RequestFailed) as chat:
                await client.complete(request(1))
        platform = PlatformClient(prof, api_key=key)
        try:
            with pytest.raises(PlatformError) as files:
                await platform.upload_bytes("train.jsonl", b"{}\n", "fine-tune")
        finally:
            await platform.aclose()
        return chat.value, files.value

    chat, files = asyncio.run(scenario())
    assert chat.kind == "http 401" and chat.attempts == 1
    for failure in (chat, files):
        assert key not in str(failure) and "…1c0d" in str(failure), failure
    assert openai_server.stats.faults["401"] == 2
