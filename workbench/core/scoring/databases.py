"""What scoring knows about one database of a dataset, small and picklable for the pool's workers."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from workbench.core.data.dataset import Dataset
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError, ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.scoring.exact import foreign_key_map
from workbench.core.scoring.spider_sql import SpiderSchema
from workbench.core.scoring.suite import database_files


@dataclass(frozen=True)
class DbInfo:
    """What scoring needs to know about one database, in a form worker processes can receive."""

    db_id: str
    ref: DatabaseRef
    suite: bool  # whether other *.sqlite files beside it are its test-suite databases (Spider layout, SQLite)
    tables: dict[str, list[str]]  # from the database, or from tables.json when it is unusable
    fk_pairs: tuple[tuple[int, int], ...]
    table_names: tuple[str, ...]
    column_names: tuple[tuple[int, str], ...]
    problem: str = ""  # set when the database is missing or unusable: its items are unscorable
    bird_metrics: bool = False  # BIRD's EX (set of rows) and Soft-F1 in place of Spider's EX and exact match

    @property
    def engine(self) -> str:
        return self.ref.engine

    def spider_schema(self) -> SpiderSchema:
        return SpiderSchema({t.lower(): [c.lower() for c in cols] for t, cols in self.tables.items()})

    def fk_map(self) -> dict[str, str]:
        return foreign_key_map(self.table_names, self.column_names, self.fk_pairs)

    def refs(self) -> list[DatabaseRef]:
        """The main database, then its test-suite databases (none outside the Spider layout on SQLite)."""
        if not self.suite:
            return [self.ref]
        files = database_files(os.path.dirname(self.ref.location), self.db_id)
        return [replace(self.ref, location=f) for f in files]

    def open_databases(self) -> list[ReadOnlyDatabase]:
        bounds = watchdog.limits()  # the pool's, in a worker
        return [
            registry.open_database(r, bounds.time_limit_s, bounds.max_rows, bounds.max_result_bytes)
            for r in self.refs()
        ]


def db_info(dataset: Dataset, db_id: str, problem: str | None = None) -> DbInfo:
    """What scoring needs of ``db_id``'s database. ``problem``: why it cannot be used ("" when it can), when the
    caller already knows (``Split.database_problems``); None asks the engine (for a server, a connection)."""
    schema = dataset.schema(db_id)
    raw = schema.raw
    ref = dataset.database(db_id)
    tables: dict[str, list[str]] = {}
    if problem is None:
        problem = registry.problem(ref)
    if problem:  # missing, empty, not a database at all, unreachable: every item is unscorable
        problem = f"database missing or unusable: {ref.label()}: {problem}"
    elif ref.engine != "sqlite":  # the file's own names matter to exact-set match alone, which is SQLite's
        tables = {t.name: [c.name for c in t.columns] for t in schema.tables}
    else:
        try:
            tables = registry.table_columns(ref, db_id)
        except EngineError as exc:  # a corrupt file: every item is unscorable
            problem = f"database missing or unusable: {exc}"
    if problem:
        tables = {t.name: [c.name for c in t.columns] for t in schema.tables}
    return DbInfo(
        db_id,
        ref,
        dataset.has_test_suites and ref.engine == "sqlite",
        tables,
        tuple(tuple(p) for p in raw["foreign_keys"]),
        tuple(raw["table_names_original"]),
        tuple(tuple(c) for c in raw["column_names_original"]),
        problem,
        dataset.bird_metrics,
    )
