"""Retrieval recipes find hand-made near-duplicates, never leak the item itself, and link schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.data.dataset import Dataset, Item
from workbench.core.prompts.context import ContextBuilder, load_template
from workbench.core.retrieval.bm25 import QuestionBM25
from workbench.core.retrieval.masked import MaskedQuestion
from workbench.core.retrieval.schema_linking import link_schema
from workbench.core.retrieval.skeleton import SkeletonSimilarity, sql_skeleton


def item(i: int, q: str, sql: str, db: str = "library") -> Item:
    return Item(i, db, q, sql, "test")


POOL = [
    item(0, "How many books are in the Poetry genre?", "SELECT count(*) FROM book WHERE genre = 'Poetry'"),
    item(1, "Which members live in Porto?", "SELECT name FROM member WHERE city = 'Porto'"),
    item(
        2,
        "List the titles of books by Ada Okafor.",
        "SELECT T1.title FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.name = 'Ada Okafor'",
    ),
    item(3, "What is the average price of books?", "SELECT avg(price) FROM book"),
    item(4, "How many patients live in Leeds?", "SELECT count(*) FROM patient WHERE city = 'Leeds'", "clinic"),
]


def test_bm25_finds_the_near_duplicate(demo_path: Path) -> None:
    r = QuestionBM25().fit(POOL)
    query = item(9, "How many books belong to the Mystery genre?", "")
    assert r.retrieve(query, 1)[0].item.index == 0


def test_masked_question_matches_structure_across_names(demo_path: Path) -> None:
    r = MaskedQuestion(Dataset(demo_path).schema).fit(POOL)
    query = item(9, "Which members live in Graz?", "")
    top = r.retrieve(query, 2)
    assert top[0].item.index == 1 and top[0].score == pytest.approx(1.0)


def test_skeleton_retrieval_uses_the_draft_not_the_gold() -> None:
    r = SkeletonSimilarity().fit(POOL)
    query = item(9, "Titles of books by Sven Sato?", "SELECT whatever")
    draft = "SELECT T1.title FROM book AS T1 JOIN author AS T2 ON T1.author_id = T2.author_id WHERE T2.name = 'x'"
    assert r.retrieve(query, 1, draft=draft)[0].item.index == 2
    with pytest.raises(ValueError, match="needs a draft"):
        r.retrieve(query, 1)
    assert sql_skeleton("SELECT count(*) FROM t WHERE a = 'x'") == [
        "select",
        "count",
        "l_paren",
        "star",
        "r_paren",
        "from",
        "_",
        "where",
        "_",
        "eq",
        "?",
    ]


@pytest.mark.parametrize("recipe", [QuestionBM25, MaskedQuestion, SkeletonSimilarity])
def test_the_item_itself_is_never_retrieved(demo_path: Path, recipe: type) -> None:
    ds = Dataset(demo_path)
    train = ds.load_split("train").items
    r = recipe(ds.schema) if recipe is MaskedQuestion else recipe()
    r.fit(train)
    for it in train[::7]:
        found = r.retrieve(it, 5, draft=it.query if recipe is SkeletonSimilarity else None)
        assert all(not (s.item.question == it.question and s.item.db_id == it.db_id) for s in found)


def test_schema_linking(demo_path: Path) -> None:
    schema = Dataset(demo_path).schema("library")
    ranked = link_schema("Which books were written by Ada?", schema, top=0)
    assert ranked[0][0] == "book" and len(ranked) == 4
    kept = [name for name, _ in link_schema("How many loans has the member Ada made?", schema, top=2)]
    assert set(kept) == {"loan", "member"}


def test_context_preview_sends_nothing_and_shows_everything(demo_path: Path) -> None:
    ds = Dataset(demo_path)
    builder = ContextBuilder(ds, load_template("few_shot"), retrieval="bm25", k=2, schema_tables=2)
    it = ds.load_split("dev").items[4]
    ctx = builder.build(it)
    assert len(ctx.examples) == 2 and all(e.score > 0 for e in ctx.examples)
    assert [m["role"] for m in ctx.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert ctx.messages[-1]["content"].endswith(f"Question: {it.question}")
    assert (
        "CREATE TABLE book" in ctx.messages[-1]["content"] and "CREATE TABLE member" not in ctx.messages[-1]["content"]
    )
    assert ctx.token_count > 100 and "estimate" in ctx.token_label
    assert it.query not in "\n".join(m["content"] for m in ctx.messages)  # no leakage of the gold answer


def test_dense_retrieval_through_an_embeddings_endpoint_with_a_disk_cache(
    openai_server: object, tmp_path: Path
) -> None:
    from workbench.core.endpoints.embeddings import Embedder, EmbeddingCache
    from workbench.core.endpoints.profiles import EndpointProfile
    from workbench.core.retrieval.dense import DenseQuestion

    profile = EndpointProfile(name="emb", base_url=openai_server.base_url, model="bow-64")  # type: ignore[attr-defined]
    cache = EmbeddingCache(tmp_path / "vectors.sqlite")
    first = Embedder(profile, cache)
    r = DenseQuestion(first).fit(POOL)
    query = item(9, "How many books are in the Travel genre?", "")
    top = r.retrieve(query, 2)
    assert top[0].item.index == 0 and top[0].score > top[1].score
    assert all(s.item.index != 9 for s in top)
    assert first.requests == 2  # the pool in one batch, then the query

    again = Embedder(profile, cache)  # a new process would find the vectors on disk
    DenseQuestion(again).fit(POOL).retrieve(query, 2)
    assert again.requests == 0
    assert r.retrieve(POOL[1], 1)[0].item.index != 1  # never the item itself


def test_builds_in_threads_at_once_fit_the_retriever_once(
    openai_server: object, demo_path: Path, tmp_path: Path
) -> None:
    """Runs and previews build contexts in worker threads; the first fit is shared, not repeated per thread."""
    from concurrent.futures import ThreadPoolExecutor

    from workbench.core.endpoints.embeddings import BATCH, Embedder, EmbeddingCache
    from workbench.core.endpoints.profiles import EndpointProfile

    profile = EndpointProfile(name="emb", base_url=openai_server.base_url, model="bow-64")  # type: ignore[attr-defined]
    embedder = Embedder(profile, EmbeddingCache(tmp_path / "vectors.sqlite"))
    dataset = Dataset(demo_path)
    builder = ContextBuilder(dataset, load_template("few_shot"), "dense", 2, embedder=embedder)
    train = dataset.load_split("train").items
    with ThreadPoolExecutor(8) as threads:  # train questions: once fitted, their vectors are all on disk
        contexts = list(threads.map(builder.build, train[:8]))
    assert all(len(c.examples) == 2 for c in contexts)
    unique = len({i.question for i in train})
    assert embedder.requests == -(-unique // BATCH)  # the train split embedded once, in batches
