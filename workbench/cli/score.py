"""Headless commands over the same core the desktop app uses.

workbench score --dataset DIR --split dev --predictions FILE [--jsonl OUT] [--r-ves [N]] [--no-gold-cache]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from workbench.cli.common import (
    CliError,
    add_dataset_args,
    add_limit_args,
    add_privileged_role_arg,
    exec_limits,
    open_dataset,
    positive_int,
)
from workbench.core.data.dataset import Dataset, DatasetError, Split
from workbench.core.data.items import HARDNESS_LEVELS
from workbench.core.data.spider import read_text
from workbench.core.scoring.predictions import PredictionsError, looks_like_bird_json, parse_bird_predictions

if TYPE_CHECKING:  # the scorer (its parser, worker pool and gold cache) loads after the dataset's first database
    from workbench.core.scoring.scorer import Verdict

R_VES_REPEATS = 10  # --r-ves without N; BIRD's script runs each pair 100 times: fewer is noisier and faster


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
    if looks_like_bird_json(text):
        return _bird_predictions(path, text, split)
    from workbench.core.scoring.scorer import parse_predictions

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


def _bird_predictions(path: Path, text: str, split: Split) -> list[str]:
    """BIRD's JSON predictions, checked against the split's questions and their databases."""
    try:
        entries = parse_bird_predictions(text, str(path), len(split.items))
    except PredictionsError as exc:
        raise CliError(str(exc)) from None
    for k, ((_, db_id), item) in enumerate(zip(entries, split.items, strict=True)):
        if db_id and db_id != item.db_id:
            raise CliError(
                f"{path}: key '{k}' names db_id {db_id!r} but question {item.index} is on {item.db_id!r}; "
                "are the predictions in question order?"
            )
    return [sql for sql, _ in entries]


def format_table(
    verdicts: Sequence[Verdict],
    levels: Sequence[str] = HARDNESS_LEVELS,
    bird: bool = False,
    rewards: dict[int, float] | None = None,
    engine: str = "sqlite",
) -> str:
    """Per hardness level: execution EX (BIRD's set EX for a BIRD dataset), test suite TS when a suite scored
    any item, then exact match EM (n/a off SQLite), or Soft-F1 for BIRD; R-VES when ``rewards`` (item -> BIRD
    reward) are given."""
    from workbench.core.scoring.bird_metrics import r_ves
    from workbench.core.scoring.scorer import summarize

    table = summarize(verdicts, levels)
    suite = "ts_n" in table["all"]
    second = "soft-F1" if bird else "exact match EM"
    wl, wx = max(9, *(len(level) + 1 for level in levels)), 20 if bird else 18  # BIRD's names are longer
    ts_head = f"{'test suite TS':>18}" if suite else ""
    execution = "execution (BIRD EX)" if bird else "execution EX"
    head = f"{'hardness':<{wl}}{'count':>7}{execution:>{wx}}{ts_head}{second:>18}"
    lines = [head + (f"{'R-VES':>9}" if rewards is not None else "")]
    for level in (*levels, "all"):
        row = table[level]
        n = row["n"]

        def cell(k: int, n: int = n) -> str:
            return f"{k:>6} {100.0 * k / n:6.1f}%" if n else f"{'-':>6} {'-':>7}"

        f1s = [v.soft_f1 or 0.0 for v in verdicts if v.status == "scored" and level in ("all", v.hardness)]
        f1 = f"{100.0 * sum(f1s) / n:6.1f}%" if n else f"{'-':>7}"
        ts = f"{cell(row['ts'], row['ts_n']):>18}" if suite else ""
        em = cell(row["exact"]) if engine == "sqlite" else "n/a"
        line = f"{level:<{wl}}{n:>7}{cell(row['exec']):>{wx}}{ts}{f1 if bird else em:>18}"
        if rewards is not None:
            mine = [
                rewards.get(v.index, 0.0) for v in verdicts if v.status == "scored" and level in ("all", v.hardness)
            ]
            line += f"{r_ves(mine):>9.2f}" if mine else f"{'-':>9}"
        lines.append(line)
    if bird:
        lines.append("exact match: not applicable to BIRD (its EX compares the sets of result rows)")
    elif engine != "sqlite":
        lines.append(f"exact match: not applicable ({engine}): Spider's exact-set match is defined for SQLite")
    unscored = table["all"]["unscored"]
    if unscored:
        lines.append(f"unscorable: {unscored} item(s), not counted above (see reasons in --jsonl)")
    return "\n".join(lines)


def _rewards(
    args: argparse.Namespace, dataset: Dataset, split: Split, preds: list[str], verdicts: list[Verdict]
) -> dict[int, float]:
    """BIRD's R-VES reward per item: each EX-correct pair timed ``--r-ves`` times in the sandbox, else 0."""
    from workbench.core.scoring.bird_metrics import TimingJob, timed_rewards

    jobs = [
        TimingJob(item.index, dataset.database(item.db_id), item.query, pred, args.r_ves)
        for item, pred, v in zip(split.items, preds, verdicts, strict=True)
        if v.exec_match
    ]
    return {v.index: 0.0 for v in verdicts} | timed_rewards(jobs, exec_limits(args), args.workers)


def cmd_score(args: argparse.Namespace) -> int:
    dataset = open_dataset(args, lazy_schemas=True)  # the scorer builds the schemas of the databases it scores
    if args.r_ves and dataset.engine != "sqlite":
        raise CliError(f"{dataset.location}: --r-ves is for SQLite datasets; this one is on {dataset.engine}")
    try:
        split = dataset.load_split(args.split)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    preds = read_predictions(args.predictions, split)
    for line in split.database_warnings():
        print(f"warning: {line}", file=sys.stderr)
    from workbench.core.scoring.scorer import Scorer

    update, finish = _progress(sys.stderr)
    with Scorer(dataset, workers=args.workers, limits=exec_limits(args), gold_cache=not args.no_gold_cache) as scorer:
        verdicts = scorer.score(split.items, preds, progress=update, database_problems=split.database_problems)
    finish()
    rewards = _rewards(args, dataset, split, preds, verdicts) if args.r_ves else None
    if args.jsonl:
        try:
            with open(args.jsonl, "w", encoding="utf-8") as out:
                for v in verdicts:
                    extra = {} if rewards is None else {"r_ves_reward": rewards[v.index]}
                    out.write(json.dumps(v.to_json() | extra) + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {args.jsonl}: {exc.strerror or exc}") from None
    print(f"dataset {dataset.location}  split {split.name}  {len(split.items)} questions")
    print(format_table(verdicts, dataset.hardness_levels, dataset.bird_metrics, rewards, dataset.engine))
    return 0


def add_arguments(score: argparse.ArgumentParser) -> None:
    add_dataset_args(score, "dev", "split name (dev, train) or a question/gold file")
    add_privileged_role_arg(score)
    score.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help='one SQL per line, in question order, or BIRD\'s JSON ({"0": "SQL\\t----- bird -----\\tdb_id", ...})',
    )
    score.add_argument("--jsonl", type=Path, help="write one JSON verdict per item to this file")
    score.add_argument(
        "--workers", type=positive_int, default=None, help="processes for execution (default: CPU count)"
    )
    score.add_argument(
        "--r-ves",
        type=positive_int,
        nargs="?",
        const=R_VES_REPEATS,
        metavar="N",
        help=f"BIRD's R-VES: time each correct pair N times (default {R_VES_REPEATS}) and report the reward",
    )
    add_limit_args(score)
    score.add_argument(
        "--no-gold-cache",
        action="store_true",
        help="execute every gold query again (default: reuse gold results kept in your cache folder, "
        "checked against each database's content)",
    )
    score.set_defaults(func=cmd_score)
