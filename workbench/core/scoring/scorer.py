"""Score predictions against a dataset, item by item, on whichever engine holds its databases.

Work is grouped by database and spread over a process pool (SQLite execution and
parsing are CPU-bound; threads would share one core). Gold results come from the
gold cache (``gold_cache``: on disk, keyed by the database's content, the gold SQL and the
limits), so a second score of a split executes only the predictions. Exact-set match is Spider's
and SQLite's: on another engine (or BIRD) a verdict's ``exact_match`` is None and its reason says
``exact: not applicable (duckdb)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from workbench.core.data.dataset import Dataset, Item
from workbench.core.engines.base import ReadOnlyDatabase
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.bounded_pool import BoundedPool, WorkerKilled
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring.bird_metrics import bird_outcome
from workbench.core.scoring.databases import DbInfo, db_info
from workbench.core.scoring.exact import HARDNESS_LEVELS, exact_match, hardness, normalize
from workbench.core.scoring.gold_cache import GoldCache, cache_file, default_path, for_process
from workbench.core.scoring.spider_sql import SpiderParseError, SpiderSchema, empty_sql, parse_sql
from workbench.core.scoring.suite import ExecutionVerdicts, execution_verdicts

SCORING_TIMEOUT_S = ExecLimits.time_limit_s
SCORING_MAX_ROWS = ExecLimits.max_rows
MAX_PREDICTION_CHARS = 100_000  # longer is not a query a model meant; parsing it would cost more than it tells


@dataclass(frozen=True)
class Verdict:
    index: int
    db_id: str
    hardness: str | None
    exec_match: bool | None
    exact_match: bool | None
    reason: str
    ts_match: bool | None = None  # test-suite match: on every database of the suite; None without one
    soft_f1: float | None = None  # BIRD's Soft-F1 (a BIRD dataset); None where not computed

    @property
    def status(self) -> str:
        """Whether the prediction could be compared with the gold query: "scored", else "unscorable".

        The one place this is decided: the stored row, the score table and the summaries take it from here.
        """
        return "scored" if self.exec_match is not None else "unscorable"

    def to_json(self) -> dict[str, Any]:
        """The verdict's fields; ``soft_f1`` only where it was computed (a BIRD dataset)."""
        return {k: v for k, v in asdict(self).items() if k != "soft_f1" or v is not None}


def parse_predictions(text: str) -> list[str]:
    """One prediction per line; a line is cut at its first TAB (``SQL<TAB>db_id``)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.strip().split("\t", 1)[0] for line in lines]


@dataclass(frozen=True)
class _DbJob:
    info: DbInfo
    items: tuple[tuple[int, str, str], ...]  # (index, gold, prediction)
    gold_cache: Path | None = None  # the gold cache's file (None: this process's memory only)


def _gold_hardness(schema: SpiderSchema, gold: str) -> str | None:
    try:
        return hardness(parse_sql(schema, gold))
    except SpiderParseError:
        return None


def exact_note(engine: str, otherwise: str) -> str:
    """What a reason says for exact-set match: ``otherwise`` on SQLite, where it applies, else that it does not."""
    return otherwise if engine == "sqlite" else f"not applicable ({engine})"


def execution_verdict(
    index: int, db_id: str, level: str | None, ex: ExecutionVerdicts, suite: bool, em: bool | None, em_reason: str,
    engine: str,
) -> Verdict:  # fmt: skip
    """A Spider verdict from its execution and exact-set outcomes; off SQLite, exact-set match is not applicable."""
    if engine != "sqlite":
        em, em_reason = None, exact_note(engine, em_reason)
    if ex.exec_match is None:
        return Verdict(index, db_id, level, None, em, ex.exec_reason)
    on_suite = f"; test suite: {ex.ts_reason}" if suite else ""
    reason = f"execution: {ex.exec_reason}{on_suite}; exact: {em_reason}"
    return Verdict(index, db_id, level, ex.exec_match, em, reason, ex.ts_match)


def _unscorable(info: DbInfo, schema: SpiderSchema, index: int, gold: str) -> Verdict:
    return Verdict(index, info.db_id, _gold_hardness(schema, gold), None, None, info.problem)


def _stopped(info: DbInfo, schema: SpiderSchema, index: int, gold: str, phase: str, bound: str, detail: str) -> Verdict:
    """The verdict for an item whose work hit a bound (the gold query's: unscorable; else the prediction fails)."""
    level = None if info.bird_metrics else _gold_hardness(schema, gold)
    if phase == "gold query":
        return Verdict(index, info.db_id, level, None, None, f"gold query fails: {bound}: {detail}")
    if info.bird_metrics:
        why = f"execution (BIRD): prediction fails: {bound}: {detail}; exact: not applicable (BIRD)"
        return Verdict(index, info.db_id, level, False, None, why, soft_f1=0.0)
    ts = False if len(info.refs()) > 1 else None  # a test suite (Spider layout): the prediction fails it too
    em = False if info.engine == "sqlite" else None
    return Verdict(index, info.db_id, level, False, em, f"execution: prediction fails: {bound}: {detail}; "
                   f"exact: {exact_note(info.engine, 'not compared')}", ts)  # fmt: skip


def killed_verdict(
    dataset_root: str, db_id: str, index: int, gold: str, killed: WorkerKilled, allow_privileged_role: bool = False
) -> Verdict:
    """The verdict for an item whose worker the pool stopped (see ``BoundedPool``)."""
    info = db_info(_dataset(dataset_root, allow_privileged_role), db_id)
    return _stopped(info, info.spider_schema(), index, gold, killed.phase, killed.bound, killed.detail)


def _score_db(job: _DbJob) -> list[Verdict]:
    info = job.info
    schema = info.spider_schema()
    if info.problem:
        return [_unscorable(info, schema, index, gold) for index, gold, _ in job.items]
    fk_map = info.fk_map()
    dbs = info.open_databases()
    golds = for_process(job.gold_cache)
    verdicts = []
    try:
        with golds.pinned():  # the databases as they are at the chunk's start: their stamps are taken once
            for index, gold, pred in job.items:
                watchdog.mark_item(index)
                try:
                    verdicts.append(_score_any(info, dbs, schema, fk_map, index, gold, pred, golds))
                except MemoryError:
                    verdicts.append(_stopped(info, schema, index, gold, "prediction", "memory limit", "out of memory"))
        return verdicts
    finally:
        for db in dbs:
            db.close()


def _score_any(
    info: DbInfo,
    dbs: list[ReadOnlyDatabase],
    schema: SpiderSchema,
    fk_map: dict[str, str],
    index: int,
    gold: str,
    pred: str,
    golds: GoldCache,
) -> Verdict:
    """Spider's verdict, or BIRD's for a BIRD dataset (bird_metrics.py: both queries run as written)."""
    if not info.bird_metrics:
        return _score_item(dbs, schema, fk_map, info, index, gold, pred, golds)
    ex, f1, why = bird_outcome(golds.result(dbs[0], gold), dbs[0], pred, MAX_PREDICTION_CHARS)
    return Verdict(index, info.db_id, None, ex, None, why, soft_f1=f1)


def _score_item(
    dbs: list[ReadOnlyDatabase],
    schema: SpiderSchema,
    fk_map: dict[str, str],
    info: DbInfo,
    index: int,
    gold: str,
    pred: str,
    golds: GoldCache,
) -> Verdict:
    db_id, spider_sqlite = info.db_id, info.engine == "sqlite"
    pred = pred.replace("value", "1")  # the official evaluator does this to every prediction
    try:
        gold_tree = parse_sql(schema, gold)
    except SpiderParseError as exc:
        if spider_sqlite:  # another dialect's gold may be outside Spider's grammar: it only has no hardness
            return Verdict(index, db_id, None, None, None, f"gold query does not parse: {exc}")
        gold_tree = None
    level = None if gold_tree is None else hardness(gold_tree)
    if len(pred) > MAX_PREDICTION_CHARS:
        why = f"prediction too long: {len(pred)} characters (limit {MAX_PREDICTION_CHARS})"
        return Verdict(index, db_id, level, False, False if spider_sqlite else None,
                       f"execution: {why}; exact: {exact_note(info.engine, 'not compared')}",
                       False if len(dbs) > 1 else None)  # fmt: skip
    ex = execution_verdicts(dbs, gold, pred, golds.result)
    em, em_reason = None, ""
    if spider_sqlite and gold_tree is not None:
        try:
            with watchdog.bounded(watchdog.limits().time_limit_s, watchdog.PARSING):
                pred_tree = parse_sql(schema, pred)
            parse_note = ""
        except SpiderParseError as exc:
            pred_tree, parse_note = empty_sql(), f"prediction outside Spider's grammar ({exc})"
        em, em_reason = exact_match(normalize(pred_tree, schema, fk_map), normalize(gold_tree, schema, fk_map))
        em_reason = parse_note or em_reason
    return execution_verdict(index, db_id, level, ex, len(dbs) > 1, em, em_reason, info.engine)


class Scorer:
    """Scores predictions for the items of one dataset.

    ``gold_cache``: True keeps gold results in the user's cache folder (``gold_cache.default_path``),
    a path keeps them there, False keeps them only in each worker's memory for this scorer's life.
    """

    def __init__(
        self,
        dataset: Dataset,
        workers: int | None = None,
        limits: ExecLimits | None = None,
        gold_cache: bool | Path = True,
    ) -> None:
        self.dataset = dataset
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.limits = limits or ExecLimits()
        self.gold_cache = cache_file(gold_cache)
        self._pool: BoundedPool | None = None

    def close(self) -> None:
        if self.gold_cache is not None and self._pool is not None:  # keep the file within its bound
            cache = GoldCache(self.gold_cache)
            cache.evict()
            cache.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _jobs(
        self, items: Sequence[Item], predictions: Sequence[str], database_problems: Mapping[str, str]
    ) -> list[_DbJob]:
        by_db: dict[str, list[tuple[int, str, str]]] = {}
        for item, pred in zip(items, predictions, strict=True):
            by_db.setdefault(item.db_id, []).append((item.index, item.query, pred))
        return [
            _DbJob(db_info(self.dataset, db_id, database_problems.get(db_id)), tuple(entries), self.gold_cache)
            for db_id, entries in by_db.items()
        ]

    def score(
        self,
        items: Sequence[Item],
        predictions: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        database_problems: Mapping[str, str] | None = None,
    ) -> list[Verdict]:
        """Verdicts in item order. ``progress(done, total)`` is called as work completes. ``database_problems``:
        what ``Dataset.load_split`` found of each database (``Split.database_problems``); a database found there is
        not checked again (on a server, that check is a connection and the role check)."""
        if len(items) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions for {len(items)} questions")
        jobs = self._jobs(items, predictions, database_problems or {})
        verdicts: dict[int, Verdict] = {}
        for batch in self._run(jobs):
            for v in batch:
                verdicts[v.index] = v
            if progress:
                progress(len(verdicts), len(items))
        return [with_given_hardness(verdicts[item.index], item) for item in items]

    def _run(self, jobs: list[_DbJob]) -> Iterable[list[Verdict]]:
        """Score chunks in bounded workers; an item whose worker is stopped gets its verdict here."""
        chunks = [c for job in jobs for c in _split(job, 40)]
        if self._pool is None:  # fork: cheap, and the command line has no threads to worry about
            self._pool = BoundedPool(min(self.workers, len(chunks)) or 1, self.limits, context="fork")
        pool = self._pool
        pending = {pool.submit(_score_db, c): c for c in sorted(chunks, key=lambda c: -len(c.items))}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                try:
                    yield future.result()
                except WorkerKilled as killed:
                    stopped = next((it for it in chunk.items if it[0] == killed.item), chunk.items[0])
                    schema = chunk.info.spider_schema()
                    yield [_stopped(chunk.info, schema, stopped[0], stopped[1], killed.phase, killed.bound,
                                    killed.detail)]  # fmt: skip
                    rest = tuple(it for it in chunk.items if it is not stopped)  # done ones died with the worker
                    if rest:
                        again = replace(chunk, items=rest)
                        pending[pool.submit(_score_db, again)] = again


def with_given_hardness(verdict: Verdict, item: Item) -> Verdict:
    """The verdict with the question file's hardness, when it gives one, in place of Spider's computed one."""
    return verdict if item.hardness is None else replace(verdict, hardness=item.hardness)


def _split(job: _DbJob, size: int) -> list[_DbJob]:
    if len(job.items) <= size:
        return [job]
    parts = [job.items[k : k + size] for k in range(0, len(job.items), size)]
    return [replace(job, items=part) for part in parts]


def summarize(verdicts: Sequence[Verdict], levels: Sequence[str] = HARDNESS_LEVELS) -> dict[str, dict[str, int]]:
    """Counts per hardness level (``levels``: the dataset's) and overall: n, exec, exact, unscored; with a test
    suite (any verdict has ``ts_match``) also ts_n and ts: the items with a test-suite verdict, and those right on
    the whole suite."""
    suite = {"ts_n": 0, "ts": 0} if any(v.ts_match is not None for v in verdicts) else {}
    table: dict[str, dict[str, int]] = {
        level: {"n": 0, "exec": 0, "exact": 0, "unscored": 0, **suite} for level in (*levels, "all")
    }
    for v in verdicts:
        rows = [table["all"]] + ([table[v.hardness]] if v.hardness in table else [])
        for row in rows:
            if v.status == "unscorable":
                row["unscored"] += 1
                continue
            row["n"] += 1
            row["exec"] += bool(v.exec_match)
            row["exact"] += bool(v.exact_match)
            if suite:
                row["ts_n"] += v.ts_match is not None
                row["ts"] += bool(v.ts_match)
    return table


# --- one item at a time (the runner scores answers as they arrive) -------------------
_DATASETS: dict[tuple[str, bool], Dataset] = {}
_CONTEXTS: dict[tuple[str, str, bool], tuple[DbInfo, SpiderSchema, dict[str, str], list[ReadOnlyDatabase]]] = {}


def _dataset(location: str, allow_privileged_role: bool) -> Dataset:
    key = (location, allow_privileged_role)
    if key not in _DATASETS:
        # lazily: a worker needs the schemas of its jobs' databases alone
        _DATASETS[key] = Dataset(location, allow_privileged_role=allow_privileged_role, lazy_schemas=True)
    return _DATASETS[key]


def _context(
    dataset_root: str, db_id: str, allow_privileged_role: bool
) -> tuple[DbInfo, SpiderSchema, dict[str, str], list[ReadOnlyDatabase]]:
    key = (dataset_root, db_id, allow_privileged_role)
    if key not in _CONTEXTS:
        info = db_info(_dataset(dataset_root, allow_privileged_role), db_id)
        dbs = [] if info.problem else info.open_databases()
        _CONTEXTS[key] = (info, info.spider_schema(), info.fk_map(), dbs)
    return _CONTEXTS[key]


def score_one(
    dataset_root: str, db_id: str, index: int, gold: str, pred: str, allow_privileged_role: bool = False
) -> Verdict:
    """Score one prediction; safe to call in a worker process (caches per process). ``dataset_root`` is the
    dataset's ``location`` (a folder, a file or a PostgreSQL URL)."""
    info, schema, fk_map, dbs = _context(dataset_root, db_id, allow_privileged_role)
    if info.problem:
        return _unscorable(info, schema, index, gold)
    golds = for_process(default_path())
    return _score_any(info, dbs, schema, fk_map, index, gold, pred, golds)
