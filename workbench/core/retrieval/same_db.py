"""The same_db recipe: the first k training questions of the question's own database, always the same.

Fixed examples suit small local models, which answer best with a few solved questions of the
same schema right before their own. The question itself is left out when it is among them
(same question and query), so it may get one example fewer.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.core.data.dataset import Item
from workbench.core.retrieval.base import ExampleRetriever, Scored


class SameDatabaseFirst(ExampleRetriever):
    name = "same_db"

    def __init__(self) -> None:
        super().__init__()
        self.by_db: dict[str, list[Item]] = {}

    def fit(self, items: Sequence[Item]) -> SameDatabaseFirst:
        self.items = list(items)
        self.by_db = {}
        for item in self.items:
            self.by_db.setdefault(item.db_id, []).append(item)
        return self

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        first = self.by_db.get(item.db_id, [])[:k]
        return [Scored(ex, 1.0) for ex in first if not (ex.question == item.question and ex.query == item.query)]
