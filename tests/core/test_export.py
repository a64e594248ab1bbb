"""Reports: the HTML and CSV figures are the store's figures; the HTML stands alone."""

from __future__ import annotations

import asyncio
import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.cli import main
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.reports.export import CSV_COLUMNS
from workbench.core.reports.results import RunResults
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store


class ReportParser(HTMLParser):
    """Collects table cells by table id, disagreement blocks, SVG bars and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.disagreements: list[int] = []
        self.bars: list[tuple[str, float]] = []
        self.external: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key):
                self.external.append(f"{tag} {key}={a[key]}")
        if tag in ("script", "link", "img", "iframe"):
            self.external.append(tag)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "div" and a.get("class") == "disagreement":
            self.disagreements.append(int(a["data-index"] or -1))
        elif tag == "rect" and a.get("class") == "bar":
            self.bars.append((a["data-label"] or "", float(a["data-value"] or "nan")))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def make_run(server: OpenAITestServer, root: Path, store_path: Path) -> str:
    store = Store(store_path)
    dataset = Dataset(root)
    zero = store.version_for("zero_shot", load_template("zero_shot").text)
    few = store.version_for("few_shot", load_template("few_shot").text)
    profiles = {m: EndpointProfile(name=m, base_url=server.base_url, model=m, timeout_s=5) for m in ("gold", "wrong")}
    specs = [VariantSpec("right", "gold", zero), VariantSpec("wrong", "wrong", few, "bm25", 2),
             VariantSpec("also-right", "gold", few, "masked", 2)]  # fmt: skip
    runner = Runner(store, dataset, "dev", build_variants(specs, dataset, store, profiles), "shared", limit=24)

    async def go() -> None:
        async for _ in runner.events():
            pass

    asyncio.run(go())
    store.close()
    return "shared"


@pytest.mark.server(answer="model")
def test_html_and_csv_reports_carry_the_store_figures(
    openai_server: OpenAITestServer, demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = tmp_path / "w.sqlite"
    name = make_run(openai_server, demo_path, store_path)
    html_out, csv_out = tmp_path / "out" / "report.html", tmp_path / "out" / "report.csv"
    code = main(["report", name, "--store", str(store_path), "--html", str(html_out), "--csv", str(csv_out)])
    assert code == 0
    assert f"wrote {html_out}" in capsys.readouterr().err

    store = Store(store_path)
    run_id = store.run(name).id
    results = RunResults.from_store(store, run_id)
    summaries = {s.variant: s for s in results.summaries()}
    pairs = results.comparisons()

    parser = ReportParser()
    parser.feed(html_out.read_text())
    assert parser.external == []  # self-contained
    header, *rows = parser.tables["accuracy"]
    assert header[:6] == ["variant", "model", "n", "EX %", "95% CI", "EM %"]
    assert len(rows) == 3
    for row in rows:
        s = summaries[row[0]]
        lo, hi = s.interval
        assert row[1] == s.model and int(row[2]) == s.completed == 24
        assert row[3] == f"{100 * s.execution_accuracy:.1f}" and row[4] == f"{100 * lo:.1f}–{100 * hi:.1f}"
        assert row[5] == f"{100 * s.exact_accuracy:.1f}"
        for level, cell in zip(("easy", "medium", "hard", "extra"), row[6:10], strict=True):
            right, n = s.by_hardness[level]
            assert cell == (f"{100 * right / n:.1f} ({n})" if n else "–")
    _, *paired = parser.tables["paired"]
    assert [(r[0], r[1], int(r[2]), int(r[3]), int(r[6])) for r in paired] == [
        (p.first, p.second, p.first_only, p.second_only, p.n) for p in pairs
    ]
    # every question where "wrong" missed and the others did not is listed, once
    assert sorted(parser.disagreements) == list(range(24))
    overall = parser.bars[:3]
    assert overall == [(v, round(summaries[v].execution_accuracy, 4)) for v in ("right", "wrong", "also-right")]
    text = html_out.read_text()
    assert "zero_shot v" in text and "few_shot v" in text  # the prompt versions used, with their bodies
    assert load_template("few_shot").text.splitlines()[1].strip()[:20].replace("'", "&#x27;") in text

    table = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert tuple(table[0]) == CSV_COLUMNS
    for r in table:
        s = summaries[r["variant"]]
        assert (int(r["n"]), int(r["correct"]), int(r["exact"])) == (s.completed, s.correct, s.exact)
        assert float(r["execution_accuracy"]) == round(s.execution_accuracy, 4)
        assert int(r["easy_n"]) == s.by_hardness["easy"][1] and r["retrieval"] in ("none", "bm25", "masked")


def test_report_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "w.sqlite"
    Store(store_path).close()
    assert main(["report", "nope", "--store", str(store_path), "--html", str(tmp_path / "r.html")]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
