"""What a dataset holds and what is wrong with its gold SQL (``workbench dataset check``).

Every gold query runs twice, read-only through its engine: once as written and once with
SQLite told to reverse every scan whose order is unspecified (other engines run it as written
again). A gold query that fails,
returns no rows, or returns other rows the second time (its answer depends on an order
nobody asked for) is a problem, each named by its place in the question file. ``LIMIT``
without ``ORDER BY`` is flagged even when the two runs happen to agree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workbench.core.data.dataset import Dataset, Item
from workbench.core.engines import registry
from workbench.core.engines.base import EngineError, ReadOnlyDatabase
from workbench.core.sandbox.sqlexec import QueryError
from workbench.core.sandbox.watchdog import ExecLimits

_LIMIT = re.compile(r"\blimit\b", re.IGNORECASE)
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    where: str  # "questions.csv: line 4"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class CheckReport:
    found: list[str] = field(default_factory=list)  # what the dataset holds, a line each
    problems: list[Problem] = field(default_factory=list)


def unordered_limit(sql: str) -> bool:
    """Whether ``sql`` has a LIMIT but no ORDER BY anywhere (which rows come back is up to SQLite)."""
    return bool(_LIMIT.search(sql)) and not _ORDER_BY.search(sql)


def _same(first: list[tuple[Any, ...]], second: list[tuple[Any, ...]], ordered: bool) -> bool:
    if ordered:
        return first == second
    return Counter(map(repr, first)) == Counter(map(repr, second))


def _check_gold(item: Item, forward: ReadOnlyDatabase, backward: ReadOnlyDatabase) -> list[Problem]:
    first = forward.execute(item.query)
    if isinstance(first, QueryError):
        return [Problem(item.where, f"gold query fails: {first}")]
    if not first.rows:
        return [Problem(item.where, "gold query returns no rows")]
    second = backward.execute(item.query)
    limit = unordered_limit(item.query)
    if isinstance(second, QueryError) or not _same(first.rows, second.rows, bool(_ORDER_BY.search(item.query))):
        why = " (LIMIT without ORDER BY)" if limit else ""
        return [Problem(item.where, f"gold query returns other rows when run again{why}")]
    if limit:
        return [Problem(item.where, "gold query has LIMIT without ORDER BY: which rows come back is up to SQLite")]
    return []


def _databases(
    dataset: Dataset, db_ids: list[str], report: CheckReport, limits: ExecLimits | None = None
) -> dict[str, tuple[ReadOnlyDatabase, ...]]:
    bounds = () if limits is None else (limits.time_limit_s, limits.max_rows, limits.max_result_bytes)
    opened: dict[str, tuple[ReadOnlyDatabase, ...]] = {}
    for db_id in db_ids:
        ref = dataset.database(db_id)
        problem = dataset.database_problem(db_id)
        tables = dataset.schema(db_id).tables
        names = ", ".join(t.name for t in tables)
        report.found.append(f"database {db_id}: {ref.label()} ({len(tables)} tables: {names})")
        if problem:
            report.problems.append(Problem(ref.label(), f"database {db_id!r} is unusable: {problem}"))
            continue
        try:
            forward = registry.open_database(ref, *bounds)
            try:
                opened[db_id] = (forward, registry.open_database(ref, *bounds, reverse_unordered=True))
            except EngineError:
                forward.close()
                raise
        except EngineError as exc:
            report.problems.append(Problem(ref.label(), f"database {db_id!r} cannot be opened: {exc}"))
    return opened


def gold_problems(dataset: Dataset, items: Iterable[Item], limits: ExecLimits | None = None) -> dict[int, str]:
    """Item index -> what is wrong with its gold query, by ``dataset check``'s rules, for the items given; a
    database that cannot be used gives its items that problem. ``limits``: the statements' bounds (None: the
    engines' defaults)."""
    by_db: dict[str, list[Item]] = {}
    for item in items:
        by_db.setdefault(item.db_id, []).append(item)
    found: dict[int, str] = {}
    for db_id, group in by_db.items():
        report = CheckReport()
        opened = _databases(dataset, [db_id], report, limits)
        if db_id not in opened:
            why = report.problems[0].what if report.problems else f"database {db_id!r} is unusable"
            found.update((item.index, why) for item in group)
            continue
        try:
            for item in group:
                problems = _check_gold(item, *opened[db_id])
                if problems:
                    found[item.index] = problems[0].what
        finally:
            for db in opened[db_id]:
                db.close()
    return found


def check_dataset(dataset: Dataset) -> CheckReport:
    """What ``dataset`` holds (databases, tables, questions per database) and its gold SQL's problems."""
    report = CheckReport()
    dataset.check_schemas()  # every tables.json entry, used or not (others build only those they use)
    splits = {name: dataset.load_split(name) for name in dataset.splits}  # unreadable input raises DatasetError
    used = sorted({item.db_id for split in splits.values() for item in split.items})
    opened = _databases(dataset, [d for d in dataset.db_ids if d in used] or dataset.db_ids[:1], report)
    if not splits:
        report.problems.append(Problem(str(dataset.root), "no question files"))
    try:
        for name, split in splits.items():
            per_db = Counter(item.db_id for item in split.items)
            counts = ", ".join(f"{db_id} {n}" for db_id, n in sorted(per_db.items()))
            report.found.append(f"split {name}: {len(split)} questions ({counts})")
            for item in split.items:
                if item.db_id in opened:
                    report.problems.extend(_check_gold(item, *opened[item.db_id]))
    finally:
        for pair in opened.values():
            for db in pair:
                db.close()
    return report
