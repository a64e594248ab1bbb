"""Headless commands over the same core the desktop app uses.

workbench score --dataset DIR --split dev --predictions FILE [--jsonl OUT] [--no-gold-cache]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from workbench.cli.common import CliError, add_dataset_args, add_limit_args, exec_limits, open_dataset, positive_int
from workbench.core.data.dataset import DatasetError, Split, read_text
from workbench.core.scoring import HARDNESS_LEVELS, Scorer, Verdict, parse_predictions, summarize


def _progress(stream: TextIO) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    start = time.monotonic()

    live = stream.isatty()

    def update(done: int, total: int) -> None:
        if not live:
            return
        elapsed = time.monotonic() - start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        stream.write(f"\rscoring {done}/{total}  {rate:,.0f} items/s  ETA {eta:4.1f}s ")
        stream.flush()

    def finish() -> None:
        stream.write(("\n" if live else "") + f"scored in {time.monotonic() - start:.2f}s\n")
        stream.flush()

    return update, finish


def read_predictions(path: Path, split: Split) -> list[str]:
    try:
        text = read_text(path)
    except DatasetError as exc:
        raise CliError(f"predictions: {exc}") from None
    preds = parse_predictions(text)
    if len(preds) != len(split.items):
        raise CliError(
            f"{path}: {len(preds)} predictions for {len(split.items)} questions in split {split.name!r} "
            "(one SQL per line, in question order)"
        )
    for lineno, (line, item) in enumerate(zip(text.split("\n"), split.items, strict=False), start=1):
        parts = line.strip().split("\t")
        if len(parts) > 1 and parts[-1].strip() and parts[-1].strip() != item.db_id:
            raise CliError(
                f"{path}: line {lineno} names db_id {parts[-1].strip()!r} but question {item.index} "
                f"is on {item.db_id!r}; are the predictions in question order?"
            )
    return preds


def format_table(verdicts: Sequence[Verdict]) -> str:
    table = summarize(verdicts)
    lines = [f"{'hardness':<9}{'count':>7}{'execution':>18}{'exact match':>18}"]
    for level in (*HARDNESS_LEVELS, "all"):
        row = table[level]
        n = row["n"]

        def cell(k: int, n: int = n) -> str:
            return f"{k:>6} {100.0 * k / n:6.1f}%" if n else f"{'-':>6} {'-':>7}"

        lines.append(f"{level:<9}{n:>7}{cell(row['exec']):>18}{cell(row['exact']):>18}")
    unscored = table["all"]["unscored"]
    if unscored:
        lines.append(f"unscorable: {unscored} item(s), not counted above (see reasons in --jsonl)")
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
    dataset = open_dataset(args)
    try:
        split = dataset.load_split(args.split)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    preds = read_predictions(args.predictions, split)
    for line in split.database_warnings():
        print(f"warning: {line}", file=sys.stderr)
    update, finish = _progress(sys.stderr)
    with Scorer(dataset, workers=args.workers, limits=exec_limits(args), gold_cache=not args.no_gold_cache) as scorer:
        verdicts = scorer.score(split.items, preds, progress=update)
    finish()
    if args.jsonl:
        try:
            with open(args.jsonl, "w", encoding="utf-8") as out:
                for v in verdicts:
                    out.write(json.dumps(v.to_json()) + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {args.jsonl}: {exc.strerror or exc}") from None
    print(f"dataset {dataset.root}  split {split.name}  {len(split.items)} questions")
    print(format_table(verdicts))
    return 0


def add_arguments(score: argparse.ArgumentParser) -> None:
    add_dataset_args(score, "dev", "split name (dev, train) or a question/gold file")
    score.add_argument("--predictions", type=Path, required=True, help="one SQL per line, in question order")
    score.add_argument("--jsonl", type=Path, help="write one JSON verdict per item to this file")
    score.add_argument(
        "--workers", type=positive_int, default=None, help="processes for execution (default: CPU count)"
    )
    add_limit_args(score)
    score.add_argument(
        "--no-gold-cache",
        action="store_true",
        help="execute every gold query again (default: reuse gold results kept in your cache folder, "
        "checked against each database's content)",
    )
    score.set_defaults(func=cmd_score)
