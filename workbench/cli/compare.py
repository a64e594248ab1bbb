"""`workbench compare BASELINE CONTENDER`: two arms (RUN or RUN:VARIANT) item by item, and a CI gate."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from workbench.cli.common import CliError
from workbench.core.data.inputs import one_line
from workbench.core.reports.experiments import (
    ArmComparison,
    ArmError,
    ItemComparison,
    compare,
    item_questions,
    load_arm,
)
from workbench.core.store import ScoreRow, Store, default_store_path

EXIT_REGRESSION = 1


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def _interval(low: float, high: float) -> str:
    return f"{100 * low:.1f}–{100 * high:.1f}"


def _verdict(row: ScoreRow) -> str:
    if row.status != "scored":
        return row.status
    return "right" if row.exec_match else "wrong"


def _flip(c: ItemComparison, question: str) -> list[str]:
    sql = {side: one_line(row.predicted_sql or "(no SQL)") for side, row in (("b", c.baseline), ("c", c.contender))}
    return [
        f"  {c.outcome:<7} #{c.index} [{c.db_id}] {question or '(question not readable)'}",
        f"      baseline  {_verdict(c.baseline):<6} {sql['b']}",
        f"      contender {_verdict(c.contender):<6} {sql['c']}",
    ]


def format_comparison(result: ArmComparison, questions: dict[int, str]) -> str:
    p, b, c = result.paired, result.baseline, result.contender
    lines = [
        f"baseline  {b.name}  ({b.spec.describe()})",
        f"contender {c.name}  ({c.spec.describe()})",
        f"items: {result.n_common} answered by both, {p.n} with a verdict on both",
    ]
    if not result.same_split:
        lines.append(
            f"  note: the arms ran on different splits ({b.run.dataset_root} {b.run.split}, "
            f"{c.run.dataset_root} {c.run.split}): items are matched by their index only"
        )
    if result.only_baseline or result.only_contender:
        lines.append(
            f"  compared on the intersection: {len(result.only_baseline)} answered only by the baseline, "
            f"{len(result.only_contender)} only by the contender"
        )
    low, high = p.difference_interval
    latency = result.latency_p50_delta_ms
    lines += [
        f"EX baseline {100 * p.first_accuracy:.1f}% ({_interval(*p.first_interval)}), "
        f"contender {100 * p.second_accuracy:.1f}% ({_interval(*p.second_interval)})",
        f"Δ EX {_points(p.difference)} points (95% CI {_points(low)} to {_points(high)}, paired bootstrap); "
        f"McNemar p = {p.p_value:.4g}",
        f"fixed {len(result.fixed)}, broken {len(result.broken)}, both right {p.both_right}, both wrong {p.both_wrong}",
        f"Δ cost ${result.cost_delta:+.4f}, Δ tokens {result.tokens_delta:+d}, "
        f"Δ p50 latency {'-' if latency is None else f'{latency:+.0f} ms'}",
    ]
    flips = [x for x in result.items if x.outcome in ("fixed", "broken")]
    if flips:
        lines.append("flips:")
        for item in flips:
            lines += _flip(item, questions.get(item.index, ""))
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        baseline, contender = load_arm(store, args.baseline), load_arm(store, args.contender)
    except ArmError as exc:
        raise CliError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{args.store}: the run store cannot be read ({exc})") from None
    finally:
        store.close()
    result = compare(baseline, contender)
    questions = item_questions(baseline.run)
    if not result.same_split:
        questions |= item_questions(contender.run)
    if args.json:
        print(json.dumps(result.to_json(questions), indent=2))
    else:
        print(format_comparison(result, questions))
    if args.fail_on_regression and result.regressed:
        low, high = result.paired.difference_interval
        print(
            f"regression: {contender.name} is {_points(result.paired.difference)} points against {baseline.name} "
            f"(95% CI {_points(low)} to {_points(high)})",
            file=sys.stderr,
        )
        return EXIT_REGRESSION
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", help="RUN or RUN:VARIANT (a run name or id)")
    parser.add_argument("contender", help="RUN or RUN:VARIANT")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when the contender is worse and the difference's 95%% CI excludes 0",
    )
    parser.add_argument("--store", type=Path, default=default_store_path(), help="run store (default: your workspace)")
    parser.set_defaults(func=cmd_compare)
