"""`workbench compare` and `workbench runs` as processes over a filled store: text, JSON, the gate, arm errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_experiments import fill_store
from workbench.core.data.dataset import Dataset

ROOT = Path(__file__).resolve().parents[1]
JSON_KEYS = {"baseline", "contender", "n_common", "fixed", "broken", "ex_baseline", "ex_contender", "delta",
             "delta_ci95", "mcnemar_p", "items"}  # fmt: skip


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args], cwd=ROOT, text=True, capture_output=True, env=dict(os.environ),
        timeout=60,
    )  # fmt: skip


@pytest.fixture()
def store(demo_path: Path, tmp_path: Path) -> str:
    fill_store(tmp_path / "w.sqlite", demo_path).close()
    return str(tmp_path / "w.sqlite")


def test_compare_prints_the_flips_and_the_figures(store: str, demo_path: Path) -> None:
    done = workbench("compare", "base", "new:c", "--store", store)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "baseline  base:a  (gold · zero_shot v1 · none)" in out
    assert "contender new:c  (wrong · few_shot v1 · bm25 k=2 · chat)" in out
    assert "items: 10 answered by both, 9 with a verdict on both" in out
    assert "2 answered only by the baseline, 1 only by the contender" in out and "different splits" not in out
    assert "EX baseline 11.1%" in out and "contender 88.9%" in out
    assert "Δ EX +77.8 points" in out and "McNemar p = 0.03906" in out
    assert "fixed 8, broken 1, both right 0, both wrong 0" in out
    assert "Δ cost $+0.0080, Δ tokens -2, Δ p50 latency +50 ms" in out
    first = Dataset(demo_path).load_split("dev").items[0]
    assert f"fixed   #0 [concert_singer] {first.question}" in out
    assert "      baseline  wrong  SELECT 0\n      contender right  SELECT 0" in out
    assert "broken  #8" in out and "#9 " not in out  # the unscorable item is no flip


def test_compare_json_has_the_documented_keys(store: str) -> None:
    done = workbench("compare", "base", "new:c", "--json", "--store", store)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= JSON_KEYS
    assert (data["fixed"], data["broken"], data["n_common"]) == (list(range(8)), [8], 10)
    assert (data["ex_baseline"], data["ex_contender"], data["delta"]) == (
        round(1 / 9, 6),
        round(8 / 9, 6),
        round(7 / 9, 6),
    )
    assert data["delta_ci95"][0] > 0 and data["mcnemar_p"] == pytest.approx(0.0390625)
    assert data["baseline"]["arm"] == "base:a" and data["contender"]["version"] == "v1"
    assert [i["index"] for i in data["items"]] == list(range(10))


def test_the_gate_fails_only_on_a_regression(store: str) -> None:
    better = workbench("compare", "base", "new:c", "--fail-on-regression", "--store", store)
    assert better.returncode == 0, better.stderr
    worse = workbench("compare", "new:c", "base", "--fail-on-regression", "--store", store)
    assert worse.returncode == 1 and "regression: base:a is -77.8 points against new:c" in worse.stderr
    assert workbench("compare", "new:c", "base", "--store", store).returncode == 0  # no gate asked for


def test_a_run_of_several_variants_needs_one_named(store: str) -> None:
    done = workbench("compare", "base", "new", "--store", store)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: run 'new' has 2 variants; name one as RUN:VARIANT (b, c)\n"
    missing = workbench("compare", "base", "nothing", "--store", store)
    assert missing.returncode == 2 and "no run 'nothing'" in missing.stderr


def test_runs_lists_each_variant_with_its_template_version(store: str) -> None:
    done = workbench("runs", "--store", store)
    assert done.returncode == 0, done.stderr
    assert "      a: gold · zero_shot v1 · none\n" in done.stdout
    assert "      b: gold · zero_shot v2 · none · chat\n" in done.stdout
    assert "      c: wrong · few_shot v1 · bm25 k=2 · chat\n" in done.stdout


def test_report_with_a_baseline_includes_the_comparison(store: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = workbench("report", "new", "--baseline", "base", "--html", str(out), "--store", store)
    assert done.returncode == 0, done.stderr
    assert "Against the baseline base:a" in out.read_text()
    ambiguous = workbench("report", "base", "--baseline", "new", "--html", str(tmp_path / "x.html"), "--store", store)
    assert ambiguous.returncode == 2 and "name one as RUN:VARIANT (b, c)" in ambiguous.stderr
