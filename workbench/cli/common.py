"""What every subcommand shares."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from workbench.core.watchdog import ExecLimits

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: printed as one clear line, exit status 2."""


def _positive(kind: type[float] | type[int], what: str) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{what} must be greater than 0, not {text}")
        return value

    return parse


def add_limit_args(parser: argparse.ArgumentParser) -> None:
    """--time-limit and --memory-limit: the bounds on every model or prediction SQL statement."""
    defaults = ExecLimits()
    parser.add_argument(
        "--time-limit",
        type=_positive(float, "--time-limit"),
        default=defaults.time_limit_s,
        metavar="S",
        help=f"seconds per SQL statement (default {defaults.time_limit_s:g})",
    )
    parser.add_argument(
        "--memory-limit",
        type=_positive(int, "--memory-limit"),
        default=defaults.memory_limit_mb,
        metavar="MB",
        help=f"memory per execution worker in MB (default {defaults.memory_limit_mb})",
    )


def exec_limits(args: argparse.Namespace) -> ExecLimits:
    try:
        return ExecLimits(time_limit_s=args.time_limit, memory_limit_mb=args.memory_limit)
    except ValueError as exc:
        raise CliError(str(exc)) from None
