"""SQL extraction from model answers, and the statistics behind the accuracy table."""

from __future__ import annotations

import pytest

from workbench.core.reports.stats import mcnemar_p, percentile, wilson_interval
from workbench.core.scoring.extract import extract_sql


@pytest.mark.parametrize(
    ("answer", "sql", "method"),
    [
        ("```sql\nSELECT name\nFROM singer;\n```", "SELECT name FROM singer", "fence"),
        ("First a draft:\n```sql\nSELECT 1\n```\nBetter:\n```sql\nSELECT 2;\n```\nDone.", "SELECT 2", "fence"),
        ("```\nselect a from b\n```", "select a from b", "fence"),
        (
            "Let me think. The table is singer.\nSQL: SELECT count(*) FROM singer;",
            "SELECT count(*) FROM singer",
            "sql-line",
        ),
        (
            "The answer is SELECT max(age) FROM singer; because it is the oldest.",
            "SELECT max(age) FROM singer",
            "select",
        ),
        ("WITH t AS (SELECT 1) SELECT * FROM t", "WITH t AS (SELECT 1) SELECT * FROM t", "select"),
        ("SELECT a FROM b\n\nThis query lists a.", "SELECT a FROM b", "select"),
        (
            "Draft:\nSELECT a FROM t\nBetter, with the join:\nSELECT a FROM t JOIN u ON t.id = u.id",
            "SELECT a FROM t JOIN u ON t.id = u.id",
            "select",
        ),
        ("SELECT a FROM t WHERE b IN (SELECT b FROM u)", "SELECT a FROM t WHERE b IN (SELECT b FROM u)", "select"),
        (
            "SELECT a FROM t WHERE b IN (\n  SELECT b FROM u\n)",
            "SELECT a FROM t WHERE b IN ( SELECT b FROM u )",
            "select",
        ),
        ("I cannot answer that.", "", "none"),
    ],
)
def test_extract_sql(answer: str, sql: str, method: str) -> None:
    got = extract_sql(answer)
    assert (got.sql, got.method) == (sql, method)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(0, 0, 0.0, 0.0), (88, 88, 0.9582, 1.0), (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (66, 88, 0.6504, 0.8287)],
)
def test_wilson_interval(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson_interval(k, n)
    assert got == (pytest.approx(lo, abs=1e-4), pytest.approx(hi, abs=1e-4))


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 20.0, 30.0], 95) == pytest.approx(29.0)


@pytest.mark.parametrize(
    ("b", "c", "p"), [(0, 0, 1.0), (5, 5, 1.0), (10, 0, 2 / 1024), (2, 8, 2 * 56 / 1024), (0, 88, 2 / 2**88)]
)
def test_mcnemar_exact(b: int, c: int, p: float) -> None:
    assert mcnemar_p(b, c) == pytest.approx(p)


def test_mcnemar_p_of_many_pairs_agrees_with_the_exact_sum() -> None:
    """Past EXACT_MCNEMAR_PAIRS the tail is summed in floating point: the same p-value, to 1e-9."""
    import math

    from workbench.core.reports.stats import EXACT_MCNEMAR_PAIRS

    for b, c in ((EXACT_MCNEMAR_PAIRS // 2, EXACT_MCNEMAR_PAIRS // 2 + 1), (600, 700), (560, 2000), (1500, 1500)):
        n = b + c
        assert n > EXACT_MCNEMAR_PAIRS
        exact = min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)
        assert mcnemar_p(b, c) == pytest.approx(exact, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgres"])
def test_a_line_comment_does_not_swallow_the_rest_of_a_multi_line_query(dialect: str) -> None:
    answer = "```sql\nSELECT name -- the singer's name\nFROM singer -- all of them\nWHERE note = '--not a comment'\n```"
    assert extract_sql(answer, dialect).sql == "SELECT name FROM singer WHERE note = '--not a comment'"
    assert extract_sql("SELECT count(*) -- how many\nFROM t;", dialect).sql == "SELECT count(*) FROM t"
