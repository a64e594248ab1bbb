"""Bounds on untrusted SQL enforced from outside the statement: a worker killed at its deadline,
a memory ceiling, caps on a result's rows and bytes, and linear-time checks before SQLite."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_db
from tests.servers.openai import OpenAITestServer, load_answers
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.runs.events import ItemScored, RunFinished
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.sandbox.bounded_pool import BoundedPool, WorkerKilled
from workbench.core.sandbox.sqlexec import SandboxedDatabase, starts_with_read
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.scoring.execution import prepare_for_execution
from workbench.core.scoring.extract import extract_sql
from workbench.core.scoring.scorer import Scorer, parse_predictions
from workbench.core.store import Store
from workbench.paths import DEMO_DATASET

# One C call that SQLite's progress handler never interrupts: a naive substring search of a
# 40,001-character needle over an 8,000,000-character haystack, about 6 s unbounded on a fast machine,
# several times every bound it meets (half that needle took 1.8 s there: as long as a 1.5 s bound and its
# grace, so it finished first now and then)
ENDLESS_SEARCH = "SELECT instr(hex(zeroblob(4000000)), hex(zeroblob(20000)) || '1')"


def _execute_bounded(path: str, sql: str) -> object:
    """In a worker: one statement on a connection that uses the pool's limits."""
    from workbench.core.sandbox import watchdog

    bounds = watchdog.limits()
    with SandboxedDatabase(path, bounds.time_limit_s, bounds.max_rows, bounds.max_result_bytes) as db:
        return db.execute(sql)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "t.sqlite", "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")


def test_a_long_c_call_is_stopped_from_outside_and_the_worker_replaced(db: Path) -> None:
    pool = BoundedPool(1, ExecLimits(time_limit_s=1.0, grace_s=0.3), context="forkserver")
    try:
        started = time.monotonic()
        future = pool.submit(_execute_bounded, str(db), ENDLESS_SEARCH)
        with pytest.raises(WorkerKilled) as killed:
            future.result(timeout=60)
        elapsed = time.monotonic() - started
        assert killed.value.bound == "timeout" and killed.value.phase == "prediction"
        assert elapsed < 15  # unbounded, the search runs for tens of seconds
        assert pool.killed == 1
        # the replacement answers the next statement
        assert pool.submit(_execute_bounded, str(db), "SELECT count(*) FROM t").result(timeout=60).rows == [(2,)]
    finally:
        pool.shutdown()


def test_memory_is_bounded_per_worker(db: Path) -> None:
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 900000) SELECT x, x, -x FROM c"
    pool = BoundedPool(1, ExecLimits(memory_limit_mb=64, max_result_mb=1000), context="fork")
    try:
        out = pool.submit(_execute_bounded, str(db), many).result(timeout=120)
        assert out.kind == "memory" and str(out).startswith("memory limit")  # type: ignore[attr-defined]
    finally:
        pool.shutdown()
    unbounded = BoundedPool(1, ExecLimits(memory_limit_mb=4096, max_result_mb=1000), context="fork")
    try:
        assert len(unbounded.submit(_execute_bounded, str(db), many).result(timeout=120).rows) == 900_000  # type: ignore[attr-defined]
    finally:
        unbounded.shutdown()


def test_a_result_is_capped_in_rows_and_bytes(db: Path) -> None:
    rows = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000) SELECT x FROM c"
    big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 40) SELECT zeroblob(5000000) FROM c"
    with SandboxedDatabase(db, max_rows=1000, max_bytes=50_000_000) as conn:
        assert str(conn.execute(rows)).startswith("too many rows")
        assert str(conn.execute(big)).startswith("result too large")
        assert len(conn.execute(big.replace("LIMIT 40", "LIMIT 5")).rows) == 5  # type: ignore[union-attr]


def test_score_names_the_bound_each_hostile_prediction_hit(tmp_path: Path) -> None:
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    preds = [d["query"] for d in dev]
    preds[0] = ENDLESS_SEARCH
    preds[1] = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
    preds[2] = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 20000) SELECT x FROM c"
    preds[3] = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 30) SELECT zeroblob(9000000) FROM c"
    )
    preds[4] = "SELECT " + "1 + " * 40_000 + "1"
    dataset = Dataset(DEMO_DATASET)
    items = dataset.load_split("dev").items
    limits = ExecLimits(time_limit_s=1.5, grace_s=0.3, max_rows=10_000, max_result_mb=100)
    with Scorer(dataset, workers=2, limits=limits) as scorer:
        verdicts = scorer.score(items, preds)
    reasons = [v.reason for v in verdicts[:5]]
    assert "prediction fails: timeout: stopped after 1.5 s" in reasons[0]
    # stopped by SQLite's interrupt ("exceeded"), or from outside when a loaded machine delays it ("stopped after")
    assert "prediction fails: timeout: " in reasons[1] and "1.5 s" in reasons[1]
    assert "prediction fails: too many rows" in reasons[2]
    assert "prediction fails: result too large" in reasons[3]
    assert "prediction too long" in reasons[4]
    assert all(v.exec_match is False for v in verdicts[:5])
    assert all(v.exec_match for v in verdicts[5:])  # every other item is scored as usual
    assert all(v.hardness in HARDNESS_LEVELS for v in verdicts)  # a stopped item keeps its gold's hardness


@pytest.mark.server(answer="gold")
def test_a_run_whose_model_answers_an_endless_query_still_completes(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    dataset = Dataset(DEMO_DATASET)
    first = dataset.load_split("dev").items[0]
    answers = load_answers(DEMO_DATASET)
    answers[first.question] = ENDLESS_SEARCH
    openai_server.config.answers = answers
    profile = EndpointProfile(name="p", base_url=openai_server.base_url, model="gold", concurrency=4, timeout_s=5)
    store = Store(tmp_path / "w.sqlite")
    variants = build_variants([VariantSpec("v", "p", None)], dataset, store, {"p": profile})
    runner = Runner(store, dataset, "dev", variants, "hostile", limit=6,
                    exec_limits=ExecLimits(time_limit_s=1.0, grace_s=0.3))  # fmt: skip

    async def go() -> list[object]:
        return [e async for e in runner.events()]

    events = asyncio.run(go())
    scored = {e.index: e for e in events if isinstance(e, ItemScored)}
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.state == "completed" and len(scored) == 6
    assert scored[first.index].exec_match is False and "timeout: stopped after 1 s" in scored[first.index].reason
    assert all(e.exec_match for i, e in scored.items() if i != first.index)


# --- checks before SQLite: linear in the text, whatever it holds ---------------------------
_PIECES = ["/*", "*/", "--", "\n", " ", "\t", "(", "'", '"', "`", "[", "]", "select", "DISTINCT", "```", "```sql",
           "SQL:", "sql", ";", "x", "YEAR(CURDATE())", "\r", "\u2028"]  # fmt: skip
CHECKS = {
    "statement start": starts_with_read,
    "prepare for execution": prepare_for_execution,
    "extract from an answer": extract_sql,
    "predictions file": parse_predictions,
}


def _worst_units() -> list[tuple[str, str, str]]:
    """(head, repeated unit, tail): crafted texts that make backtracking or rescanning checks blow up."""
    return [
        ("", " ", "x"),
        ("", "\n", ""),
        ("", "/*", ""),
        ("", "--\n", "x"),
        ("", "(", ""),
        ("", "'", ""),
        ("", "```", ""),
        ("```", " ", ""),
        ("```sql", " \t", ""),
        ("SQL:", " ", ""),
        ("", "select\n", ""),
        ("/* ", "select ", ""),
        ("", "\n", "sql:"),
        ("'", "distinct ", ""),
    ]


def _text(head: str, unit: str, tail: str, size: int) -> str:
    return head + (unit * (size // len(unit) + 1))[:size] + tail


def _seconds(check: object, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        check(text)  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def assert_linear(name: str, head: str, unit: str, tail: str) -> None:
    """Ten times the text may cost about ten times as long, not a hundred (measured side by side, best of 3)."""
    check = CHECKS[name]
    small, large = _seconds(check, _text(head, unit, tail, 10_000)), _seconds(check, _text(head, unit, tail, 100_000))
    shown = f"{name} on {(head + unit)[:20]!r}…: {small * 1000:.1f} ms for 10 kB, {large * 1000:.1f} ms for 100 kB"
    assert large < 5.0, shown  # exponential or quadratic blow-ups take minutes here
    if small > 0.002:  # below that the clock's noise decides the ratio
        assert large / small < 40, shown


@pytest.mark.parametrize("name", list(CHECKS))
def test_checks_before_sqlite_are_linear_on_crafted_text(name: str) -> None:
    for head, unit, tail in _worst_units():
        assert_linear(name, head, unit, tail)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=40))
def test_checks_before_sqlite_are_linear_on_random_text(pieces: list[str]) -> None:
    unit = "".join(pieces)
    for name in CHECKS:
        assert_linear(name, "", unit, "")


def test_statement_start_check_keeps_its_meaning() -> None:
    assert starts_with_read("  -- a comment\n /* another */ ((SELECT 1))")
    assert starts_with_read("with x as (select 1) select * from x")
    assert starts_with_read("VALUES (1)")
    assert not starts_with_read("-- only a comment")
    assert not starts_with_read("/* unclosed SELECT 1")
    assert not starts_with_read("selection")
    assert not starts_with_read("DELETE FROM t")
    assert not starts_with_read("")
