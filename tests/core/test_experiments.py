"""Arms of stored runs compared item by item: exact tables, McNemar, the paired CI, intersections, version labels."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.reports.experiments import ArmError, compare, item_questions, load_arm
from workbench.core.reports.export import gather, render_html
from workbench.core.reports.history import prompt_history
from workbench.core.reports.stats import paired_bootstrap_interval, wilson_interval
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import ScoreRow, Store

# item -> (baseline verdict, contender verdict); None: unscorable; "failed": not answered; absent: not asked
BASELINE = {i: False for i in range(8)} | {8: True, 9: True, 10: True, 12: True}
CONTENDER = {i: True for i in range(8)} | {8: False, 9: None, 11: True, 12: "failed"}


def _row(variant_id: int, index: int, verdict: bool | str | None, cost: float, latency: float) -> ScoreRow:
    status = "failed" if verdict == "failed" else ("unscorable" if verdict is None else "scored")
    right = verdict if isinstance(verdict, bool) else None
    return ScoreRow(variant_id=variant_id, item_index=index, db_id="concert_singer", status=status, reason="",
                    exec_match=right, exact_match=right, predicted_sql=f"SELECT {index}", cost=cost,
                    latency_ms=latency, prompt_tokens=10, completion_tokens=int(cost * 1000))  # fmt: skip


def fill_store(path: Path, dataset_root: Path) -> Store:
    """Run "base" (one variant "a" on zero_shot v1) and run "new" (variants "b" on zero_shot v2 and "c", bm25 k=2)."""
    store = Store(path)
    v1 = store.save_prompt_version("zero_shot", "### user\n{{ question }}\n")
    other = store.save_prompt_version("few_shot", "### user\nQ: {{ question }}\n")
    v2 = store.save_prompt_version("zero_shot", "### user\nQuestion: {{ question }}\n", parent_id=v1)
    dataset = store.dataset_id(str(dataset_root.resolve()), "demo")
    a = store.variant_id("a", "http://e", "gold", {}, "none", v1)
    b = store.variant_id("b", "http://e", "gold", {}, "none", v2)
    c = store.variant_id("c", "http://e", "wrong", {}, "bm25", other)
    base = store.create_run("base", dataset, "dev", None, [a])
    new = store.create_run("new", dataset, "dev", None, [b, c])
    store.save_run_specs(new, [VariantSpec("b", "p", v2).to_json(), VariantSpec("c", "p", other, "bm25", 2).to_json()])
    for index, verdict in BASELINE.items():
        store.save_score(base, _row(a, index, verdict, 0.001, 100.0))
    for index, verdict in CONTENDER.items():
        store.save_score(new, _row(c, index, verdict, 0.002, 150.0))
        store.save_score(new, _row(b, index, True, 0.0, 90.0))
    return store


def test_a_known_table_gives_hand_computed_figures(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    baseline, contender = load_arm(store, "base"), load_arm(store, "new:c")
    assert (baseline.name, contender.name) == ("base:a", "new:c")
    assert contender.spec.describe() == "wrong · few_shot v1 · bm25 k=2 · chat"
    assert baseline.spec.describe() == "gold · zero_shot v1 · none"  # a run without stored specs: no k, no mode
    result = compare(baseline, contender)
    assert result.fixed == list(range(8)) and result.broken == [8]
    assert result.n_common == 10 and result.indices("unscorable") == [9]
    assert (result.only_baseline, result.only_contender) == ([10, 12], [11])  # 12 failed: not answered
    p = result.paired
    assert (p.n, p.both_right, p.both_wrong, p.first_only, p.second_only) == (9, 0, 0, 1, 8)
    assert p.p_value == pytest.approx(0.0390625)  # 2 * (C(9,0) + C(9,1)) / 2**9
    assert (p.first_accuracy, p.second_accuracy, p.difference) == (1 / 9, 8 / 9, 7 / 9)
    assert p.first_interval == wilson_interval(1, 9) and p.second_interval == wilson_interval(8, 9)
    low, high = p.difference_interval
    assert 0 < low < 7 / 9 < high <= 1 and not result.regressed  # better, the CI excludes 0
    assert result.cost_delta == pytest.approx(9 * 0.002 - 10 * 0.001)  # unscorable rows carry no cost
    assert result.tokens_delta == 9 * (10 + 2) - 10 * (10 + 1)
    assert result.latency_p50_delta_ms == 50.0 and result.same_split

    worse = compare(contender, baseline)  # the same table, reversed: a regression the CI gate catches
    assert worse.fixed == [8] and worse.broken == list(range(8)) and worse.regressed
    assert worse.paired.difference_interval[1] < 0
    data = worse.to_json(item_questions(baseline.run))
    assert data["n_common"] == 10 and data["mcnemar_p"] == pytest.approx(0.0390625)
    assert data["delta"] == round(-7 / 9, 6) and data["delta_ci95"][1] < 0
    assert data["items"][0]["question"] == Dataset(demo_path).load_split("dev").items[0].question


def test_a_balanced_table_has_a_ci_around_zero() -> None:
    low, high = paired_bootstrap_interval(losses=2, wins=3, n=10)
    assert low < 0 < high
    assert paired_bootstrap_interval(2, 3, 10) == (low, high)  # fixed seed
    assert paired_bootstrap_interval(0, 0, 10) == (0.0, 0.0) and paired_bootstrap_interval(0, 0, 0) == (0.0, 0.0)


def test_arms_are_named_by_run_and_variant(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    with pytest.raises(ArmError, match=r"run 'new' has 2 variants; name one as RUN:VARIANT \(b, c\)"):
        load_arm(store, "new")
    with pytest.raises(ArmError, match="has no variant 'z'"):
        load_arm(store, "new:z")
    with pytest.raises(ArmError, match="no run 'gone'"):
        load_arm(store, "gone:a")
    by_id = load_arm(store, f"{store.run('new').id}:b")
    assert by_id.name == "new:b" and by_id.spec.describe() == "gold · zero_shot v2 · none · chat"
    elsewhere = store.create_run("train-run", store.dataset_id(str(demo_path.resolve()), "demo"), "train", None,
                                 [store.variant_id("a", "http://e", "gold", {}, "none", None)])  # fmt: skip
    assert not compare(load_arm(store, "base"), load_arm(store, str(elsewhere))).same_split


def test_versions_are_numbered_within_their_template(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.sqlite")
    first = store.save_prompt_version("few_shot", "a\n")
    other = store.save_prompt_version("zero_shot", "b\n")
    second = store.save_prompt_version("few_shot", "c\n", parent_id=first)
    assert [store.version_label(v) for v in (first, other, second)] == ["v1", "v1", "v2"]
    assert store.version_labels() == {first: "v1", other: "v1", second: "v2"}
    assert "--- few_shot v1" in store.prompt_version(second).diff


@pytest.mark.server(answer="model")
def test_runs_through_the_runner_compare_on_their_common_items(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path
) -> None:
    store, dataset = Store(tmp_path / "w.sqlite"), Dataset(demo_path)
    version = store.version_for("zero_shot", load_template("zero_shot").text)
    profiles = {m: EndpointProfile(name=m, base_url=openai_server.base_url, model=m, timeout_s=2.0)
                for m in ("gold", "wrong")}  # fmt: skip

    async def run(name: str, model: str, limit: int) -> None:
        variants = build_variants([VariantSpec(name, model, version)], dataset, store, profiles)
        async for _ in Runner(store, dataset, "dev", variants, name, limit=limit).events():
            pass

    asyncio.run(run("gold-run", "gold", 12))
    asyncio.run(run("wrong-run", "wrong", 8))
    result = compare(load_arm(store, "gold-run"), load_arm(store, "wrong-run"))
    assert result.n_common == 8 and result.only_baseline == [8, 9, 10, 11] and result.only_contender == []
    assert result.broken == list(range(8)) and result.fixed == []
    assert result.paired.p_value == pytest.approx(2 / 2**8) and result.regressed
    assert result.baseline.spec.describe() == "gold · zero_shot v1 · none"


def test_history_and_reports_name_versions_by_their_template_label(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    points = prompt_history(store, Dataset(demo_path), "dev")
    assert [p.label for p in points] == ["zero_shot v1 · a · base", "zero_shot v2 · b · new", "few_shot v1 · c · new"]
    text = render_html(gather(store, "new"))
    assert ", prompt zero_shot v2</li>" in text and ">few_shot v1 <span class=muted>" in text


def test_the_html_report_compares_each_variant_with_a_baseline(demo_path: Path, tmp_path: Path) -> None:
    store = fill_store(tmp_path / "w.sqlite", demo_path)
    data = gather(store, "new", baseline="base")
    assert [(c.contender.name, c.fixed, c.broken) for c in data.against_baseline] == [
        ("new:b", list(range(8)), []),
        ("new:c", list(range(8)), [8]),
    ]
    text = render_html(data)
    assert "<h2>Against the baseline base:a</h2>" in text and "<table id='baseline'>" in text
    row_c = text.split("<table id='baseline'>", 1)[1].split("<td>c</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td class=num>10</td><td class=num>2</td><td class=num>1</td>" in row_c and "+77.8 (" in row_c
    assert f"<li>#8 {data.questions[8]}</li>" in text.replace("&#x27;", "'")
    assert "Against the baseline" not in render_html(gather(store, "new"))
