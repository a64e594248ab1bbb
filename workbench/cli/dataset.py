"""`workbench dataset check`: what a dataset holds and what is wrong with its gold SQL; `dataset convert` lives in
``dataset_convert``."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import CliError, add_privileged_role_arg, dataset_location
from workbench.cli.dataset_convert import add_convert_arguments
from workbench.core.data.check import check_dataset
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.data.inputs import one_line

EXIT_PROBLEMS = 1


def cmd_check(args: argparse.Namespace) -> int:
    try:
        dataset = Dataset(args.dir, args.questions, args.allow_privileged_role)
        report = check_dataset(dataset)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    for line in report.found:
        print(one_line(line))
    for problem in report.problems:
        print(f"problem: {one_line(str(problem))}")
    if report.problems:
        print(f"{len(report.problems)} problem(s)")
        return EXIT_PROBLEMS
    print("no problems found")
    return 0


def add_arguments(dataset: argparse.ArgumentParser) -> None:
    verbs = dataset.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser(
        "check", help="what a dataset holds and which gold queries fail, return nothing or are not deterministic"
    )
    check.add_argument(
        "dir",
        type=dataset_location,
        help="Spider or BIRD folder, SQLite or DuckDB file, folder holding one database, or postgresql:// URL",
    )
    check.add_argument("--questions", type=Path, help="question file (.csv or .jsonl) for a database file or URL")
    add_privileged_role_arg(check)
    check.set_defaults(func=cmd_check)
    add_convert_arguments(verbs)
