"""Variant files: a TOML list of variants, each template x retrieval x endpoint profile.

[[variant]]
name = "few-shot, masked"
profile = "gpt-4o-mini"      # an endpoint profile name
template = "few_shot"        # a bundled template or a .prompt file
retrieval = "masked"         # a recipe of retrieval.registry: none | bm25 | masked | skeleton | dense | same_db
k = 3                        # an integer >= 0
schema_tables = 0            # keep the top N linked tables (0: all)
embedding_profile = "..."    # for dense: a profile whose endpoint serves /v1/embeddings

train_split = "train"        # where the examples come from

[limits]                     # optional: bounds on every SQL statement of the run
time_limit = 10              # seconds per statement (a number > 0)
memory_limit = 512           # MB per execution worker (an integer >= 64)

Each checked table becomes a ``VariantSpec`` (``spec_from_entry``), the same description the
GUI's editor makes; its template is kept as a version in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.data.inputs import InputError, expect, expect_range, read_toml, type_name
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.retrieval.registry import RECIPES
from workbench.core.runs.runspec import SpecError, VariantSpec
from workbench.core.sandbox.watchdog import MIN_MEMORY_LIMIT_MB
from workbench.core.store import Store

# field -> (TOML kind, lowest allowed value for numbers)
FIELDS: dict[str, tuple[str, int | None]] = {
    "name": ("string", None),
    "profile": ("string", None),
    "template": ("string", None),
    "retrieval": ("string", None),
    "k": ("integer", 0),
    "schema_tables": ("integer", 0),
    "train_split": ("string", None),
    "embedding_profile": ("string", None),
}


# [limits] field -> (TOML kind, lowest allowed value, whether the lowest itself is allowed)
LIMIT_FIELDS: dict[str, tuple[str, float, bool]] = {"time_limit": ("number", 0.0, False),
                                                    "memory_limit": ("integer", MIN_MEMORY_LIMIT_MB, True)}  # fmt: skip


class VariantFileError(InputError):
    pass


def read_limits(path: Path) -> dict[str, float]:
    """The file's optional ``[limits]`` table: ``time_limit`` (s) and ``memory_limit`` (MB) for the run's SQL."""
    table = read_toml(path, VariantFileError).get("limits", {})
    if not isinstance(table, dict):
        raise VariantFileError(f"{path}: limits: expected a [limits] table, got {type_name(table)}")
    for key, value in table.items():
        if key not in LIMIT_FIELDS:
            raise VariantFileError(f"{path}: limits: unknown field {key!r} (known: {', '.join(LIMIT_FIELDS)})")
        kind, lowest, inclusive = LIMIT_FIELDS[key]
        expect(value, kind, f"{path}: limits: {key}", VariantFileError)
        if value < lowest or (value == lowest and not inclusive):
            bound = f"at least {lowest:g}" if inclusive else f"more than {lowest:g}"
            raise VariantFileError(f"{path}: limits: {key}: expected {bound}, got {value}")
    return {key: float(value) for key, value in table.items()}


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict):
        raise VariantFileError(f"{where}: expected a [[variant]] table, got {type_name(entry)}")
    for key, value in entry.items():
        if key not in FIELDS:
            raise VariantFileError(f"{where}: unknown field {key!r} (known: {', '.join(FIELDS)})")
        kind, minimum = FIELDS[key]
        expect(value, kind, f"{where}: {key}", VariantFileError)
        if minimum is not None:
            expect_range(value, f"{where}: {key}", VariantFileError, minimum=minimum)
    for key in ("name", "profile"):
        if key not in entry:
            raise VariantFileError(f"{where}: missing field {key!r}")
    if entry.get("retrieval", "none") not in RECIPES:
        raise VariantFileError(f"{where}: retrieval must be one of {', '.join(RECIPES)}, not {entry['retrieval']!r}")
    recipe = RECIPES[entry.get("retrieval", "none")]
    if recipe.needs_embeddings and "embedding_profile" not in entry:
        raise VariantFileError(
            f"{where}: {recipe.name} retrieval needs embedding_profile (an endpoint with /v1/embeddings)"
        )


def read_variant_file(path: Path) -> dict[str, dict[str, Any]]:
    data = read_toml(path, VariantFileError)
    entries = data.get("variant")
    if not isinstance(entries, list) or not entries:
        got = "nothing" if entries is None else type_name(entries)
        raise VariantFileError(f"{path}: variant: expected one or more [[variant]] tables, got {got}")
    variants: dict[str, dict[str, Any]] = {}
    for k, entry in enumerate(entries):
        where = f"{path}: variant {k + 1}"
        _check_entry(entry, where)
        if entry["name"] in variants:
            raise VariantFileError(f"{where}: the name {entry['name']!r} is used twice")
        variants[entry["name"]] = entry
    return variants


def spec_from_entry(name: str, entry: dict[str, Any], store: Store) -> VariantSpec:
    """The spec of a checked ``[[variant]]`` table; its template (bundled, or a .prompt file) is stored as a version.

    Without a template or retrieval it is the plain prompt; with retrieval alone, ``zero_shot``.
    """
    retrieval = str(entry.get("retrieval", "none"))
    version, source = None, ""
    if "template" in entry or retrieval != "none":
        try:
            template = load_template(str(entry.get("template", "zero_shot")))
        except ValueError as exc:  # an unknown name, or a file that is unreadable or does not parse
            raise SpecError(f"variant {name!r}: {exc}") from None
        version, source = store.version_for(template.name, template.text), template.source
    return VariantSpec(
        name,
        str(entry["profile"]),
        version,
        retrieval,
        int(entry.get("k", 3)),
        int(entry.get("schema_tables", 0)),
        embedding_profile=str(entry.get("embedding_profile", "")),
        train_split=str(entry.get("train_split", "train")),
        template_source=source,
    )


def specs_for(
    names: list[str], entries: dict[str, dict[str, Any]], known: dict[str, EndpointProfile], store: Store
) -> tuple[list[VariantSpec], dict[str, EndpointProfile]]:
    """The specs of the variants named (a variant of the file, or an endpoint profile's name alone), and the
    profiles they use; raises ``SpecError`` for a profile that is not known."""
    specs: list[VariantSpec] = []
    used: dict[str, EndpointProfile] = {}
    for name in names:
        entry = entries.get(name, {"profile": name})
        if entry["profile"] not in known:
            raise SpecError(
                f"no endpoint profile named {entry['profile']!r} (known: {', '.join(sorted(known)) or 'none'})"
            )
        embedding = entry.get("embedding_profile")
        if embedding is not None and embedding not in known:
            raise SpecError(f"variant {name!r}: no endpoint profile named {embedding!r}")
        used.update({p: known[p] for p in (entry["profile"], embedding) if p is not None})
        specs.append(spec_from_entry(name, entry, store))
    return specs, used
