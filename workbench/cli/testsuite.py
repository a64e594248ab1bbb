"""`workbench testsuite generate`: build a distilled test suite for a Spider-format dataset.

workbench testsuite generate --dataset DIR [--per-db N] [--split S] [--seed K] [--out DIR | --in-place] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from workbench.cli.common import CliError, add_privileged_role_arg, non_negative_int, positive_int
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.data.inputs import one_line
from workbench.core.scoring.testsuite import SuiteError, SuiteOptions, generate_suite


def _out_folder(args: argparse.Namespace, dataset: Dataset) -> Path:
    if args.in_place:
        if args.out is not None:
            raise CliError("--out and --in-place: give one of them")
        return dataset.root
    return args.out if args.out is not None else dataset.root.with_name(dataset.root.name + "-testsuite")


def cmd_generate(args: argparse.Namespace) -> int:
    if not args.dataset.exists():
        raise CliError(f"{args.dataset}: dataset not found")
    try:
        dataset = Dataset(args.dataset, allow_privileged_role=args.allow_privileged_role)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    out = _out_folder(args, dataset)
    options = SuiteOptions(per_db=args.per_db, split=args.split, seed=args.seed, limit=args.limit,
                           workers=args.workers or max(1, (os.cpu_count() or 1)))  # fmt: skip
    start = time.monotonic()
    try:
        reports = generate_suite(dataset, out, options, lambda line: print(one_line(line), file=sys.stderr))
    except (SuiteError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    kept = sum(len(r.kept) for r in reports)
    pairs, told = sum(r.pairs for r in reports), sum(r.by_suite for r in reports)
    print(f"test suite in {out}: {kept} database(s) for {len(reports)} schema(s); "
          f"{told} of {pairs} neighbours told apart; built in {time.monotonic() - start:.1f}s")  # fmt: skip
    return 0


def add_arguments(suite: argparse.ArgumentParser) -> None:
    verbs = suite.add_subparsers(dest="verb", required=True)
    gen = verbs.add_parser(
        "generate",
        help="random databases that keep each schema's keys and values, distilled to those that tell each gold "
        "query from its near neighbours; written as database/<db_id>/<db_id>_tsN.sqlite in a copy of the dataset",
    )
    gen.add_argument("--dataset", type=Path, required=True, help="Spider-format folder (tables.json, database/)")
    add_privileged_role_arg(gen)
    gen.add_argument("--per-db", type=positive_int, default=3, help="databases kept per schema, at most (default 3)")
    gen.add_argument("--split", default="dev", help="the split whose gold queries the suite is distilled for")
    gen.add_argument("--seed", type=int, default=0, help="random seed (the same seed builds the same suite)")
    gen.add_argument("--limit", type=non_negative_int, help="only the split's first N questions")
    gen.add_argument("--out", type=Path, help="where the copy of the dataset with the suite goes "
                     "(default: DATASET-testsuite beside it); a new or empty folder")  # fmt: skip
    gen.add_argument("--in-place", action="store_true", help="write the suite into the dataset itself")
    gen.add_argument("--workers", type=positive_int, help="processes for execution (default: CPU count)")
    gen.set_defaults(func=cmd_generate)
