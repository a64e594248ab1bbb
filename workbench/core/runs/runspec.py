"""Variant specifications: what a variant is made of, as plain data that a run stores.

A ``VariantSpec`` names an endpoint profile, a template version from the store, a
retrieval recipe and the prompt mode. The GUI edits specs, the store keeps them with
each run (so a run can be resumed after the app is closed), and ``build_variants``
turns them into runnable ``Variant`` objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.embeddings import Embedder
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import ContextBuilder, PromptSpec
from workbench.core.prompts.templates import PromptTemplate
from workbench.core.retrieval.retrievers import RECIPES
from workbench.core.runs.runner import Variant
from workbench.core.store import Store, StoreError

LOCAL_PROFILE = "local"  # the embedded llama.cpp model; never a saved profile
COMPLETION_PREFIX = "SELECT"
COMPLETION_STOP = [";", "\n\n", "\n--"]  # end at the statement, a blank line or a comment
MODES = ("chat", "completion")


class SpecError(ValueError):
    """A variant spec cannot be built (unknown profile, template version, recipe)."""


@dataclass(frozen=True)
class VariantSpec:
    name: str
    profile: str  # an endpoint profile's name, or "local"
    template_version: int  # a prompt version id in the store
    retrieval: str = "none"
    k: int = 3
    schema_tables: int = 0
    mode: str = "chat"  # "completion": one prompt that ends in SELECT, answered as plain text
    embedding_profile: str = ""  # for dense retrieval: a profile that serves /v1/embeddings

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def problems(self, profiles: dict[str, EndpointProfile], store: Store) -> list[str]:
        """Why this spec cannot run, in words (empty when it can)."""
        out = []
        if not self.name.strip():
            out.append("the variant needs a name")
        if self.profile != LOCAL_PROFILE and self.profile not in profiles:
            out.append(f"{self.name}: no endpoint profile named {self.profile!r}")
        if self.retrieval not in RECIPES:
            out.append(f"{self.name}: unknown retrieval {self.retrieval!r} ({', '.join(RECIPES)})")
        if self.mode not in MODES:
            out.append(f"{self.name}: unknown mode {self.mode!r} (chat or completion)")
        if self.retrieval == "dense" and self.embedding_profile not in profiles:
            out.append(f"{self.name}: dense retrieval needs an embedding profile (got {self.embedding_profile!r})")
        try:
            store.prompt_version(self.template_version)
        except StoreError:
            out.append(f"{self.name}: prompt version {self.template_version} is not in the store")
        return out


def build_variants(
    specs: list[VariantSpec],
    dataset: Dataset,
    store: Store,
    profiles: dict[str, EndpointProfile],
    train_split: str = "train",
) -> list[Variant]:
    """Runnable variants; ``profiles`` must hold "local" when a spec uses the embedded model."""
    problems = [p for spec in specs for p in spec.problems(profiles, store)]
    missing_local = [s.name for s in specs if s.profile == LOCAL_PROFILE and LOCAL_PROFILE not in profiles]
    if missing_local:
        problems.append(f"the local model is not running (needed by {', '.join(missing_local)})")
    if problems:
        raise SpecError("; ".join(problems))
    variants = []
    for spec in specs:
        embedder = Embedder(profiles[spec.embedding_profile]) if spec.retrieval == "dense" else None
        context = context_builder(spec, dataset, store, train_split, embedder)
        profile = profiles[spec.profile]
        if spec.mode == "completion":
            params: dict[str, Any] = {"stop": COMPLETION_STOP}
            variants.append(
                Variant(
                    spec.name,
                    profile,
                    params=params,
                    mode="completion",
                    answer_prefix=COMPLETION_PREFIX,
                    context=context,
                )
            )
        else:
            variants.append(Variant(spec.name, profile, context=context))
    return variants


def context_builder(
    spec: VariantSpec, dataset: Dataset, store: Store, train_split: str = "train", embedder: Embedder | None = None
) -> ContextBuilder:
    """The prompt side of a spec (template version, retrieval, schema linking), for runs and previews."""
    version = store.prompt_version(spec.template_version)
    template = PromptTemplate.parse(version.name, version.body, source=version.name)  # problems name it
    hyde = spec.retrieval == "skeleton"
    prompt = PromptSpec(
        template,
        spec.retrieval,
        spec.k,
        spec.schema_tables,
        version.id,
        draft_template=template if hyde else None,
        draft_retrieval="bm25" if hyde else "none",
    )
    split = train_split if train_split in dataset.splits else dataset.splits[0]
    return ContextBuilder(dataset, prompt, train_split=split, embedder=embedder)
