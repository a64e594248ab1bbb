"""`workbench disputes list|export`: the gold disputes kept for a dataset, as lines, JSON or a file.

Disputes are made in the app (Dispute… on a question or an answer) and kept in the run store,
per dataset and split; they are never written into the dataset.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import CliError
from workbench.core.data.dataset import Dataset, DatasetError, Item
from workbench.core.data.inputs import one_line
from workbench.core.store import Store, default_store_path
from workbench.paths import DEMO_DATASET

CSV_COLUMNS = ("split", "item_index", "kind", "label", "question", "note", "predicted_sql", "said_of", "created_at")


def _listing(args: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    """The dataset's root as the store knows it, and its disputes with each one's question."""
    try:
        dataset = Dataset(args.dataset, args.questions)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    root = dataset.identity[0]
    store = Store(args.store)
    try:
        disputes = store.disputes(root, args.split)
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{args.store}: the run store cannot be read ({exc})") from None
    finally:
        store.close()
    questions: dict[str, dict[int, Item]] = {}
    out = []
    for d in disputes:
        if d.split not in questions:
            questions[d.split] = _items(dataset, d.split)
        item = questions[d.split].get(d.item_index)
        out.append({**d.to_json(), "label": d.label, "question": item.question if item else ""})
    return root, out


def _items(dataset: Dataset, split: str) -> dict[int, Item]:
    try:
        return {item.index: item for item in dataset.load_split(split).items}
    except DatasetError:  # the split's file has gone: the disputes are listed without their questions
        return {}


def cmd_list(args: argparse.Namespace) -> int:
    root, rows = _listing(args)
    if args.json:
        print(json.dumps({"dataset": root, "split": args.split, "disputes": rows}, indent=2))
        return 0
    if not rows:
        print(f"no gold disputes for {root}" + (f" (split {args.split})" if args.split else ""))
        return 0
    for row in rows:
        said = f" ({row['said_of']})" if row["said_of"] else ""
        print(one_line(f"{row['split']} #{row['item_index']}: {row['label']}{said}: {row['question']}"))
        if row["note"]:
            print("    note: " + one_line(row["note"]))
        if row["predicted_sql"]:
            print("    prediction: " + one_line(row["predicted_sql"]))
    print(f"{len(rows)} dispute(s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise CliError(f"{args.out}: expected a file name ending .json or .csv")
    root, rows = _listing(args)
    if suffix == ".json":
        text = json.dumps({"dataset": root, "split": args.split, "disputes": rows}, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {args.out} ({len(rows)} disputes)", file=sys.stderr)
    return 0


def add_arguments(disputes: argparse.ArgumentParser) -> None:
    verbs = disputes.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="print the dataset's disputes")
    export = verbs.add_parser("export", help="write the dataset's disputes to a .json or .csv file")
    export.add_argument("out", type=Path, help="the file to write (.json or .csv)")
    for parser, func in ((listing, cmd_list), (export, cmd_export)):
        parser.add_argument(
            "--dataset", type=Path, default=DEMO_DATASET, help="Spider folder or database (default: the bundled demo)"
        )
        parser.add_argument("--questions", type=Path, help="question file (.csv or .jsonl) for a database file")
        parser.add_argument("--split", help="only this split's disputes (default: every split)")
        parser.add_argument("--store", type=Path, default=default_store_path(), help="run store (default: yours)")
        parser.set_defaults(func=func)
    listing.add_argument("--json", action="store_true", help="machine-readable output")


__all__ = ["CSV_COLUMNS", "add_arguments"]
