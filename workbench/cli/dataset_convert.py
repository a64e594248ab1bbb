"""`workbench dataset convert`: a SQLite dataset copied into DuckDB files or a PostgreSQL database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.cli.common import CliError
from workbench.core.data.inputs import one_line


def cmd_convert(args: argparse.Namespace) -> int:
    from workbench.core.data.convert import Target, convert_dataset
    from workbench.core.data.dataset import DatasetError

    target = Target(args.to, args.out, args.url or "", args.password_env or "")

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        found = convert_dataset(args.dir, target, progress)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(found.as_json(), indent=2, ensure_ascii=False))
        return 0
    for changed in found.changed:
        print(f"changed: {one_line(changed.line())}")
    print(found.summary())
    return 0


def add_convert_arguments(verbs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    convert = verbs.add_parser(
        "convert",
        help="copy a SQLite dataset (Spider or BIRD folder) into DuckDB files or a PostgreSQL database, "
        "transpiling its gold queries and reporting each one whose result changes",
    )
    convert.add_argument("dir", type=Path, help="Spider or BIRD folder holding SQLite databases")
    convert.add_argument("--to", required=True, choices=("duckdb", "postgres"), help="the engine to copy into")
    convert.add_argument(
        "--out",
        type=Path,
        required=True,
        help="new folder: engine.toml, schemas and question files (and the .duckdb files for --to duckdb)",
    )
    convert.add_argument("--url", help="for --to postgres: postgresql://user@host:port/dbname (no password in it)")
    convert.add_argument("--password-env", help="for --to postgres: the environment variable holding the password")
    convert.add_argument("--json", action="store_true", help="print the report as JSON")
    convert.set_defaults(func=cmd_convert)
