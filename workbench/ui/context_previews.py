"""The context preview's builders: what a variant sends for a question, built off the event loop.

A preview's first build fits the variant's retriever on the train split (seconds on a
large one) or waits for an embeddings endpoint; each build runs in a worker thread so
the window stays responsive. One ``ContextBuilder`` per (variant spec, split) is kept,
so its retriever is fitted once (its lock makes two builds at once fit it once).
"""

from __future__ import annotations

import asyncio

from workbench.core.data.dataset import Dataset, Item
from workbench.core.prompts.context import Context, ContextBuilder
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import context_builder
from workbench.core.store import Store


class ContextPreviews:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._builders: dict[tuple[VariantSpec, str], ContextBuilder] = {}

    def clear(self) -> None:
        """Forget the builders (another dataset, or other variants)."""
        self._builders.clear()

    async def build(self, spec: VariantSpec, dataset: Dataset, split: str, item: Item) -> Context:
        """What ``spec`` sends for ``item`` (raises TemplateProblem or ValueError)."""
        key = (spec, split)
        builder = self._builders.get(key)
        if builder is None:
            builder = context_builder(spec, dataset, self.store)
            self._builders[key] = builder
        return await asyncio.to_thread(builder.build, item)
