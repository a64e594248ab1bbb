"""Variant files: a TOML list of variants, each template x retrieval x endpoint profile.

[[variant]]
name = "few-shot, masked"
profile = "gpt-4o-mini"      # an endpoint profile name
template = "few_shot"        # a bundled template or a .prompt file
retrieval = "masked"         # none | bm25 | masked | skeleton
k = 3
schema_tables = 0            # keep the top N linked tables (0: all)
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from workbench.core.retrieval import RECIPES

FIELDS = {
    "name": str,
    "profile": str,
    "template": str,
    "retrieval": str,
    "k": int,
    "schema_tables": int,
    "train_split": str,
}


class VariantFileError(ValueError):
    pass


def read_variant_file(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VariantFileError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise VariantFileError(f"{path}: {exc}") from None
    entries = data.get("variant")
    if not isinstance(entries, list) or not entries:
        raise VariantFileError(f"{path}: expected one or more [[variant]] tables")
    variants: dict[str, dict[str, Any]] = {}
    for k, entry in enumerate(entries):
        where = f"{path}: variant {k + 1}"
        for key, value in entry.items():
            if key not in FIELDS:
                raise VariantFileError(f"{where}: unknown field {key!r} (known: {', '.join(FIELDS)})")
            if not isinstance(value, FIELDS[key]):
                raise VariantFileError(f"{where}: {key} should be a {FIELDS[key].__name__}")
        for key in ("name", "profile"):
            if key not in entry:
                raise VariantFileError(f"{where}: missing field {key!r}")
        if entry.get("retrieval", "none") not in RECIPES:
            raise VariantFileError(f"{where}: retrieval must be one of {', '.join(RECIPES)}")
        if entry.get("retrieval") == "dense" and "embedding_profile" not in entry:
            raise VariantFileError(
                f"{where}: dense retrieval needs embedding_profile (an endpoint with /v1/embeddings)"
            )
        if entry["name"] in variants:
            raise VariantFileError(f"{where}: the name {entry['name']!r} is used twice")
        variants[entry["name"]] = entry
    return variants
