"""Embeddings retry through the endpoint layer's one loop: one HTTP request per attempt, our backoff."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.endpoints.embeddings import Embedder, EmbeddingCache, EmbeddingError
from workbench.core.endpoints.profiles import EndpointProfile


def embedder(server: OpenAITestServer, tmp_path: Path, attempts: int) -> Embedder:
    profile = EndpointProfile(name="emb", base_url=server.base_url, model="bow-64", max_attempts=attempts)
    return Embedder(profile, EmbeddingCache(tmp_path / "vectors.sqlite"))


@pytest.mark.server(embedding_faults=("429", "500"), retry_after_s=0.4)
def test_a_429_and_a_500_are_retried_by_our_loop_honouring_retry_after(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    vectors = embedder(openai_server, tmp_path, attempts=3)
    start = time.monotonic()
    matrix = vectors(["how many books?", "how many authors?"])
    assert matrix.shape == (2, 64)
    assert time.monotonic() - start >= 0.4  # the 429's Retry-After, waited by our backoff (the SDK's is off)
    stats = openai_server.stats
    assert (stats.received, stats.succeeded, dict(stats.faults)) == (3, 1, {"429": 1, "500": 1})
    assert vectors.requests == 1


@pytest.mark.server(embedding_faults=("500",) * 6)
def test_the_sdk_sends_exactly_one_request_per_attempt_of_ours(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError) as info:
        embedder(openai_server, tmp_path, attempts=2)(["how many books?"])
    assert "injected 500" in str(info.value)
    # with the SDK retrying too (three times, before) the server would have seen 4
    assert openai_server.stats.received == 2 and openai_server.stats.faults["500"] == 2


@pytest.mark.server(require_key="the-right-key-0000")
def test_a_refusal_that_retrying_cannot_mend_is_sent_once(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="401"):
        embedder(openai_server, tmp_path, attempts=5)(["how many books?"])
    assert openai_server.stats.received == 1
