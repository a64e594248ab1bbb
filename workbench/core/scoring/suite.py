"""Execution match on one database (EX) and on a whole test suite (TS).

A test suite is the official layout of Zhong, Yu and Klein (EMNLP 2020): the folder of
``<db_id>.sqlite`` holds further SQLite files with the same schema and other contents.
EX compares prediction and gold on ``<db_id>.sqlite`` only (Spider's execution accuracy);
TS says "match" only when they agree on every database of the folder, the main one
included, with the same comparison (``execution.compare_results``).

Where the official evaluator (test-suite-sql-eval, ``exec_eval.py``) asserts that gold runs
on each database and stops the whole evaluation otherwise, we run gold on every database
first and give that one item no TS verdict (``None``, with the failing file in the reason),
so the answer does not depend on the order files are listed in. A prediction that fails or
differs on any database is wrong for TS; the first such database is named.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.sqlexec import QueryError
from workbench.core.scoring.execution import compare_results, order_matters, prepare_for_execution

GoldRows = Callable[[ReadOnlyDatabase, str], Any]  # (database, prepared gold SQL) -> its outcome, cached


def database_files(db_dir: str, db_id: str) -> list[str]:
    """``<db_id>.sqlite``, then (test suites) every other ``*.sqlite`` file in its folder that
    really is a SQLite database, by name; journals, backups and stray files are never opened."""
    main = os.path.join(db_dir, f"{db_id}.sqlite")
    others = sorted(
        path
        for path in (os.path.join(db_dir, n) for n in os.listdir(db_dir) if n.endswith(".sqlite"))
        if path != main and registry.problem(DatabaseRef("sqlite", path)) == ""
    )
    return [main, *others]


def _name(db: ReadOnlyDatabase) -> str:
    """How a reason names a database: its file's name, or its label on a server."""
    return db.ref.path.name if db.ref.is_file else db.ref.label()


@dataclass(frozen=True)
class ExecutionVerdicts:
    exec_match: bool | None  # None: gold fails on the main database (the item is unscorable)
    exec_reason: str
    ts_match: bool | None = None  # None: no suite, or gold fails on one of its databases
    ts_reason: str = ""


def execution_verdicts(dbs: Sequence[ReadOnlyDatabase], gold: str, pred: str, gold_rows: GoldRows) -> ExecutionVerdicts:
    """EX on ``dbs[0]`` (the main database) and, when more are given (the suite), TS on all of them."""
    g_sql, p_sql = prepare_for_execution(gold), prepare_for_execution(pred)
    ordered = order_matters(g_sql)
    main, suite = dbs[0], dbs[1:]
    g_out = gold_rows(main, g_sql)
    if isinstance(g_out, QueryError):
        return ExecutionVerdicts(None, f"gold query fails on {_name(main)}: {g_out}")
    p_out = main.execute(p_sql, watchdog.PREDICTION)
    if isinstance(p_out, QueryError):
        ex, ex_reason = False, f"prediction fails: {p_out}"
    else:
        ex, ex_reason = compare_results(g_out.rows, p_out.rows, ordered)
    if not suite:
        return ExecutionVerdicts(ex, ex_reason)
    golds = []
    for db in suite:
        out = gold_rows(db, g_sql)
        if isinstance(out, QueryError):
            return ExecutionVerdicts(ex, ex_reason, None, f"gold query fails on {_name(db)}: {out}")
        golds.append(out)
    if not ex:
        return ExecutionVerdicts(ex, ex_reason, False, f"wrong on {_name(main)}")
    for db, g in zip(suite, golds, strict=True):
        p = db.execute(p_sql, watchdog.PREDICTION)
        if isinstance(p, QueryError):
            return ExecutionVerdicts(ex, ex_reason, False, f"prediction fails on {_name(db)}: {p}")
        same, why = compare_results(g.rows, p.rows, ordered)
        if not same:
            return ExecutionVerdicts(ex, ex_reason, False, f"{_name(db)}: {why}")
    return ExecutionVerdicts(ex, ex_reason, True, f"same on all {len(dbs)} databases")
