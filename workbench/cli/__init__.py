"""Headless commands over the same core the desktop app uses.

workbench score --dataset DIR|DB [--questions FILE] --split dev --predictions FILE [--jsonl OUT] [--r-ves [N]]
                [--no-gold-cache]
workbench run --dataset DIR --split dev --variant NAME ... [--limit N] [--resume]
workbench runs
workbench report RUN [--json] [--html OUT] [--csv OUT]
workbench compare BASELINE CONTENDER [--json] [--fail-on-regression]
workbench local start|stop|status
workbench finetune export|validate|start|status|cancel
workbench dataset check DIR [--questions FILE]
workbench dataset convert DIR --to duckdb|postgres --out DIR [--url postgresql://...] [--json]
workbench testsuite generate --dataset DIR [--per-db N] [--split S] [--seed K] [--out DIR | --in-place]
workbench disputes list|export [OUT] --dataset DIR [--split S] [--json]

Start-up stays short because a command imports only its own module: ``COMMANDS`` names,
for each command, the line ``workbench --help`` shows and the ``module:function`` that adds
its arguments; only the command on the command line has its module imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Collection, Sequence

# command: (its line in `workbench --help`, "module:function" adding its arguments and `func`). One line per command.
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("score a predictions file against a dataset", "workbench.cli.score:add_arguments"),
    "run": ("ask endpoints to answer a split, score as answers arrive", "workbench.cli.run:add_run_arguments"),
    "runs": ("list the runs in the store", "workbench.cli.runs:add_runs_arguments"),
    "report": ("print a run's accuracy table", "workbench.cli.runs:add_report_arguments"),
    "compare": (
        "compare two runs' variants item by item (fixed, broken, Δ EX with CI)",
        "workbench.cli.compare:add_arguments",
    ),
    "local": ("the embedded local model server (no API key needed)", "workbench.cli.local:add_arguments"),
    "finetune": ("training data, validation and fine-tuning jobs", "workbench.cli.finetune:add_arguments"),
    "dataset": ("look into a dataset", "workbench.cli.dataset:add_arguments"),
    "testsuite": (
        "build a distilled test suite (several databases per schema)",
        "workbench.cli.testsuite:add_arguments",
    ),
    "disputes": ("the gold disputes kept for a dataset (made in the app)", "workbench.cli.disputes:add_arguments"),
}


def terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it (``COLUMNS``, else standard output's terminal,
    else 80), without importing shutil: it loads the compression modules (about 3 ms)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, its width found by :func:`terminal_columns` (argparse makes one for every argument added,
    and its own default imports shutil to find the width)."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)


def build_parser(filled: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The command line. Every command is listed; only those in ``filled`` (all when None) get their
    arguments, which imports their modules."""
    parser = argparse.ArgumentParser(
        prog="workbench", description="Prompt workbench for text-to-SQL.", formatter_class=HelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    for name, (help_line, target) in COMMANDS.items():
        command = sub.add_parser(name, help=help_line, formatter_class=HelpFormatter)
        if filled is None or name in filled:
            module, function = target.split(":")
            getattr(importlib.import_module(module), function)(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    named = next((a for a in args_list if not a.startswith("-")), None)  # the top level has no options but -h
    parser = build_parser({named} & COMMANDS.keys() if named else ())
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except Exception as exc:
        if not isinstance(exc, _bad_input_errors()):
            raise
        from workbench.cli.common import EXIT_BAD_INPUT
        from workbench.core.data.inputs import one_line
        from workbench.core.secrets import mask

        print(f"error: {one_line(mask(str(exc)))}", file=sys.stderr)  # bad input, wherever it was found: one line
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _bad_input_errors() -> tuple[type[Exception], ...]:
    """What counts as bad input, imported only when something went wrong (the store is not light)."""
    from workbench.cli.common import CliError
    from workbench.core.data.inputs import InputError
    from workbench.core.store import StoreError

    return CliError, InputError, StoreError
