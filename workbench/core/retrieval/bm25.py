"""The bm25 recipe: training questions ranked by their words (Okapi BM25)."""

from __future__ import annotations

from workbench.core.data.dataset import Item
from workbench.core.retrieval.base import ExampleRetriever
from workbench.core.retrieval.text_index import words


class QuestionBM25(ExampleRetriever):
    name = "bm25"

    def key(self, item: Item) -> list[str]:
        return words(item.question)
