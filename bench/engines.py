"""Engines: items per second scoring the demo's dev gold on SQLite, DuckDB and PostgreSQL.

    python bench/engines.py [--repeat 3]

Converts the demo itself into a temporary folder (``dataset convert`` to DuckDB files, and into a
PostgreSQL server started for the run with ``tests.pg_server.start_server``: initdb into a temp
folder), then scores each copy's dev gold as the predictions with the real scorer (``Scorer``:
two worker processes, the gold-result cache off so every gold query and every prediction is
executed, verdicts built), best of ``--repeat`` passes. An engine that cannot run here (its
driver or server binaries missing) prints ``n/a`` and says why on stderr.
Last line: sqlite_per_s=.. duckdb_per_s=.. postgres_per_s=..
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.core.data.convert import Target, convert_dataset  # noqa: E402
from workbench.core.data.dataset import Dataset  # noqa: E402
from workbench.core.scoring.scorer import Scorer  # noqa: E402
from workbench.paths import DEMO_DATASET  # noqa: E402


def items_per_s(dataset: Dataset, repeat: int) -> float:
    """Score the dev split's gold as its predictions, ``repeat`` times in one scorer; the best pass."""
    items = dataset.load_split("dev").items
    best = float("inf")
    with Scorer(dataset, workers=2, gold_cache=False) as scorer:
        scorer.score(items[:4], [i.query for i in items[:4]])  # warm: workers started, connections opened
        for _ in range(repeat):
            started = time.perf_counter()
            verdicts = scorer.score(items, [i.query for i in items])
            best = min(best, time.perf_counter() - started)
    right = sum(bool(v.exec_match) for v in verdicts)
    print(f"{dataset.engine}: {right}/{len(items)} gold queries match themselves", file=sys.stderr)
    return len(items) / best


def measure(name: str, build: Callable[[], Dataset], repeat: int) -> str:
    try:
        dataset = build()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:  # the engine or its server is not here
        print(f"{name}: n/a ({type(exc).__name__}: {exc})", file=sys.stderr)
        return "n/a"
    rate = items_per_s(dataset, repeat)
    print(f"{name}: {rate:.1f} items/s", file=sys.stderr)
    return f"{rate:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        folder = Path(tmp)

        def sqlite() -> Dataset:
            return Dataset(DEMO_DATASET)

        def duckdb() -> Dataset:
            convert_dataset(DEMO_DATASET, Target("duckdb", folder / "duckdb"))
            return Dataset(folder / "duckdb")

        servers = []

        def postgres() -> Dataset:
            from tests import pg_server

            server = pg_server.start_server(folder / "pg")
            servers.append(server)
            owner = pg_server.OWNER  # the converting role; the bench reads as it too (--allow-privileged-role)
            target = Target("postgres", folder / "postgres", server.url(owner), pg_server.PASSWORD_ENV[owner])
            convert_dataset(DEMO_DATASET, target)
            return Dataset(folder / "postgres", allow_privileged_role=True)

        try:
            rates = {name: measure(name, build, args.repeat) for name, build in
                     (("sqlite", sqlite), ("duckdb", duckdb), ("postgres", postgres))}  # fmt: skip
        finally:
            for server in servers:
                server.stop()
    print(" ".join(f"{name}_per_s={rate}" for name, rate in rates.items()))


if __name__ == "__main__":
    main()
