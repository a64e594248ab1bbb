"""The one builder: ``VariantSpec`` -> runnable ``Variant``, for the GUI, the CLI, the local presets, batch and benches.

A spec's template version comes from the store; a spec without one gets the plain prompt
(the schema, then the question). The retrieval recipe comes from the registry, with what it
needs: an embedder over the spec's embedding profile, and for HyDE a draft prompt. The draft
prompt is the bundled zero-shot template of the variant's mode (``zero_shot`` for chat,
``completion_few_shot`` for completion), rendered without examples, everywhere.
"""

from __future__ import annotations

from typing import Any

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.endpoints.embeddings import Embedder
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import PLAIN_PROMPT, ContextBuilder, load_template
from workbench.core.prompts.template_bounds import DEFAULT_LIMITS, TemplateLimits
from workbench.core.prompts.templates import PromptTemplate
from workbench.core.retrieval.registry import RECIPES
from workbench.core.runs.runner import Variant
from workbench.core.runs.runspec import COMPLETION_PREFIX, COMPLETION_STOP, LOCAL_PROFILE, SpecError, VariantSpec
from workbench.core.store import Store

DRAFT_TEMPLATES = {"chat": "zero_shot", "completion": "completion_few_shot"}  # HyDE's first prompt, per mode


def build_variants(
    specs: list[VariantSpec],
    dataset: Dataset,
    store: Store,
    profiles: dict[str, EndpointProfile],
    limits: TemplateLimits = DEFAULT_LIMITS,
) -> list[Variant]:
    """Runnable variants; ``profiles`` must hold "local" when a spec uses the embedded model.

    Raises ``SpecError`` naming every problem of every spec, before anything is built.
    """
    problems = [p for spec in specs for p in spec.problems(profiles, store)]
    missing_local = [s.name for s in specs if s.profile == LOCAL_PROFILE and LOCAL_PROFILE not in profiles]
    if missing_local:
        problems.append(f"the local model is not running (needed by {', '.join(missing_local)})")
    if problems:
        raise SpecError("; ".join(problems))
    variants = []
    for spec in specs:
        recipe = RECIPES[spec.retrieval]
        embedder = Embedder(profiles[spec.embedding_profile]) if recipe.needs_embeddings else None
        context = context_builder(spec, dataset, store, limits, embedder)
        if spec.retrieval != "none":  # the examples' split, read now rather than mid-run
            try:
                dataset.load_split(context.train_split)
            except DatasetError as exc:
                raise SpecError(f"variant {spec.name!r}: {exc}") from None
        params: dict[str, Any] = {"stop": COMPLETION_STOP} if spec.mode == "completion" else {}
        if spec.grammar:
            params["grammar"] = spec.grammar
        prefix = COMPLETION_PREFIX if spec.mode == "completion" else ""
        variants.append(Variant(spec.name, profiles[spec.profile], context, params, spec.mode, prefix))
    return variants


def context_builder(
    spec: VariantSpec,
    dataset: Dataset,
    store: Store,
    limits: TemplateLimits = DEFAULT_LIMITS,
    embedder: Embedder | None = None,
) -> ContextBuilder:
    """The prompt side of a spec (template version, retrieval, schema linking), for runs, previews and exports."""
    template = _template(spec, store)
    split = spec.train_split
    if split == "train" and split not in dataset.splits and dataset.splits:
        split = dataset.splits[0]
    draft = load_template(DRAFT_TEMPLATES[spec.mode]) if RECIPES[spec.retrieval].needs_draft else None
    return ContextBuilder(
        dataset,
        template,
        spec.retrieval,
        spec.k,
        spec.schema_tables,
        spec.template_version,
        draft_template=draft,
        limits=limits,
        train_split=split,
        embedder=embedder,
    )


def _template(spec: VariantSpec, store: Store) -> PromptTemplate:
    if spec.template_version is None:
        return PLAIN_PROMPT
    version = store.prompt_version(spec.template_version)
    return PromptTemplate.parse(version.name, version.body, source=spec.template_source or version.name)
