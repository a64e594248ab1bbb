"""A distilled test suite for a Spider-format dataset, written beside each ``<db_id>.sqlite``.

For every database that the split's questions use: read its shape and value pools (with the
gold queries' literals added), make candidate random databases (``fill``), probe the original
and each candidate with every gold query and its neighbours in a ``BoundedPool``, keep what the
greedy cover picks (at most ``per_db``) and write them as ``<db_id>_ts1.sqlite``,
``<db_id>_ts2.sqlite``, ... in the database's folder, where scoring finds them (any ``*.sqlite``
there, as the official evaluator reads its folder).

The suite goes into a copy of the dataset (``out``: its top-level files and each database's
``<db_id>.sqlite``), never into the user's folder unless ``out`` is that folder; a previous
suite of ours there (``*_tsN.sqlite``) is replaced. The work is bounded: candidates, rows per
table, neighbours per query, and time and memory per statement.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.data.dataset import Dataset, Item
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.bounded_pool import BoundedPool, WorkerKilled
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring.testsuite.distill import Probe, ProbeResult, greedy_cover, probe_database
from workbench.core.scoring.testsuite.fill import random_rows, write_database
from workbench.core.scoring.testsuite.neighbours import compared_values, neighbours
from workbench.core.scoring.testsuite.shape import DatabaseShape, read_shape

MAX_CANDIDATES = 40
SHAPE_TIME_S = 60.0  # reading a database's schema and value pools, in a bounded worker
_OURS = re.compile(r".+_ts\d+\.sqlite$")


class SuiteError(Exception):
    """Bad input for the generator: one line naming what is wrong."""


@dataclass(frozen=True)
class SuiteOptions:
    per_db: int = 3  # databases kept per schema, at most (beside the original)
    split: str = "dev"
    seed: int = 0
    limit: int | None = None  # the split's first N questions only
    candidates_per_kept: int = 4  # random candidates made per database to keep
    max_rows: int = 20  # rows per table in a candidate, at most
    workers: int = 1
    limits: ExecLimits = field(default_factory=lambda: ExecLimits(time_limit_s=2.0, memory_limit_mb=512))


@dataclass(frozen=True)
class SuiteReport:
    db_id: str
    queries: int
    pairs: int  # (gold, neighbour) pairs
    by_original: int  # pairs the original database tells apart
    by_suite: int  # pairs the original and the kept databases tell apart
    candidates: int
    kept: tuple[str, ...]  # file names written
    seconds: float

    def line(self) -> str:
        return (f"{self.db_id}: {self.queries} queries, {self.pairs} neighbours; told apart by the original "
                f"{self.by_original}, with the suite {self.by_suite}; kept {len(self.kept)} of {self.candidates} "
                f"candidates in {self.seconds:.1f}s")  # fmt: skip


def _target(dataset: Dataset, out: Path) -> Path:
    """The folder the suite goes into: ``out`` itself when it is the dataset, else a fresh copy there."""
    if out.resolve() == dataset.root.resolve():
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SuiteError(f"{out}: already exists and is not an empty folder; give a new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    for entry in dataset.root.iterdir():
        if entry.is_file():
            shutil.copy2(entry, out / entry.name)
    for db_id in dataset.db_ids:
        source = dataset.db_path(db_id)
        if source.is_file():
            (out / "database" / db_id).mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, out / "database" / db_id / source.name)
    return out


def generate_suite(
    dataset: Dataset, out: Path, options: SuiteOptions, progress: Callable[[str], None] = lambda _: None
) -> list[SuiteReport]:
    """Build the suite into ``out`` (see the module doc); SuiteError or DatasetError on bad input."""
    if not dataset.has_test_suites or dataset.tables_path is None:
        raise SuiteError(f"{dataset.root}: a test suite needs a Spider-format folder (tables.json, "
                         "database/<db_id>/<db_id>.sqlite)")  # fmt: skip
    if dataset.engine != "sqlite":
        raise SuiteError(f"{dataset.root}: a test suite is built from SQLite databases; this dataset is on "
                         f"{dataset.engine} (engine.toml)")  # fmt: skip
    items = dataset.load_split(options.split).items
    items = items[: options.limit] if options.limit is not None else items
    by_db: dict[str, list[Item]] = {}
    for item in items:
        if dataset.database_problem(item.db_id) == "":
            by_db.setdefault(item.db_id, []).append(item)
    target = _target(dataset, out)
    reports = []
    pool = BoundedPool(options.workers, options.limits, context="fork")
    try:
        for k, (db_id, db_items) in enumerate(by_db.items(), start=1):
            progress(f"testsuite {k}/{len(by_db)}: {db_id} ({len(db_items)} queries)")
            report = _suite_for(pool, target / "database" / db_id, db_id, db_items, options)
            progress(f"testsuite {k}/{len(by_db)}: {report.line()}")
            reports.append(report)
    finally:
        pool.shutdown(cancel_futures=True)
    return reports


def _suite_for(pool: BoundedPool, folder: Path, db_id: str, items: list[Item], options: SuiteOptions) -> SuiteReport:
    start = time.monotonic()
    main = folder / f"{db_id}.sqlite"
    for old in folder.iterdir():
        if _OURS.match(old.name) and old.name.startswith(db_id):
            old.unlink()
    try:
        shape = pool.submit(_bounded_shape, str(main)).result()
    except sqlite3.Error as exc:
        raise SuiteError(f"{main}: cannot read its schema: {exc}") from None
    except WorkerKilled as killed:
        raise SuiteError(f"{main}: reading its schema and values passed a bound: {killed}") from None
    for item in items:
        for table, column, values in compared_values(item.query):
            shape.add_values(table, column, values)
    columns_of = {t.name: t.columns for t in shape.tables}
    probes = [Probe.of(item.query, neighbours(item.query, columns_of)) for item in items]
    pairs = sum(len(p.neighbours) for p in probes)
    count = min(MAX_CANDIDATES, options.per_db * options.candidates_per_kept)
    rng = random.Random(f"{options.seed}:{db_id}")
    with tempfile.TemporaryDirectory(prefix=".candidates-", dir=folder) as scratch:
        paths = []
        for c in range(count):
            path = Path(scratch) / f"candidate{c}.sqlite"
            write_database(shape, random_rows(shape, rng, options.max_rows), path)
            paths.append(path)
        futures = [pool.submit(probe_database, str(p), probes) for p in [main, *paths]]
        results = [_result(f) for f in futures]
        original = results[0] or ProbeResult((), frozenset())
        cover = greedy_cover(original, results[1:], pairs, options.per_db)
        kept = []
        for n, position in enumerate(cover.chosen, start=1):
            name = f"{db_id}_ts{n}.sqlite"
            os.replace(paths[position], folder / name)
            kept.append(name)
    return SuiteReport(db_id, len(items), pairs, cover.by_original, cover.by_suite, count, tuple(kept),
                       time.monotonic() - start)  # fmt: skip


def _bounded_shape(path: str) -> DatabaseShape:
    """In a pool worker (its memory cap applies): the shape, read within ``SHAPE_TIME_S``."""
    with watchdog.bounded(SHAPE_TIME_S, watchdog.PARSING):
        return read_shape(Path(path))


def _result(future: Future[ProbeResult]) -> ProbeResult | None:
    try:
        return future.result()
    except WorkerKilled:  # a statement passed its bound: this database is not used
        return None
