"""`workbench runs` and `workbench report`: what the run store holds, read without the runner, the endpoints'
clients or the prompt templates (start-up: a command imports only what it uses)."""

from __future__ import annotations

import argparse
import json
import shlex
import sqlite3
import sys
from pathlib import Path

from workbench.cli.common import CliError, add_privileged_role_arg
from workbench.cli.run_output import format_summaries
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.reports.experiments import ArmSpec, arm_specs
from workbench.core.reports.results import RunResults
from workbench.core.store import RunInfo, Store, StoreError, default_store_path


def unreadable(store_path: Path, exc: sqlite3.DatabaseError) -> CliError:
    return CliError(f"{store_path}: the run store cannot be read ({exc})")


def _dataset_of(info: RunInfo) -> Dataset | None:
    """The run's dataset (for its hardness levels, BIRD's three for a BIRD folder, and engine); None if it is gone."""
    try:
        return Dataset(info.dataset_root, info.questions)
    except DatasetError:
        return None


def _levels_of(info: RunInfo) -> tuple[str, ...] | None:
    dataset = _dataset_of(info)
    return None if dataset is None else dataset.hardness_levels


def print_report(store_path: Path, run: str | int, as_json: bool) -> int:
    store = Store(store_path)
    try:
        info = store.run(run)
        dataset = _dataset_of(info)
        results = RunResults.from_store(store, info.id, None if dataset is None else dataset.hardness_levels)
        summaries, pairs = results.summaries(), results.comparisons()
        disputes = store.disputes(info.dataset_root, info.split)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise unreadable(store_path, exc) from None
    finally:
        store.close()
    if as_json:
        print(
            json.dumps(
                {
                    "run": info.name,
                    "id": info.id,
                    "dataset": info.dataset_root,
                    "split": info.split,
                    "state": info.state,
                    "variants": [s.to_json() for s in summaries],
                    "paired": [p.to_json() for p in pairs],
                    "disputes": [d.to_json() for d in disputes],
                },
                indent=2,
            )
        )
    else:
        print(f"run {info.name!r} (#{info.id})  {info.dataset_root}  split {info.split}  state {info.state}")
        print(format_summaries(summaries, "sqlite" if dataset is None else dataset.engine))
        print(
            f"EX%ovr: EX with the split's {len(disputes)} gold dispute(s) applied (docs/scoring.md; "
            "workbench disputes list)"
            if disputes
            else "EX%ovr: EX with gold disputes applied; none on this split"
        )
        print("answered by: " + ", ".join(f"{s.variant} = {s.model}" for s in summaries))
        for p in pairs:
            print(
                f"{p.first} vs {p.second}: {p.first_only} won, {p.second_only} lost, "
                f"{p.both_right} both right, {p.both_wrong} both wrong (n={p.n}); McNemar p = {p.p_value:.4g}"
            )
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        runs = store.runs()
        specs: dict[int, dict[str, ArmSpec]] = {r.id: arm_specs(store, r.id) for r in runs}
    except sqlite3.DatabaseError as exc:
        raise unreadable(args.store, exc) from None
    finally:
        store.close()
    if not runs:
        print(f"no runs in {args.store}")
    for r in runs:
        print(f"#{r.id:<4} {r.name:<32} {r.state:<12} {r.split:<6} {r.created_at}  {r.dataset_root}")
        for variant, spec in specs[r.id].items():
            print(f"      {variant}: {spec.describe()}")
    stopped = [r for r in runs if r.state in RESUMABLE]
    for r in stopped:
        questions = f" --questions {shlex.quote(r.questions)}" if r.questions else ""
        print(
            f"  #{r.id} {r.state}: continue it with  workbench run --run-name {shlex.quote(r.name)} --resume "
            f"--dataset {shlex.quote(r.dataset_root)}{questions} --split {shlex.quote(r.split)} and the variant "
            "options it was started with"
        )
    return 0


RESUMABLE = ("interrupted", "cancelled")


def cmd_report(args: argparse.Namespace) -> int:
    for kind, out in (("html", args.html), ("csv", args.csv)):
        if out is None:
            continue
        from workbench.core.reports.export import write_report  # the report writer: only when a file is asked for

        store = Store(args.store)
        try:
            data = write_report(store, args.run, out, kind, args.baseline, _levels_of(store.run(args.run)),
                                args.allow_privileged_role)  # fmt: skip
        except StoreError as exc:
            raise CliError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise unreadable(args.store, exc) from None
        except OSError as exc:
            raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
        finally:
            store.close()
        extra = f", {data.disagreement_total} disagreements" if kind == "html" else ""
        print(f"wrote {out} ({kind}, {len(data.summaries)} variants{extra})", file=sys.stderr)
    return print_report(args.store, args.run, args.json)


def add_runs_arguments(runs: argparse.ArgumentParser) -> None:
    store_arg(runs)
    runs.set_defaults(func=cmd_runs)


def add_report_arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument("run", help="run name or id")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.add_argument("--html", type=Path, metavar="OUT", help="also write a self-contained HTML report")
    report.add_argument("--csv", type=Path, metavar="OUT", help="also write the accuracy table as CSV")
    report.add_argument("--baseline", metavar="RUN[:VARIANT]", help="the HTML report compares each variant with it")
    add_privileged_role_arg(report)
    store_arg(report)
    report.set_defaults(func=cmd_report)


def store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, default=default_store_path(), help="run store (default: your workspace)")
