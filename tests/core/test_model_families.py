"""Model families: a reasoning model gets the parameters it takes; chat models' requests (and hashes) are unchanged."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.client import ChatRequest
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RunFinished
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

MESSAGES = (
    {"role": "system", "content": "Answer with one SQLite query."},
    {"role": "user", "content": "Question: How many singers do we have?"},
)


def test_the_hash_of_a_default_chat_model_request_is_unchanged() -> None:
    profile = EndpointProfile(name="openai", base_url="https://api.openai.com/v1", model="gpt-4o-mini")
    request = ChatRequest(MESSAGES, {**profile.params})
    # computed before model families existed: the cache of every chat model's answers stays valid
    assert request.fingerprint(profile) == "74a6a5b50708f9f182c019a68857f5e871e19829dc88886bc26eb8149958c171"
    assert request.body(profile) == {"model": "gpt-4o-mini", "messages": list(MESSAGES), **profile.params}


@pytest.mark.parametrize(
    ("model", "family"),
    [("gpt-4o-mini", "chat"), ("gold", "chat"), ("o1", "reasoning"), ("o3-mini", "reasoning"),
     ("o4-mini-2025-04-16", "reasoning"), ("gpt-5", "reasoning"), ("gpt-5.1-mini", "reasoning"),
     ("ft:o4-mini:acme:sql:abc123", "reasoning"), ("openrouter/o3", "reasoning"), ("o10-fake", "chat"),
     ("gpt-4.1", "chat")],
)  # fmt: skip
def test_the_family_comes_from_the_model_name(model: str, family: str) -> None:
    assert EndpointProfile(name="p", base_url="http://x/v1", model=model).model_family == family


def test_reasoning_models_get_max_completion_tokens_and_no_sampling_parameters() -> None:
    profile = EndpointProfile(name="p", base_url="http://x/v1", model="o4-mini")
    params = {"temperature": 0.0, "top_p": 1, "max_tokens": 512, "seed": 3}
    assert profile.accepted_params(params) == {"max_completion_tokens": 512, "seed": 3}
    chat = EndpointProfile(name="p", base_url="http://x/v1", model="o4-mini", family="chat")
    assert chat.accepted_params(params) == params  # the profile's override wins
    request = ChatRequest(MESSAGES, params)
    assert request.fingerprint(profile) != request.fingerprint(chat)  # what is sent differs: so does the hash


def test_a_profiles_family_is_validated() -> None:
    data = {"name": "p", "base_url": "http://x/v1", "model": "m"}
    assert EndpointProfile.from_json(data | {"family": "reasoning"}).model_family == "reasoning"
    with pytest.raises(ProfileError, match=r"^profile: family: expected one of chat, reasoning, got 'fast'$"):
        EndpointProfile.from_json(data | {"family": "fast"})
    with pytest.raises(ProfileError, match="family"):
        EndpointProfile.from_json(data | {"family": 3})


def test_the_server_refuses_what_a_reasoning_model_does_not_take(openai_server: OpenAITestServer) -> None:
    body = {"model": "o4-mini", "messages": list(MESSAGES), "temperature": 0.0, "max_tokens": 512}
    request = urllib.request.Request(openai_server.base_url + "/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 400 and json.loads(info.value.read())["error"]["param"] == "max_tokens"


def test_a_reasoning_model_variant_runs(openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    profile = EndpointProfile(name="o", base_url=openai_server.base_url, model="o4-mini", timeout_s=5)
    variants = build_variants([VariantSpec("reasoning", "o", None)], dataset, store, {"o": profile})

    async def go() -> list[Event]:
        return [e async for e in Runner(store, dataset, "dev", variants, "r", limit=5).events()]

    events = asyncio.run(go())
    assert not [e for e in events if isinstance(e, ItemFailed)]
    assert sum(isinstance(e, ItemScored) for e in events) == 5 and isinstance(events[-1], RunFinished)
