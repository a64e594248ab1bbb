"""Engines: items per second executing the demo's dev split on SQLite, DuckDB and PostgreSQL.

    python bench/engines.py [--repeat 5]

Converts the demo itself into a temporary folder (``dataset convert`` to DuckDB files, and to a
PostgreSQL server started for the run with ``tests.pg_server.start_server`` — initdb into a temp
folder — when that module and the server binaries are there). Scoring a DuckDB or PostgreSQL
dataset end to end needs the dataset to name its engine, so this bench measures what scoring
does per item on each engine instead: the gold query and a prediction (the demo's sample
predictions, transpiled like the gold) executed through ``registry.open_database``, one
connection per database, rows fetched and normalised. items/s = (gold + prediction
executions) / 2 per second, over ``--repeat`` passes. An engine that cannot run here (its
module or server missing) prints ``n/a`` and says why on stderr.
Last line: sqlite_per_s=.. duckdb_per_s=.. postgres_per_s=..
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.core.data.convert import Target, convert_dataset  # noqa: E402
from workbench.core.data.transpile import transpile  # noqa: E402
from workbench.core.engines import registry  # noqa: E402
from workbench.core.engines.base import DatabaseRef  # noqa: E402
from workbench.paths import DEMO_DATASET  # noqa: E402

Work = list[tuple[str, str, str]]  # (db_id, gold, prediction), in the engine's dialect


def demo_work(engine: str) -> Work:
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    predictions = (DEMO_DATASET / "sample_predictions.sql").read_text().splitlines()
    pairs = zip(dev, predictions, strict=True)
    return [(d["db_id"], transpile(d["query"], engine), transpile(p, engine)) for d, p in pairs]


def items_per_s(refs: dict[str, DatabaseRef], work: Work, repeat: int) -> float:
    """Gold and prediction of every item, ``repeat`` times; one connection per database."""
    connections = {db_id: registry.open_database(ref) for db_id, ref in refs.items()}
    try:
        for db_id, gold, _ in work:  # warm: first-touch costs are not what a run pays per item
            connections[db_id].execute(gold)
        started = time.perf_counter()
        for _ in range(repeat):
            for db_id, gold, prediction in work:
                connections[db_id].execute(gold)
                connections[db_id].execute(prediction)
        elapsed = time.perf_counter() - started
    finally:
        for db in connections.values():
            db.close()
    return repeat * len(work) / elapsed


def measure(name: str, build: Callable[[], dict[str, DatabaseRef]], repeat: int) -> str:
    try:
        refs = build()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:  # the engine or its server is not here
        print(f"{name}: n/a ({type(exc).__name__}: {exc})", file=sys.stderr)
        return "n/a"
    try:
        rate = items_per_s(refs, demo_work(name), repeat)
    except ImportError as exc:
        print(f"{name}: n/a ({exc})", file=sys.stderr)
        return "n/a"
    print(f"{name}: {rate:.1f} items/s", file=sys.stderr)
    return f"{rate:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        folder = Path(tmp)
        db_ids = sorted({d["db_id"] for d in json.loads((DEMO_DATASET / "dev.json").read_text())})

        def sqlite() -> dict[str, DatabaseRef]:
            return {d: DatabaseRef("sqlite", str(DEMO_DATASET / "database" / d / f"{d}.sqlite")) for d in db_ids}

        def duckdb() -> dict[str, DatabaseRef]:
            convert_dataset(DEMO_DATASET, Target("duckdb", folder / "duckdb"))
            return {d: DatabaseRef("duckdb", str(folder / "duckdb" / "database" / d / f"{d}.duckdb")) for d in db_ids}

        servers = []

        def postgres() -> dict[str, DatabaseRef]:
            from tests import pg_server  # written with the PostgreSQL engine; absent: n/a

            server = pg_server.start_server(folder / "pg")
            servers.append(server)
            url = server.url(pg_server.ADMIN)
            convert_dataset(DEMO_DATASET, Target("postgres", folder / "postgres", url))
            return {d: DatabaseRef("postgres", url, d, allow_privileged_role=True) for d in db_ids}

        try:
            rates = {name: measure(name, build, args.repeat) for name, build in
                     (("sqlite", sqlite), ("duckdb", duckdb), ("postgres", postgres))}  # fmt: skip
        finally:
            for server in servers:
                server.stop()
    print(" ".join(f"{name}_per_s={rate}" for name, rate in rates.items()))


if __name__ == "__main__":
    main()
