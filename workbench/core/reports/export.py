"""A run as something to share: one self-contained HTML file, or CSV.

``gather`` reads everything a report shows from the store (and the dataset, for the
questions and the result previews of disagreements); ``render_html`` and ``render_csv``
only format it. The HTML has no external references: styles inline, charts as inline SVG.
Both mask anything that looks like an API key (``secrets.mask``), wherever it came from.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.reports.answers import ResultGrid, result_grid
from workbench.core.reports.charts import Bar, bar_chart_svg
from workbench.core.reports.experiments import ArmComparison, compare, load_arm, run_arm
from workbench.core.reports.results import QuestionFilter, RunResults
from workbench.core.reports.stats import wilson_interval
from workbench.core.reports.summaries import PairedComparison, VariantSummary
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.secrets import mask
from workbench.core.store import Dispute, PromptVersion, RunInfo, Store, StoreError

MAX_DISAGREEMENTS = 200
PREVIEW_ROWS = 5


def csv_columns(levels: Sequence[str] = HARDNESS_LEVELS, soft_f1: bool = False) -> tuple[str, ...]:
    """The CSV's header: the dataset's hardness levels (BIRD's for a BIRD run), and ``soft_f1`` last where it was
    computed."""
    return (
        "variant", "model", "endpoint", "retrieval", "prompt_version", "n", "correct", "execution_accuracy",
        "ci95_low", "ci95_high", "exact", "exact_accuracy", "ts_correct", "ts_n", "test_suite_accuracy",
        *(f"{h}_{k}" for h in levels for k in ("correct", "n")),
        "failed", "unscorable", "prompt_tokens", "completion_tokens", "cost", "latency_ms_p50", "latency_ms_p95",
        "overrides_correct", "overrides_n", "execution_accuracy_overrides", *(["soft_f1"] if soft_f1 else []),
    )  # fmt: skip


CSV_COLUMNS = csv_columns()  # a Spider run's


@dataclass
class Answer:
    variant: str
    sql: str
    right: bool | None
    reason: str
    grid: ResultGrid | None = None


@dataclass
class Disagreement:
    index: int
    db_id: str
    question: str
    gold: str
    gold_grid: ResultGrid | None
    answers: list[Answer]


@dataclass
class ReportData:
    run: RunInfo
    summaries: list[VariantSummary]
    details: list[dict[str, Any]]
    pairs: list[PairedComparison]
    disagreements: list[Disagreement]
    disagreement_total: int
    versions: list[PromptVersion]
    notes: list[str] = field(default_factory=list)
    version_labels: dict[int, str] = field(default_factory=dict)  # version id -> its per-template "vN"
    against_baseline: list[ArmComparison] = field(default_factory=list)  # each variant against ``--baseline``
    questions: dict[int, str] = field(default_factory=dict)  # item index -> question, for the flips listed
    disputes: list[Dispute] = field(default_factory=list)  # the split's gold disputes (EX with overrides)


def gather(
    store: Store, run: str | int, with_results: bool = True, baseline: str | None = None,
    hardness_levels: Sequence[str] | None = None, allow_privileged_role: bool = False,
) -> ReportData:  # fmt: skip
    """Everything the report shows, with each variant against ``baseline`` (RUN or RUN:VARIANT) when one is given.
    ``allow_privileged_role`` goes to the dataset whose databases the result previews run on.

    Raises StoreError for an unknown run or baseline.
    """
    info = store.run(run)
    base = load_arm(store, baseline) if baseline else None
    against = (
        [compare(base, run_arm(store, info, name)) for name in store.variant_names(info.id).values()] if base else []
    )
    results = RunResults.from_store(store, info.id, hardness_levels)  # the dataset's levels (BIRD's three)
    summaries = results.summaries()
    names = [s.variant for s in summaries]
    pairs = results.comparisons()
    details = store.variant_details(info.id)
    version_ids = sorted({d["prompt_version_id"] for d in details if d["prompt_version_id"] is not None})
    versions = [store.prompt_version(v) for v in version_ids]
    notes: list[str] = []
    try:
        loaded = Dataset(info.dataset_root, info.questions, allow_privileged_role)
        items = {i.index: i for i in loaded.load_split(info.split).items}
        dataset: Dataset | None = loaded
    except DatasetError as exc:
        dataset, items = None, {}
        notes.append(f"the dataset could not be read ({exc}); questions and result previews are left out")
    indices = sorted({i for rows in results.rows.values() for i in rows})
    disagreeing = results.filter(indices, QuestionFilter("disagree"))
    if len(disagreeing) > MAX_DISAGREEMENTS:
        notes.append(f"the first {MAX_DISAGREEMENTS} of {len(disagreeing)} disagreements are listed")
    disagreements = []
    for index in disagreeing[:MAX_DISAGREEMENTS]:
        item = items.get(index)
        ref = dataset.database(item.db_id) if dataset and item else None
        preview = with_results and ref is not None and (not ref.is_file or ref.path.is_file())
        answers = []
        for name in names:
            row = results.outcome(name, index)
            if row is None:
                continue
            sql = row.predicted_sql or ""
            right = None if row.status != "scored" else bool(row.exec_match)
            grid = result_grid(ref, sql) if preview and sql and ref else None
            answers.append(Answer(name, sql, right, row.reason, grid))
        disagreements.append(
            Disagreement(
                index,
                item.db_id if item else "",
                item.question if item else "",
                item.query if item else "",
                result_grid(ref, item.query) if preview and item and ref else None,
                answers,
            )
        )
    labels, questions = store.version_labels(), {i: item.question for i, item in items.items()}
    disputes = store.disputes(info.dataset_root, info.split)
    return ReportData(info, summaries, details, pairs, disagreements, len(disagreeing), versions, notes, labels,
                      against, questions, disputes)  # fmt: skip


# --- CSV ---------------------------------------------------------------------------------
def render_csv(data: ReportData) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    levels, bird = _levels(data), _bird(data)
    writer.writerow(csv_columns(levels, bird))
    details = {d["name"]: d for d in data.details}
    for s in data.summaries:
        d = details.get(s.variant, {})
        lo, hi = s.interval
        hardness = [x for h in levels for x in s.by_hardness.get(h, [0, 0])]
        p50, p95 = s.latency_ms(50), s.latency_ms(95)
        writer.writerow([
            s.variant, s.model, d.get("endpoint", ""), d.get("retrieval", ""), d.get("prompt_version_id") or "",
            s.completed, s.correct, f"{s.execution_accuracy:.4f}", f"{lo:.4f}", f"{hi:.4f}", s.exact,
            f"{s.exact_accuracy:.4f}", s.ts_correct, s.ts_n, f"{s.test_suite_accuracy:.4f}" if s.ts_n else "",
            *hardness, s.failed, s.unscorable, s.prompt_tokens, s.completion_tokens,
            f"{s.cost:.6f}", "" if p50 is None else f"{p50:.1f}", "" if p95 is None else f"{p95:.1f}",
            s.override_correct, s.override_n, f"{s.override_accuracy:.4f}",
            *([f"{s.soft_f1:.4f}" if s.soft_f1 is not None else ""] if bird else []),
        ])  # fmt: skip
    return mask(out.getvalue())


# --- HTML --------------------------------------------------------------------------------
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; } th, td { padding: 3px 8px; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre, code { font: 12px/1.35 ui-monospace, monospace; } pre { background: #f6f6f6; padding: 6px; overflow-x: auto; }
.right { color: #2d7d2d; } .wrong { color: #9b1c1c; } .muted { color: #777; }
.answers { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; }
table.grid td, table.grid th { font-size: 12px; padding: 1px 6px; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _levels(data: ReportData) -> list[str]:
    """The run's hardness levels, as its summaries carry them (Spider's four, BIRD's three)."""
    return list(data.summaries[0].by_hardness) if data.summaries else list(HARDNESS_LEVELS)


def _bird(data: ReportData) -> bool:
    return any(s.soft_f1 is not None for s in data.summaries)


def _summary_table(data: ReportData) -> str:
    suite = any(s.has_test_suite for s in data.summaries)  # TS beside EX whenever a test suite scored items
    bird = _bird(data)  # BIRD: Soft-F1 where others show exact-set match, which does not apply to BIRD
    head = ["variant", "model", "n", "EX %", "95% CI", *(["TS %"] if suite else []), "Soft-F1 %" if bird else "EM %",
            *(f"{h} EX %" for h in _levels(data)), "failed", "tokens", "cost $", "p50 ms",
            "EX (overrides)"]  # fmt: skip
    rows = []
    for s in data.summaries:
        lo, hi = s.interval
        p50 = s.latency_ms(50)
        hard = [f"{_pct(c / n)} ({n})" if n else "–" for c, n in s.by_hardness.values()]
        ts = [_pct(s.test_suite_accuracy) if s.ts_n else "–"] if suite else []
        second = _pct(s.soft_f1 or 0.0) if bird else _pct(s.exact_accuracy)
        cells = [
            _e(s.variant), _e(s.model), s.completed, _pct(s.execution_accuracy), f"{_pct(lo)}–{_pct(hi)}", *ts,
            second, *hard, s.failed, f"{s.prompt_tokens + s.completion_tokens:,}", f"{s.cost:.4f}",
            "–" if p50 is None else f"{p50:.0f}",
            f"{_pct(s.override_accuracy)} ({s.override_n})" if s.override_n else "–",
        ]  # fmt: skip
        rows.append(
            "<tr>" + "".join(f"<td{' class=num' if k >= 2 else ''}>{c}</td>" for k, c in enumerate(cells)) + "</tr>"
        )
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table id='accuracy'><tr>{header}</tr>{''.join(rows)}</table>"


def _charts(data: ReportData) -> str:
    overall = [Bar(s.variant, s.execution_accuracy, *s.interval) for s in data.summaries]
    parts = [bar_chart_svg(overall, "Execution accuracy (95% CI)")]
    for level in _levels(data):
        bars = []
        for s in data.summaries:
            right, n = s.by_hardness.get(level, [0, 0])
            if n:
                bars.append(Bar(s.variant, right / n, *wilson_interval(right, n)))
        if bars:
            parts.append(bar_chart_svg(bars, f"{level}", width=250))
    return "<div>" + "".join(parts) + "</div>"


def _pairs(data: ReportData) -> str:
    if not data.pairs:
        return "<p class=muted>One variant: nothing to compare.</p>"
    rows = "".join(
        f"<tr><td>{_e(p.first)}</td><td>{_e(p.second)}</td><td class=num>{p.first_only}</td>"
        f"<td class=num>{p.second_only}</td><td class=num>{p.both_right}</td><td class=num>{p.both_wrong}</td>"
        f"<td class=num>{p.n}</td><td class=num>{p.p_value:.4g}</td></tr>"
        for p in data.pairs
    )
    return (
        "<table id='paired'><tr><th>A</th><th>B</th><th>A right, B wrong</th><th>B right, A wrong</th>"
        f"<th>both right</th><th>both wrong</th><th>n</th><th>McNemar p</th></tr>{rows}</table>"
    )


def _against_baseline(data: ReportData) -> str:
    if not data.against_baseline:
        return ""
    rows, flips = [], []
    for c in data.against_baseline:
        p, (low, high) = c.paired, c.paired.difference_interval
        cells = [
            _e(c.contender.variant), c.n_common, len(c.only_baseline), len(c.only_contender), _pct(p.first_accuracy),
            _pct(p.second_accuracy), f"{100 * p.difference:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})",
            len(c.fixed), len(c.broken), f"{p.p_value:.4g}", f"{c.cost_delta:+.4f}",
        ]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td{' class=num' if k else ''}>{x}</td>" for k, x in enumerate(cells)) + "</tr>")
        for kind in ("fixed", "broken"):
            listed = "".join(f"<li>#{i} {_e(data.questions.get(i, ''))}</li>" for i in c.indices(kind))
            flips.append(f"<h3>{_e(c.contender.variant)}: {kind} ({len(c.indices(kind))})</h3><ul>{listed}</ul>")
    head = ("variant", "n common", "only baseline", "only this run", "EX % baseline", "EX %", "Δ EX (95% CI)",
            "fixed", "broken", "McNemar p", "Δ cost $")  # fmt: skip
    base = data.against_baseline[0].baseline
    return (
        f"<h2>Against the baseline {_e(base.name)}</h2><p class=muted>{_e(base.spec.describe())}. Compared on the "
        "items both answered; Δ EX with a 95% paired bootstrap interval; fixed: right here, wrong in the baseline.</p>"
        "<table id='baseline'><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr>{''.join(rows)}</table>"
        + "".join(flips)
    )


def _disputes(data: ReportData) -> str:
    if not data.disputes:
        return "<p class=muted>No gold disputes on this split: EX (overrides) equals EX.</p>"
    rows = "".join(
        f"<tr><td class=num>{d.item_index}</td><td>{_e(d.label)}</td><td>{_e(data.questions.get(d.item_index, ''))}"
        f"</td><td>{_e(d.note)}</td><td><code>{_e(d.predicted_sql)}</code></td><td>{_e(d.said_of)}</td>"
        f"<td>{_e(d.created_at)}</td></tr>"
        for d in data.disputes
    )
    head = "".join(f"<th>{h}</th>" for h in ("#", "dispute", "question", "note", "prediction", "said of", "when"))
    return f"<table id='disputes'><tr>{head}</tr>{rows}</table>"


def _grid(grid: ResultGrid | None) -> str:
    if grid is None:
        return ""
    if grid.error:
        return f"<div class='muted'>{_e(grid.error)}</div>"
    head = "".join(f"<th>{_e(c)}</th>" for c in grid.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e('NULL' if v is None else v)}</td>" for v in row) + "</tr>"
        for row in grid.rows[:PREVIEW_ROWS]
    )
    more = f"<div class=muted>{grid.total_rows} rows</div>" if grid.total_rows > PREVIEW_ROWS else ""
    return f"<table class='grid'><tr>{head}</tr>{body}</table>{more}"


def _disagreements(data: ReportData) -> str:
    if not data.disagreements:
        return "<p class=muted>The variants agree on every question.</p>"
    blocks = []
    for d in data.disagreements:
        cards = []
        for a in d.answers:
            verdict = "–" if a.right is None else ("✓ right" if a.right else "✗ wrong")
            css = "muted" if a.right is None else ("right" if a.right else "wrong")
            cards.append(
                f"<div class=card><b>{_e(a.variant)}</b> <span class={css}>{verdict}</span>"
                f"<pre>{_e(a.sql or '(no SQL)')}</pre><div class=muted>{_e(a.reason)}</div>{_grid(a.grid)}</div>"
            )
        blocks.append(
            f"<div class='disagreement' data-index='{d.index}'><h3>#{d.index} [{_e(d.db_id)}] {_e(d.question)}</h3>"
            f"<div class=answers><div class=card><b>gold</b><pre>{_e(d.gold)}</pre>{_grid(d.gold_grid)}</div>"
            f"{''.join(cards)}</div></div>"
        )
    return "".join(blocks)


def _prompts(data: ReportData) -> str:
    used = {d["prompt_version_id"]: d["name"] for d in data.details}
    if not data.versions:
        return "<p class=muted>The variants used built-in prompts (no stored template versions).</p>"
    return "".join(
        f"<h3 id='prompt-v{v.id}'>{_e(_version_name(data, v.id))} <span class=muted>({_e(v.created_at[:16])}; used by "
        f"{_e(', '.join(n for i, n in used.items() if i == v.id))})</span></h3><pre>{_e(v.body)}</pre>"
        for v in data.versions
    )


def _version_name(data: ReportData, version_id: int) -> str:
    names = {v.id: v.name for v in data.versions}
    return f"{names.get(version_id, '')} {data.version_labels.get(version_id, '')}".strip()


def render_html(data: ReportData) -> str:
    run = data.run
    variants = "".join(
        f"<li><b>{_e(d['name'])}</b>: {_e(d['model'])} at {_e(d['endpoint'])}, retrieval {_e(d['retrieval'])}"
        + (f", prompt {_e(_version_name(data, d['prompt_version_id']))}" if d["prompt_version_id"] else "")
        + "</li>"
        for d in data.details
    )
    notes = "".join(f"<p class=muted>Note: {_e(n)}.</p>" for n in data.notes)
    return mask(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>workbench report: {_e(run.name)}</title>
<style>{STYLE}</style></head><body>
<h1>Run {_e(run.name)}</h1>
<p>{_e(run.dataset_root)} · split {_e(run.split)} · state {_e(run.state)} · started {_e(run.created_at[:19])}</p>
<ul>{variants}</ul>{notes}
<h2>Accuracy</h2>{_summary_table(data)}
<p class=muted>EX: execution accuracy on each question's database; TS (with a test suite): right on every database
of the suite; EM: exact-set match (Spider); intervals are Wilson 95% (of EX). EX (overrides):
EX with the split's gold disputes applied (items whose gold is wrong or ambiguous left out, predictions marked also
correct counted right), on (n) items.</p>
{_charts(data)}
<h2>Paired comparisons</h2>{_pairs(data)}
{_against_baseline(data)}
<h2>Gold disputes ({len(data.disputes)})</h2>{_disputes(data)}
<h2>Disagreements ({data.disagreement_total})</h2>{_disagreements(data)}
<h2>Prompt versions</h2>{_prompts(data)}
</body></html>
""")


def write_report(
    store: Store, run: str | int, out: Path, kind: str, baseline: str | None = None,
    hardness_levels: Sequence[str] | None = None, allow_privileged_role: bool = False,
) -> ReportData:  # fmt: skip
    """Write ``out`` as "html" or "csv" (the HTML with ``baseline`` compared); raises StoreError or OSError.
    ``hardness_levels``: the run's dataset's (None: Spider's)."""
    if kind not in ("html", "csv"):
        raise ValueError(f"unknown report kind {kind!r} (html or csv)")
    html_kind = kind == "html"
    data = gather(store, run, html_kind, baseline if html_kind else None, hardness_levels, allow_privileged_role)
    text = render_html(data) if kind == "html" else render_csv(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # a crash never leaves half a report under the real name
    return data


__all__ = ["ReportData", "StoreError", "gather", "render_csv", "render_html", "write_report"]
