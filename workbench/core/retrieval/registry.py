"""Every retrieval recipe, once: what it needs and where it can be used, and the factory that makes it.

Every list of recipes (the variant editor, the fine-tune dialog, ``finetune export --retrieval``,
the variant-file check, a spec's problems, the batch refusal) reads this table. A new recipe is
its module, one ``register`` line here and its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workbench.core.data.schema import Schema
from workbench.core.retrieval.base import ExampleRetriever
from workbench.core.retrieval.bm25 import QuestionBM25
from workbench.core.retrieval.dense import DenseQuestion, TextEmbedder
from workbench.core.retrieval.masked import MaskedQuestion
from workbench.core.retrieval.same_db import SameDatabaseFirst
from workbench.core.retrieval.skeleton import SkeletonSimilarity


@dataclass(frozen=True)
class RecipeInputs:
    """What a factory may use: the dataset's schemas, and an embedder when the recipe needs embeddings."""

    schemas: Callable[[str], Schema]
    embedder: TextEmbedder | None = None


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    make: Callable[[RecipeInputs], ExampleRetriever | None]  # None: no examples
    needs_draft: bool = False  # HyDE: the model drafts an answer first, examples are picked by it
    needs_embeddings: bool = False  # a variant names an embedding profile (an endpoint with /v1/embeddings)
    batch: bool = True  # usable in a Batch API run (one round of answers)
    export: bool = True  # usable to export fine-tuning data (gold answers, no model in the loop)


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    RECIPES[recipe.name] = recipe
    return recipe


def _dense(inputs: RecipeInputs) -> DenseQuestion:
    if inputs.embedder is None:
        raise ValueError("dense retrieval needs an embedding endpoint (embedding_profile)")
    return DenseQuestion(inputs.embedder)


register(Recipe("none", "no examples", lambda inputs: None))
register(Recipe("bm25", "question words (Okapi BM25)", lambda inputs: QuestionBM25()))
register(Recipe("masked", "question words, schema names and values masked", lambda i: MaskedQuestion(i.schemas)))
register(
    Recipe(
        "skeleton",
        "SQL skeleton of a draft answer (HyDE)",
        lambda i: SkeletonSimilarity(),
        needs_draft=True,
        batch=False,
        export=False,
    )
)
register(Recipe("dense", "question embeddings", _dense, needs_embeddings=True, export=False))
register(Recipe("same_db", "the first k questions of the same database", lambda inputs: SameDatabaseFirst()))


def recipe_names() -> list[str]:
    return list(RECIPES)


def export_recipes() -> list[str]:
    """The recipes that can build fine-tuning data."""
    return [r.name for r in RECIPES.values() if r.export]


def recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown retrieval recipe {name!r} (known: {', '.join(RECIPES)})")
    return RECIPES[name]


def make_retriever(
    name: str, schemas: Callable[[str], Schema], embedder: TextEmbedder | None = None
) -> ExampleRetriever | None:
    return recipe(name).make(RecipeInputs(schemas, embedder))
