"""What every subcommand shares."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.data.engine_setting import is_url
from workbench.core.sandbox.watchdog import MIN_MEMORY_LIMIT_MB, ExecLimits
from workbench.paths import DEMO_DATASET

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: printed as one clear line, exit status 2."""


def _number(kind: type[int] | type[float], minimum: float, strict: bool) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` at least ``minimum`` (more than it when ``strict``)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            bound = f"more than {minimum}" if strict else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"expected {bound}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, strict=False)  # concurrency, workers, rpm
non_negative_int = _number(int, 0, strict=False)  # limits, k
positive_float = _number(float, 0.0, strict=True)  # timeouts, poll intervals


def add_limit_args(parser: argparse.ArgumentParser) -> None:
    """--time-limit and --memory-limit: the bounds on every model or prediction SQL statement."""
    defaults = ExecLimits()
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        metavar="S",
        help=f"seconds per SQL statement (default {defaults.time_limit_s:g})",
    )
    parser.add_argument(
        "--memory-limit",
        type=_number(int, MIN_MEMORY_LIMIT_MB, strict=False),
        default=None,
        metavar="MB",
        help=f"memory per execution worker in MB (default {defaults.memory_limit_mb})",
    )


def exec_limits(args: argparse.Namespace, from_file: dict[str, float] | None = None) -> ExecLimits:
    """The run's SQL bounds: the command's flags, else the variants file's [limits], else the defaults."""
    defaults, given = ExecLimits(), from_file or {}
    time_limit = args.time_limit if args.time_limit is not None else given.get("time_limit", defaults.time_limit_s)
    memory = args.memory_limit if args.memory_limit is not None else given.get("memory_limit", defaults.memory_limit_mb)
    try:
        return ExecLimits(time_limit_s=float(time_limit), memory_limit_mb=int(memory))
    except ValueError as exc:
        raise CliError(str(exc)) from None


def dataset_location(text: str) -> str | Path:
    """An argparse type for where a dataset is: a ``postgresql://`` URL as given, else a path."""
    return text if is_url(text) else Path(text)


def add_privileged_role_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-privileged-role``, for a command that executes SQL on a dataset's databases."""
    parser.add_argument(
        "--allow-privileged-role",
        action="store_true",
        help="PostgreSQL: connect even as a superuser or a role that could write (refused by default)",
    )


def add_dataset_args(parser: argparse.ArgumentParser, split_default: str, split_help: str = "split name") -> None:
    """``--dataset``, ``--questions`` and ``--split``; :func:`open_dataset` reads them."""
    parser.add_argument(
        "--dataset",
        type=dataset_location,
        default=DEMO_DATASET,
        help="Spider or BIRD folder, SQLite or DuckDB file, folder holding one database, or postgresql:// URL "
        "(default: the bundled demo)",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        help="question file for a database: .csv or .jsonl with question, sql (optional db_id, evidence, hardness)",
    )
    parser.add_argument(
        "--split", help=f"{split_help} (default: {split_default}; for your own data, the question file's stem)"
    )
    parser.set_defaults(split_default=split_default)


def open_dataset(args: argparse.Namespace, lazy_schemas: bool = False) -> Dataset:
    """The dataset ``--dataset``/``--questions`` name, with ``args.split`` settled on one of its splits
    (``lazy_schemas``: see :class:`Dataset`)."""
    try:
        dataset = Dataset(args.dataset, args.questions, getattr(args, "allow_privileged_role", False), lazy_schemas)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if args.split is None:
        args.split = dataset.default_split(args.split_default)
    return dataset
