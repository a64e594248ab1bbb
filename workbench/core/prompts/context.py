"""What a variant sends for a question, built without sending anything (the context preview).

A ``ContextBuilder`` holds the prompt side of a variant: a template (and the stored version
it came from), a retrieval recipe with its k, and schema linking. It turns (item[, draft])
into the exact messages, the retrieved examples with scores, the schema subset, and a token
count (an estimate unless a tokenizer is given, and marked as such). Variants get theirs
from ``runs.variant_builder``; previews and exports make one directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.data.dataset import Dataset, Item
from workbench.core.data.inputs import read_text
from workbench.core.data.schema import Schema
from workbench.core.prompts.template_bounds import DEFAULT_LIMITS, TemplateLimits
from workbench.core.prompts.templates import PromptTemplate, SchemaView, bundled_templates
from workbench.core.retrieval.base import ExampleRetriever, Scored
from workbench.core.retrieval.dense import TextEmbedder
from workbench.core.retrieval.registry import make_retriever, recipe
from workbench.core.retrieval.schema_linking import link_schema
from workbench.paths import RESOURCES

TEMPLATES_DIR = RESOURCES / "templates"


def load_template(name_or_path: str) -> PromptTemplate:
    """A bundled template by name (``few_shot``) or a ``.prompt`` file by path."""
    path = Path(name_or_path)
    if path.suffix == ".prompt" and path.exists():
        text = read_text(path)  # one line naming the file when it is a folder, unreadable or not UTF-8
        return PromptTemplate.parse(path.stem, text, str(path))  # a problem names the file, line and column
    bundled = bundled_templates(TEMPLATES_DIR)
    if name_or_path not in bundled:
        raise ValueError(f"no template {name_or_path!r} (bundled: {', '.join(bundled)}; or give a .prompt file)")
    return bundled[name_or_path]


PLAIN_PROMPT = PromptTemplate.parse(
    "plain",
    "### system\nYou translate questions about a SQLite database into one SQLite query. "
    "Reply with the query alone in a ```sql code block.\n"
    "### user\nDatabase schema:\n{{ schema }}\n\nQuestion: {{ question }}\n",
    source="the plain prompt",
)  # a variant without a template: the schema, then the question (never stored as a version)


@dataclass
class Context:
    messages: list[dict[str, str]]
    examples: list[Scored]
    schema_tables: list[tuple[str, float]]
    token_count: int
    token_count_exact: bool
    draft: str | None = None

    @property
    def token_label(self) -> str:
        return f"{self.token_count} tokens" + ("" if self.token_count_exact else " (estimate: characters / 4)")


@dataclass
class ContextBuilder:
    dataset: Dataset
    template: PromptTemplate
    retrieval: str = "none"  # a recipe in retrieval.registry
    k: int = 3
    schema_tables: int = 0  # keep the top N linked tables; 0 keeps all
    template_version: int | None = None  # the stored version the template came from (None: not stored)
    draft_template: PromptTemplate | None = None  # for a recipe that needs a draft: the prompt asking for it
    limits: TemplateLimits = DEFAULT_LIMITS  # output size, loop budget and time per rendered prompt
    train_split: str = "train"
    tokenizer: Callable[[str], int] | None = None
    embedder: TextEmbedder | None = None  # for a recipe that needs embeddings
    _retrievers: dict[str, ExampleRetriever | None] = field(default_factory=dict, init=False, repr=False)
    _fitting: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def needs_draft(self) -> bool:
        return recipe(self.retrieval).needs_draft

    def retriever(self, name: str | None = None) -> ExampleRetriever | None:
        """The recipe's retriever, fitted on the train split on first use (once, whichever thread asks first)."""
        name = name or self.retrieval
        with self._fitting:  # builds run in worker threads: two items at once must not fit it twice
            if name not in self._retrievers:
                retriever = make_retriever(name, self.dataset.schema, self.embedder)
                if retriever is not None:
                    retriever.fit(self.dataset.load_split(self.train_split).items)
                self._retrievers[name] = retriever
            return self._retrievers[name]

    def _tables(self, item: Item, schema: Schema) -> list[tuple[str, float]]:
        return link_schema(item.question, schema, top=self.schema_tables)

    def build(self, item: Item, draft: str | None = None) -> Context:
        schema = self.dataset.schema(item.db_id)
        tables = self._tables(item, schema)
        keep = [name for name, _ in tables] if self.schema_tables else None
        view = SchemaView(schema, self.dataset.database(item.db_id), keep)
        retriever = self.retriever()
        examples: list[Scored] = []
        if retriever is not None and (draft is not None or not self.needs_draft):
            examples = retriever.retrieve(item, self.k, draft=draft)
        variables = {
            "question": item.question,
            "schema": view,
            "examples": [e.as_example() for e in examples],
            "evidence": item.evidence,
            "hyde_draft": draft or "",
        }
        messages = self.template.render(variables, self.limits)
        text = "\n".join(m["content"] for m in messages)
        count = self.tokenizer(text) if self.tokenizer else len(text) // 4 + len(messages) * 4
        return Context(messages, examples, tables, count, self.tokenizer is not None, draft)

    def prefix_path(self, item: Item) -> tuple[object, ...]:
        """What the prompt for ``item`` holds before its question, part by part: the database, the schema
        subset (when linking keeps some tables) and each example in order. The examples are left out where
        knowing them costs a request (a recipe that drafts first or embeds the question); built without
        rendering, for ``runs.ask_order``, which asks items with a shared prefix one after another."""
        parts: list[object] = [item.db_id]
        if self.schema_tables:
            parts.append(tuple(name for name, _ in self._tables(item, self.dataset.schema(item.db_id))))
        chosen = recipe(self.retrieval)
        retriever = None if chosen.needs_draft or chosen.needs_embeddings else self.retriever()
        if retriever is not None:
            parts += [(e.item.db_id, e.item.question, e.item.query) for e in retriever.retrieve(item, self.k)]
        return tuple(parts)

    def draft_messages(self, item: Item) -> list[dict[str, str]]:
        """The first-pass prompt of HyDE: no examples, asks for a draft answer."""
        if self.draft_template is None:
            raise ValueError(f"{self.retrieval} retrieval drafts no answer first")
        template = self.draft_template
        schema = self.dataset.schema(item.db_id)
        view = SchemaView(schema, self.dataset.database(item.db_id))
        return template.render(
            {"question": item.question, "schema": view, "examples": [], "evidence": item.evidence, "hyde_draft": ""},
            self.limits,
        )
