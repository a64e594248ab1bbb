"""Templates: rendering, errors with positions, the bundled set, versions and diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.context import TEMPLATES_DIR
from workbench.core.dataset import Dataset
from workbench.core.store import Store
from workbench.core.templates import PromptTemplate, SchemaView, TemplateProblem, bundled_templates

TEXT = """### system
Write SQLite.
{% for ex in examples %}
### user
{{ ex.question }}
### assistant
{{ ex.query }}
{% endfor %}
### user
{{ schema.compact }}
Question: {{ question }}
"""


def variables(demo_path: Path, **extra: object) -> dict:
    ds = Dataset(demo_path)
    return {
        "question": "How many books?",
        "schema": SchemaView(ds.schema("library"), ds.db_path("library")),
        "examples": [{"question": "q1", "query": "SELECT 1"}, {"question": "q2", "query": "SELECT 2"}],
        "evidence": "",
        "hyde_draft": "",
        **extra,
    }


def test_loops_make_few_shot_turns(demo_path: Path) -> None:
    messages = PromptTemplate.parse("t", TEXT).render(variables(demo_path))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == "SELECT 1"
    assert messages[-1]["content"].startswith("author(author_id, name, country, birth_year)")
    assert messages[-1]["content"].endswith("Question: How many books?")


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("### user\nHello {{ question }\n", 2, 7, "unexpected"),
        ("### user\n{% for x in examples %}\n{{ x }}\n", 3, 1, "endfor"),
        ("### system\nok\n### user\nQ: {{ questoin }}\n", 4, 7, "'questoin' is undefined"),
        ("### user\n{{ schema.nope }}\n", 2, 11, "nope"),
        ("no header here\n", 1, 1, "no messages"),
    ],
)
def test_errors_say_line_and_column(demo_path: Path, text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(TemplateProblem) as info:
        PromptTemplate.parse("t", text).render(variables(demo_path))
    assert (info.value.line, info.value.column) == (line, column)
    assert message in str(info.value)


def test_the_sandbox_blocks_python_internals(demo_path: Path) -> None:
    text = "### user\n{{ schema.__class__.__init__.__globals__ }}\n"
    with pytest.raises(TemplateProblem):
        PromptTemplate.parse("t", text).render(variables(demo_path))


def test_last_message_must_be_the_users(demo_path: Path) -> None:
    with pytest.raises(TemplateProblem, match="last message"):
        PromptTemplate.parse("t", "### user\nq\n### assistant\na\n").render(variables(demo_path))


def test_every_bundled_template_renders(demo_path: Path) -> None:
    templates = bundled_templates(TEMPLATES_DIR)
    assert {"zero_shot", "few_shot", "think_step_by_step", "decomposition", "hyde_revise"} <= set(templates)
    for template in templates.values():
        messages = template.render(variables(demo_path, hyde_draft="SELECT 3"))
        assert messages[-1]["role"] == "user" and "How many books?" in messages[-1]["content"]


def test_schema_views(demo_path: Path) -> None:
    ds = Dataset(demo_path)
    view = SchemaView(ds.schema("library"), ds.db_path("library"), tables=["book", "author"])
    assert view.table_names == ["author", "book"]
    assert "loan" not in view.create_table and "REFERENCES author(author_id)" in view.create_table
    with_rows = view.render("compact", foreign_keys=False, sample_rows=2)
    assert "/* 2 rows of book:" in with_rows and "Foreign keys" not in with_rows


def test_versions_keep_diffs_and_skip_unchanged_bodies(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    v1 = store.save_prompt_version("few_shot", "### user\n{{ question }}\n")
    v2 = store.save_prompt_version("few_shot", "### user\nQuestion: {{ question }}\n", parent_id=v1)
    assert store.save_prompt_version("few_shot", "### user\nQuestion: {{ question }}\n", parent_id=v2) == v2
    version = store.prompt_version(v2)
    assert version.parent_id == v1
    assert "-{{ question }}" in version.diff and "+Question: {{ question }}" in version.diff
    assert store.version_for("few_shot", "### user\n{{ question }}\n") == v1
    v3 = store.version_for("few_shot", "### user\nQ: {{ question }}\n")
    assert store.prompt_version(v3).parent_id == v2
    assert [v.id for v in store.prompt_versions("few_shot")] == [v1, v2, v3]
