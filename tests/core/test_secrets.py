"""Masking keys: a table of texts, the keys a process uses, hostile input, and the store as the last line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workbench.core import secrets
from workbench.core.secrets import mask
from workbench.core.store import ScoreRow, Store

PROJ = "sk-proj-" + "Zq9rT2xw" * 6 + "4f60"
PLAIN = "sk-" + "a1B2c3D4e5" * 4 + "77Aa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Incorrect API key provided: {PROJ}.", "Incorrect API key provided: sk-proj-…4f60."),
        (f"key={PLAIN}&x=1", "key=sk-…77Aa&x=1"),
        ("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9-abcd", "Authorization: Bearer …abcd"),
        ("bearer   tok_live_0123456789wxyz", "bearer   …wxyz"),
        ("sk-short is not a key; ask-me-anything-at-all-today neither", None),
        ("the bearer of bad news, bearer information", None),
        ("no such column: sk_customer_dimension_key", None),
        ("a task-list-with-many-words-and-hyphens stays", None),
        ("sk-…4f60 is already masked", None),
        ("", None),
    ],
)
def test_key_like_strings_are_masked_to_a_prefix_and_their_last_four(text: str, expected: str | None) -> None:
    assert mask(text) == (text if expected is None else expected)
    assert mask(mask(text)) == mask(text)


def test_the_keys_in_use_are_masked_whatever_they_look_like() -> None:
    odd = "gw_0f3c9a8b7e6d5c4b3a29"  # a gateway key with no known shape
    assert mask(f"bad key {odd}") == f"bad key {odd}"
    assert mask(f"bad key {odd}!", known=[odd]) == "bad key …3a29!"
    secrets.remember(odd)
    try:
        assert mask(f"echo: {odd} / {odd}") == "echo: …3a29 / …3a29"
    finally:
        secrets._KNOWN.discard(odd)


@pytest.mark.parametrize(
    "hostile",
    ["sk-" + "a" * 100_000, "sk-a-" * 20_000, "Bearer " * 15_000, ("sk-" + "b" * 19 + " ") * 4_500, "sk-" * 33_000],
)
def test_masking_is_linear_on_hostile_text(hostile: str) -> None:
    start = time.perf_counter()
    mask(hostile)
    assert time.perf_counter() - start < 0.25


def test_the_store_masks_errors_reasons_and_job_text_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    store = Store(path)
    store.save_response("h", "http://x/v1", "m", [], {}, ok=False, text=None, error=f"http 401: {PROJ}")
    dataset = store.dataset_id("/d", "d")
    variant = store.variant_id("v", "http://x/v1", "m", {})
    run = store.create_run("r", dataset, "dev", None, [variant])
    store.save_score(run, ScoreRow(variant_id=variant, item_index=0, db_id="db", status="failed",
                                   reason=f"http 401: {PROJ}", request_hash="h"))  # fmt: skip
    store.save_job("ftjob-1", "p", "base", "failed", {})
    store.update_job("ftjob-1", error=f"refused {PLAIN}")
    store.save_job_events("ftjob-1", [{"id": "e1", "message": f"Bearer {PLAIN}", "data": {"key": PROJ}}])
    assert [r.reason for r in store.scores(run)] == ["http 401: sk-proj-…4f60"]
    assert store.job("ftjob-1")["error"] == "refused sk-…77Aa"
    assert store.job_events("ftjob-1")[0]["data"] == {"key": "sk-proj-…4f60"}
    store.close()
    for file in tmp_path.iterdir():
        assert PROJ.encode() not in file.read_bytes() and PLAIN.encode() not in file.read_bytes(), file


@pytest.mark.server(require_key="the-right-key-0000")
def test_an_embeddings_endpoint_echoing_the_key_raises_it_masked(
    openai_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.core.endpoints.embeddings import Embedder, EmbeddingCache, EmbeddingError
    from workbench.core.endpoints.profiles import EndpointProfile

    monkeypatch.setenv("WB_EMBED_KEY", PLAIN)
    url = openai_server.base_url  # type: ignore[attr-defined]
    embedder = Embedder(EndpointProfile(name="emb", base_url=url, model="bow-64", api_key_env="WB_EMBED_KEY"),
                        EmbeddingCache(tmp_path / "vectors.sqlite"))  # fmt: skip
    with pytest.raises(EmbeddingError) as info:
        embedder(["how many books?"])
    assert PLAIN not in str(info.value) and "sk-…77Aa" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
