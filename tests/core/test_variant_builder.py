"""The one builder: the plain prompt without a template, HyDE's draft prompt by mode, and the local presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.prompts.templates import SchemaView
from workbench.core.runs.runspec import COMPLETION_PREFIX, COMPLETION_STOP, LOCAL_PROFILE, VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store
from workbench.local.prompts import SQL_GRAMMAR, local_specs

PROFILE = EndpointProfile(name="p", base_url="http://127.0.0.1:9", model="m")


def test_a_spec_without_a_template_sends_the_schema_then_the_question(demo_path: Path, tmp_path: Path) -> None:
    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    (variant,) = build_variants([VariantSpec("plain", "p", None)], dataset, store, {"p": PROFILE})
    item = dataset.load_split("dev").items[3]
    system, user = variant.messages(item)
    assert system["role"] == "system" and "one SQLite query" in system["content"]
    schema = dataset.schema(item.db_id).create_table_sql()
    assert user == {"role": "user", "content": f"Database schema:\n{schema}\n\nQuestion: {item.question}"}
    assert (variant.prompt_version, variant.retrieval, variant.params) == (None, "none", {})


@pytest.mark.parametrize(("mode", "draft"), [("chat", "zero_shot"), ("completion", "completion_few_shot")])
def test_hyde_drafts_with_the_zero_shot_template_of_its_mode(
    mode: str, draft: str, demo_path: Path, tmp_path: Path
) -> None:
    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    version = store.version_for("hyde_revise", load_template("hyde_revise").text)
    spec = VariantSpec("hyde", "p", version, "skeleton", 2, mode=mode)
    (variant,) = build_variants([spec], dataset, store, {"p": PROFILE})
    item = dataset.load_split("dev").items[0]
    variables = {"question": item.question, "examples": [], "evidence": item.evidence, "hyde_draft": ""}
    view = SchemaView(dataset.schema(item.db_id), dataset.database(item.db_id))
    assert variant.context.draft_messages(item) == load_template(draft).render({**variables, "schema": view})
    assert variant.context.needs_draft and len(variant.context.build(item, "SELECT 1").examples) == 2


def test_the_local_presets_are_specs_the_builder_knows(demo_path: Path, tmp_path: Path) -> None:
    dataset, store = Dataset(demo_path), Store(tmp_path / "w.sqlite")
    specs = local_specs(store, ["chat", "fewshot", "grammar"])
    chat, fewshot, grammar = build_variants(specs, dataset, store, {LOCAL_PROFILE: PROFILE})
    assert (chat.name, chat.mode, chat.params, chat.prompt_version) == ("local-chat", "chat", {}, None)
    assert (fewshot.mode, fewshot.answer_prefix, fewshot.params) == ("completion", COMPLETION_PREFIX,
                                                                      {"stop": COMPLETION_STOP})  # fmt: skip
    assert grammar.params == {"stop": COMPLETION_STOP, "grammar": SQL_GRAMMAR} and grammar.retrieval == "same_db"
    item = dataset.load_split("dev").items[0]
    (prompt,) = fewshot.messages(item)
    shots = [i for i in dataset.load_split("train").items if i.db_id == item.db_id][:3]
    assert all(f"-- Question: {s.question}\n" in prompt["content"] for s in shots)
    assert prompt["content"].endswith(f"-- Question: {item.question}\nSELECT")
    with pytest.raises(ValueError, match="unknown local prompt mode 'poem'"):
        local_specs(store, ["poem"])
