"""The recipe registry drives every list of recipes; a recipe registered here is usable without other edits."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

from workbench.cli import build_parser
from workbench.core.data.dataset import Dataset, Item
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.retrieval.base import ExampleRetriever, Scored
from workbench.core.retrieval.registry import RECIPES, Recipe, export_recipes, recipe_names
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.runs.variant_file import VariantFileError, read_variant_file
from workbench.core.store import Store


class LastQuestions(ExampleRetriever):
    """A recipe only this test knows: the last k training questions."""

    name = "last"

    def fit(self, items: Sequence[Item]) -> LastQuestions:
        self.items = list(items)
        return self

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        return [Scored(i, 0.5) for i in self.items[-k:]]


def subcommand(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


def test_finetune_export_offers_exactly_the_export_capable_recipes() -> None:
    export = subcommand(build_parser(), "finetune", "export")
    (retrieval,) = [a for a in export._actions if "--retrieval" in a.option_strings]
    assert list(retrieval.choices) == export_recipes() == ["none", "bm25", "masked", "same_db"]
    assert set(recipe_names()) >= {"none", "bm25", "masked", "skeleton", "dense", "same_db"}


def test_a_registered_recipe_passes_the_variant_file_and_spec_checks_and_runs(
    monkeypatch: pytest.MonkeyPatch, demo_path: Path, tmp_path: Path
) -> None:
    variants = tmp_path / "variants.toml"
    variants.write_text('[[variant]]\nname = "v"\nprofile = "p"\nretrieval = "last"\n')
    store = Store(tmp_path / "w.sqlite")
    version = store.version_for("few_shot", load_template("few_shot").text)
    spec = VariantSpec("v", "p", version, "last", 2)
    profiles = {"p": EndpointProfile(name="p", base_url="http://127.0.0.1:9", model="m")}
    with pytest.raises(VariantFileError, match="retrieval must be one of"):
        read_variant_file(variants)
    assert any("unknown retrieval 'last'" in p for p in spec.problems(profiles, store))

    monkeypatch.setitem(RECIPES, "last", Recipe("last", "the last k questions", lambda inputs: LastQuestions()))
    assert read_variant_file(variants)["v"]["retrieval"] == "last"
    assert spec.problems(profiles, store) == []
    assert "last" in recipe_names() and "last" in export_recipes()
    (variant,) = build_variants([spec], Dataset(demo_path), store, profiles)
    item = Dataset(demo_path).load_split("dev").items[0]
    assert [e.score for e in variant.context.build(item).examples] == [0.5, 0.5]

    needy = Recipe("last", "the last k questions", lambda inputs: LastQuestions(), needs_embeddings=True)
    monkeypatch.setitem(RECIPES, "last", needy)
    with pytest.raises(VariantFileError, match="last retrieval needs embedding_profile"):
        read_variant_file(variants)
    assert spec.problems(profiles, store) == ["v: last retrieval needs an embedding profile (got '')"]
    store.close()
