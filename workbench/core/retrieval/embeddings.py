"""Dense question similarity: questions ranked by the cosine of their embeddings.

The vectors (and their disk cache) come from the endpoint layer's ``Embedder``
(``core.endpoints.embeddings``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.core.data.dataset import Item
from workbench.core.endpoints.embeddings import Embedder
from workbench.core.retrieval.retrievers import ExampleRetriever, Scored, _same_question


class DenseQuestion(ExampleRetriever):
    """Questions ranked by cosine similarity of their embeddings."""

    name = "dense"

    def __init__(self, embedder: Embedder) -> None:
        super().__init__()
        self.embedder = embedder
        self.matrix = np.zeros((0, 1), dtype=np.float32)

    def fit(self, items: Sequence[Item]) -> DenseQuestion:
        self.items = list(items)
        self.matrix = self.embedder([i.question for i in self.items])
        return self

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        if not self.items:
            return []
        sims = self.matrix @ self.embedder([item.question])[0]
        order = np.argsort(-sims, kind="stable")
        out: list[Scored] = []
        for i in order:
            candidate = self.items[int(i)]
            if _same_question(candidate, item):
                continue
            out.append(Scored(candidate, float(sims[i])))
            if len(out) == k:
                break
        return out
