"""The same predictions scored on SQLite, DuckDB and PostgreSQL copies of the demo get the same verdicts, except
where a query's result really differs by dialect (listed below, each with why).

The copies are made the way a user makes them: ``dataset convert`` (DuckDB files; a PostgreSQL database of the
session's real server, one schema per database), and the PostgreSQL copy is then read as the read-only role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pg_server import ADMIN, OWNER, PASSWORD_ENV, READER
from workbench.core.data.convert import Target, convert_dataset
from workbench.core.data.dataset import Dataset
from workbench.core.data.engine_setting import ENGINE_LABELS
from workbench.core.prompts.context import load_template
from workbench.core.prompts.templates import SchemaView
from workbench.core.scoring.scorer import Scorer, Verdict, parse_predictions
from workbench.paths import DEMO_DATASET

# (engine, dev item) -> why its verdict differs from SQLite's on that engine
BARE_COLUMN = "a column neither grouped nor aggregated: SQLite takes one row's value, DuckDB and PostgreSQL refuse"
DIALECT_DIFFERENCES: dict[tuple[str, int], str] = {
    **{(engine, item): BARE_COLUMN for engine in ("duckdb", "postgres") for item in (17, 33, 36, 37, 56, 57, 80, 81)},
    ("postgres", 43): "ORDER BY fee DESC over NULL fees: SQLite puts NULLs last, PostgreSQL first (the transpiled "
    "gold says NULLS LAST, the prediction does not)",
    ("postgres", 48): "no ORDER BY in the prediction: SQLite's scan order differs from the gold's order, "
    "PostgreSQL's happens to match it",
}


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> dict[str, Path]:
    """The demo as it is, converted to DuckDB files, and converted into its own PostgreSQL database."""
    from psycopg import sql

    root = tmp_path_factory.mktemp("engines")
    duckdb_copy = root / "duckdb"
    convert_dataset(DEMO_DATASET, Target("duckdb", duckdb_copy))
    with pg_server.connect(ADMIN, "postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE agree OWNER {}").format(sql.Identifier(OWNER)))
    postgres_copy = root / "postgres"
    convert_dataset(DEMO_DATASET, Target("postgres", postgres_copy, pg_server.url(OWNER, "agree"), PASSWORD_ENV[OWNER]))
    with pg_server.connect(ADMIN, "agree") as conn:
        for schema in [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg%' "
                                                  "AND nspname NOT IN ('information_schema', 'public')")]:  # fmt: skip
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {0} TO {1}; GRANT SELECT ON ALL TABLES IN SCHEMA {0} TO {1}")
                         .format(sql.Identifier(schema), sql.Identifier(READER)))  # fmt: skip
    # read as the read-only role, as a user would after converting with the owner
    (postgres_copy / "engine.toml").write_text(
        f'engine = "postgres"\nurl = "{pg_server.url(READER, "agree")}"\npassword_env = "{PASSWORD_ENV[READER]}"\n'
    )
    return {"sqlite": DEMO_DATASET, "duckdb": duckdb_copy, "postgres": postgres_copy}


def verdicts(root: Path) -> list[Verdict]:
    dataset = Dataset(root)
    items = dataset.load_split("dev").items
    predictions = parse_predictions((DEMO_DATASET / "sample_predictions.sql").read_text())
    with Scorer(dataset, workers=2) as scorer:
        return scorer.score(items, predictions[: len(items)])


def test_the_same_predictions_get_the_same_verdicts_on_every_engine(copies: dict[str, Path]) -> None:
    sqlite = verdicts(copies["sqlite"])
    assert len(sqlite) > 50 and any(v.exec_match for v in sqlite) and not all(v.exec_match for v in sqlite)
    assert all(v.exact_match is not None for v in sqlite if v.exec_match is not None)
    for engine in ("duckdb", "postgres"):
        other = verdicts(copies[engine])
        assert Dataset(copies[engine]).engine == engine
        assert all(v.exact_match is None and f"exact: not applicable ({engine})" in v.reason for v in other)
        differ = {(engine, s.index): (s.exec_match, o.exec_match, o.reason)
                  for s, o in zip(sqlite, other, strict=True) if s.exec_match != o.exec_match}  # fmt: skip
        unexplained = {k: v for k, v in differ.items() if k not in DIALECT_DIFFERENCES}
        assert unexplained == {}, unexplained
        listed = {k for k in DIALECT_DIFFERENCES if k[0] == engine}
        assert listed == set(differ)  # each listed difference is still one


def test_the_postgres_copy_is_read_as_the_read_only_role(copies: dict[str, Path], pg_server: Any) -> None:
    dataset = Dataset(copies["postgres"])
    ref = dataset.database("library")
    assert ref.location == pg_server.url(READER, "agree") and ref.namespace == "library"
    assert dataset.database_problem("library") == ""


def test_prompts_show_each_engine_its_own_ddl(copies: dict[str, Path]) -> None:
    rendered = {}
    for engine, root in copies.items():
        dataset = Dataset(root)
        view = SchemaView(dataset.schema("library"), dataset.database("library"))
        assert view.dialect == engine
        rendered[engine] = view.create_table
        assert rendered[engine] == dataset.schema("library").create_table_sql(dialect=engine)
        variables = {"schema": view, "question": "How many books?", "examples": [], "evidence": "", "hyde_draft": ""}
        system = load_template("zero_shot").render(variables)[0]["content"]
        assert f"You are an expert in {ENGINE_LABELS[engine]}." in system  # the instructions name the engine too
    assert len(set(rendered.values())) == 3, rendered  # three dialects, three renderings
