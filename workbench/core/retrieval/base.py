"""What every example recipe is: fit on training items once, then retrieve the top k for a question.

A retriever never returns the query item itself (same question on the same database) and
never looks at the query item's gold SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.data.dataset import Item
from workbench.core.retrieval.text_index import BM25, CosineTfIdf


@dataclass(frozen=True)
class Scored:
    item: Item
    score: float

    def as_example(self) -> dict[str, object]:
        return {
            "question": self.item.question,
            "query": self.item.query,
            "score": round(self.score, 4),
            "db_id": self.item.db_id,
        }


class ExampleRetriever:
    """Base: fit on training items, retrieve the top k for a query item, never itself."""

    name = "base"

    def __init__(self) -> None:
        self.items: list[Item] = []

    def fit(self, items: Sequence[Item]) -> ExampleRetriever:
        self.items = list(items)
        self._index([self.key(i) for i in self.items])
        return self

    def key(self, item: Item) -> list[str]:
        raise NotImplementedError

    def query_key(self, item: Item, draft: str | None) -> list[str]:
        return self.key(item)

    def _index(self, keys: list[list[str]]) -> None:
        self.index: BM25 | CosineTfIdf = BM25(keys)

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        key = self.query_key(item, draft)
        want = k + 8  # a few extra candidates, in case the item itself (or copies of it) rank among them
        while True:
            ranked = self.index.top(key, want)
            out = [Scored(self.items[i], score) for i, score in ranked if not same_question(self.items[i], item)]
            if len(out) >= k or len(ranked) < want:
                return out[:k]
            want *= 4


def same_question(a: Item, b: Item) -> bool:
    return a.db_id == b.db_id and a.question.strip().lower() == b.question.strip().lower()
