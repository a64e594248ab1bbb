"""Templates: rendering, errors with positions, the bundled set, versions and diffs."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from workbench.core.data.dataset import Dataset
from workbench.core.prompts.context import TEMPLATES_DIR
from workbench.core.prompts.template_bounds import DEFAULT_LIMITS, TemplateLimits
from workbench.core.prompts.templates import PromptTemplate, SchemaView, TemplateProblem, bundled_templates
from workbench.core.store import Store

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
        "schema": SchemaView(ds.schema("library"), ds.database("library")),
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
    view = SchemaView(ds.schema("library"), ds.database("library"), tables=["book", "author"])
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


# --- bounds: size, loops, time; escapes still refused ----------------------------------


def refusal(text: str, limits: TemplateLimits = DEFAULT_LIMITS, within_s: float = 30.0) -> TemplateProblem:
    """The problem a template raises, checked to come quickly and to have built no large value."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TemplateProblem) as info:
            PromptTemplate.parse("t", text, "templates/x.prompt").render({"question": "q"}, limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < within_s
    assert peak < 20_000_000, f"the refusal built {peak} bytes first"
    assert "\n" not in str(info.value)
    return info.value


def test_a_huge_repetition_is_refused_before_it_is_built() -> None:
    problem = refusal("### user\n{{ question }}\n  {{ 'a' * 10**8 }}\n")
    assert (problem.line, problem.column) == (3, 10)
    assert str(problem) == "templates/x.prompt:3:10: '*' would build more than 256 kB (output-size limit)"


def test_nested_loops_spend_the_loop_budget() -> None:
    text = "### user\n{% for a in range(100000) %}\n{% for b in range(100000) %}x{% endfor %}{% endfor %}\n"
    # a generous clock, so that the budget (not the time limit) ends it even on a loaded machine
    problem = refusal(text, TemplateLimits(time_limit_s=120.0), within_s=120.0)
    assert problem.detail == "more than 100000 loop iterations and calls (loop budget)"
    assert (problem.line, problem.column) == (3, 4)
    huge = refusal("### user\n{% for a in range(10**6) %}{% for b in range(10**6) %}{% endfor %}{% endfor %}\n")
    assert "range of 1000000 numbers is longer than the loop budget of 100000 (loop budget)" in str(huge)
    recursive = refusal("### user\n{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}\n")
    assert "(recursion limit)" in recursive.detail or "(loop budget)" in recursive.detail


def test_the_prompt_size_is_capped_and_configurable() -> None:
    text = "### user\n{% for i in range(3000) %}\n{{ 'ab' * 50 }}\n{% endfor %}\n"
    problem = refusal(text)
    assert str(problem) == "templates/x.prompt:3:1: the prompt passed 256 kB (output-size limit)"
    small = TemplateLimits(max_output_bytes=2000)
    assert "the prompt passed 2 kB (output-size limit)" in str(refusal(text, small))
    fits = PromptTemplate.parse("t", text).render({}, TemplateLimits(max_output_bytes=400_000))
    assert len(fits[0]["content"]) > 290_000


def test_the_wall_time_is_limited() -> None:
    text = "### user\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n"
    limits = TemplateLimits(max_iterations=10**12, time_limit_s=0.3)
    problem = refusal(text, limits, within_s=2.0)
    assert problem.detail == "rendering took more than 0.3 s (time limit)"
    assert problem.line == 2


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("{{ 'a'|center(1000000000) }}", "center was given 1000000000"),
        ("{{ 'a'.ljust(10**9) }}", "ljust() was given 1000000000"),
        ("{{ '{:>{}}'.format('a', 10**9) }}", "format would build more than 256 kB"),
        ("{{ '%1000000000s' % 'a' }}", "'%' would build more than 256 kB"),
        ("{{ ('a' * 200000)|replace('a', 'bbbbbbbb') }}", "replace would build"),
        ("{{ ('a' * 200000).replace('a', 'bbbbbbbb') }}", "replace would build"),
        ("{{ (['a' * 200000] * 100000)|join }}", "join would build"),
        ("{{ ['a' * 200000] * 100000 }}", "'{{' would build"),
        ("{% set x = 'a' * 200000 %}{{ (x ~ x)|length }}", "'~' would build"),
        ("{{ ('\\t' * 1000).expandtabs(100000) }}", "expandtabs would build"),
        ("{{ 10**(10**10) }}", "(number-size limit)"),
        ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes() was given"),
        ("{{ range(1000)|batch(10**9, 0)|list }}", "batch was given"),
        (
            "{% macro m() %}{% for i in range(1000) %}{{ 'a' * 200000 }}{% endfor %}{% endmacro %}{{ m()|length }}",
            "the template built more than 8192 kB of text in all",
        ),
        ("{% filter center(10**9) %}x{% endfilter %}", "center was given"),
        ("{{ schema.render(sample_rows=10**6) }}", "sample_rows is at most 100"),
    ],
)
def test_values_that_would_outgrow_the_prompt_are_refused(text: str, bound: str, demo_path: Path) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TemplateProblem) as info:
            PromptTemplate.parse("t", f"### user\n{text}\n", "x.prompt").render(variables(demo_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bound in str(info.value)
    assert str(info.value).startswith("x.prompt:2:")
    assert peak < 20_000_000


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__[1].__subclasses__()",
        "cycler.__init__.__globals__",
        "schema.render.__func__.__globals__",
        "namespace.__init__.__globals__['__builtins__']",
        "(examples|attr('__class__')).__base__.__subclasses__()",
        "'{0.__class__.__mro__}'.format('')",
        "lipsum.__globals__",
    ],
)
def test_escapes_are_still_refused(expression: str, demo_path: Path) -> None:
    with pytest.raises(TemplateProblem) as info:
        PromptTemplate.parse("t", f"### user\n{{{{ {expression} }}}}\n", "x.prompt").render(variables(demo_path))
    assert str(info.value).startswith("x.prompt:2:")
    assert "unsafe" in str(info.value) or "undefined" in str(info.value)


def test_template_errors_are_problems_not_exceptions(demo_path: Path) -> None:
    for text, message in [("{{ 1 / 0 }}", "division by zero"), ("{{ 'a'|striptags }}", "No filter named 'striptags'")]:
        with pytest.raises(TemplateProblem, match=message) as info:
            PromptTemplate.parse("t", f"### user\n{text}\n", "x.prompt").render(variables(demo_path))
        assert str(info.value).startswith(("x.prompt:2:", "x.prompt:1:"))


def test_ordinary_templates_render_alike_inside_the_bounds(demo_path: Path) -> None:
    text = (
        "### user\n{% for i in range(3) %}{{ i }}{% endfor %} {{ 'a' ~ 'b' }} {{ [1, 2]|join(',') }} "
        "{{ '%s-%d' % ('x', 3) }} {{ [[1], [2]]|sum(start=[]) }} {{ '{:>4}'.format('q') }} {{ 2 ** 10 }}\n"
    )
    (message,) = PromptTemplate.parse("t", text).render(variables(demo_path))
    assert message["content"] == "012 ab 1,2 x-3 [1, 2]    q 1024"


@pytest.mark.parametrize("opening", ["[", "(", "{"])
def test_brackets_nested_past_the_parser_stack_are_one_line_naming_their_place(opening: str) -> None:
    text = "### user\n{{ question }}\n  {{ x + " + opening * 3000 + " }}\n"
    with pytest.raises(TemplateProblem) as info:
        PromptTemplate.parse("x", text, "templates/x.prompt")
    assert str(info.value) == "templates/x.prompt:3:3: brackets nest too deeply to parse"
    shallow = "### user\n{{ " + "[" * 20 + "1" + "]" * 20 + " }}\n"
    assert PromptTemplate.parse("x", shallow).render({})[0]["content"] == "[" * 20 + "1" + "]" * 20
