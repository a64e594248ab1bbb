"""Headless commands over the same core the desktop app uses.

workbench score --dataset DIR|DB [--questions FILE] --split dev --predictions FILE [--jsonl OUT]
workbench run --dataset DIR --split dev --variant NAME ... [--limit N] [--resume]
workbench runs
workbench report RUN [--json] [--html OUT] [--csv OUT]
workbench compare BASELINE CONTENDER [--json] [--fail-on-regression]
workbench local start|stop|status
workbench finetune export|validate|start|status|cancel
workbench dataset check DIR [--questions FILE]
workbench testsuite generate --dataset DIR [--per-db N] [--split S] [--seed K] [--out DIR | --in-place]
workbench disputes list|export [OUT] --dataset DIR [--split S] [--json]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workbench.cli import compare, dataset, disputes, finetune, local, run, score, testsuite
from workbench.cli.common import EXIT_BAD_INPUT, CliError
from workbench.core.data.inputs import InputError, one_line
from workbench.core.secrets import mask
from workbench.core.store import StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Prompt workbench for text-to-SQL.")
    sub = parser.add_subparsers(dest="command")
    score.add_parser(sub)
    run.add_parsers(sub)
    compare.add_parser(sub)
    local.add_parser(sub)
    finetune.add_parser(sub)
    dataset.add_parser(sub)
    testsuite.add_parser(sub)
    disputes.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except (CliError, InputError, StoreError) as exc:  # bad input, wherever it was found: one line
        print(f"error: {one_line(mask(str(exc)))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
