"""Variant specifications: what a variant is made of, as plain data that a run stores.

A ``VariantSpec`` is the one description of a variant: an endpoint profile, a template
version from the store (or none: the plain prompt), a retrieval recipe and the prompt mode.
The GUI's editor, a TOML variant file (``variant_file``) and the local presets all make
specs; the store keeps them with each run (so a run can be resumed after the app is
closed), and ``variant_builder.build_variants`` turns them into runnable ``Variant`` objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.retrieval.registry import RECIPES
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
    template_version: int | None  # a prompt version id in the store; None: the plain prompt
    retrieval: str = "none"
    k: int = 3
    schema_tables: int = 0
    mode: str = "chat"  # "completion": one prompt that ends in SELECT, answered as plain text
    embedding_profile: str = ""  # for a recipe that needs embeddings: a profile that serves /v1/embeddings
    train_split: str = "train"  # where the examples come from ("train" falls back to the first split)
    grammar: str = ""  # a llama.cpp GBNF grammar every answer must follow (local models)
    template_source: str = ""  # the file the template was read from, named in its problems (default: its name)

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
        elif RECIPES[self.retrieval].needs_embeddings and self.embedding_profile not in profiles:
            out.append(
                f"{self.name}: {self.retrieval} retrieval needs an embedding profile (got {self.embedding_profile!r})"
            )
        if self.mode not in MODES:
            out.append(f"{self.name}: unknown mode {self.mode!r} (chat or completion)")
        if self.template_version is not None:
            try:
                store.prompt_version(self.template_version)
            except StoreError:
                out.append(f"{self.name}: prompt version {self.template_version} is not in the store")
        return out
