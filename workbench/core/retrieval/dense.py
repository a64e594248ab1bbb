"""The dense recipe: training questions ranked by the cosine similarity of their embeddings.

It needs an embedder: any callable that turns texts into unit vectors (one row per text),
such as ``embeddings.Embedder`` over an endpoint's ``/v1/embeddings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from workbench.core.data.dataset import Item
from workbench.core.retrieval.base import ExampleRetriever, Scored, same_question

if TYPE_CHECKING:
    import numpy as np


class TextEmbedder(Protocol):
    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


class DenseQuestion(ExampleRetriever):
    """Questions ranked by cosine similarity of their embeddings."""

    name = "dense"

    def __init__(self, embedder: TextEmbedder) -> None:
        super().__init__()
        self.embedder = embedder
        import numpy as np  # imported when a dense recipe is made, not with the registry

        self.matrix = np.zeros((0, 1), dtype=np.float32)

    def fit(self, items: Sequence[Item]) -> DenseQuestion:
        self.items = list(items)
        self.matrix = self.embedder([i.question for i in self.items])
        return self

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        if not self.items:
            return []
        sims = self.matrix @ self.embedder([item.question])[0]
        import numpy as np

        order = np.argsort(-sims, kind="stable")
        out: list[Scored] = []
        for i in order:
            candidate = self.items[int(i)]
            if same_question(candidate, item):
                continue
            out.append(Scored(candidate, float(sims[i])))
            if len(out) == k:
                break
        return out
