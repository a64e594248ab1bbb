"""Schemas written in each engine's DDL, and SQL extraction that knows the engine's quoting."""

from __future__ import annotations

import json
import time

import duckdb
import pytest
import sqlglot

from workbench.core.data.dialects import column_type, identifier
from workbench.core.data.schema import schema_from_entry
from workbench.core.prompts.templates import SchemaView
from workbench.core.scoring.extract import extract_sql
from workbench.paths import DEMO_DATASET

ENTRY = {
    "db_id": "odd",
    "table_names_original": ["Show", "order"],
    "table_names": ["show", "order"],
    "column_names_original": [
        [-1, "*"],
        [0, "Show_ID"],
        [0, "Title"],
        [0, "on air"],
        [1, "id"],
        [1, "Show_ID"],
        [1, "user"],
        [1, "at"],
    ],
    "column_names": [
        [-1, "*"],
        [0, "show id"],
        [0, "title"],
        [0, "on air"],
        [1, "id"],
        [1, "show id"],
        [1, "user"],
        [1, "at"],
    ],
    "column_types": ["text", "number", "text", "time", "number", "number", "others", "boolean"],
    "primary_keys": [1, 4],
    "foreign_keys": [[5, 1]],
}

SQLITE_DDL = """CREATE TABLE Show (
  Show_ID number,
  Title text,
  "on air" time,
  PRIMARY KEY (Show_ID)
);
CREATE TABLE order (
  id number,
  Show_ID number,
  user others,
  at boolean,
  PRIMARY KEY (id),
  FOREIGN KEY (Show_ID) REFERENCES Show(Show_ID)
);"""

DUCKDB_DDL = """CREATE TABLE "Show" (
  Show_ID DOUBLE,
  Title VARCHAR,
  "on air" TIMESTAMP,
  PRIMARY KEY (Show_ID)
);
CREATE TABLE "order" (
  id DOUBLE,
  Show_ID DOUBLE,
  "user" VARCHAR,
  "at" BOOLEAN,
  PRIMARY KEY (id),
  FOREIGN KEY (Show_ID) REFERENCES "Show"(Show_ID)
);"""

POSTGRES_DDL = """CREATE TABLE "Show" (
  "Show_ID" NUMERIC,
  "Title" TEXT,
  "on air" TIMESTAMP,
  PRIMARY KEY ("Show_ID")
);
CREATE TABLE "order" (
  id NUMERIC,
  "Show_ID" NUMERIC,
  "user" TEXT,
  at BOOLEAN,
  PRIMARY KEY (id),
  FOREIGN KEY ("Show_ID") REFERENCES "Show"("Show_ID")
);"""


def test_sqlite_ddl_is_what_prompts_always_had() -> None:
    schema = schema_from_entry(ENTRY, "test")
    assert schema.create_table_sql() == SQLITE_DDL == schema.create_table_sql(dialect="sqlite")
    assert SchemaView(schema).create_table == SQLITE_DDL


def test_duckdb_and_postgres_ddl_use_their_types_and_quoting() -> None:
    schema = schema_from_entry(ENTRY, "test")
    assert schema.create_table_sql(dialect="duckdb") == DUCKDB_DDL
    assert schema.create_table_sql(dialect="postgres") == POSTGRES_DDL
    view = SchemaView(schema, dialect="postgres")
    assert view.create_table == POSTGRES_DDL and view.render(foreign_keys=False).count("FOREIGN KEY") == 0


def test_the_demo_ddl_runs_in_duckdb_and_parses_as_postgres() -> None:
    for entry in json.loads((DEMO_DATASET / "tables.json").read_text()):
        schema = schema_from_entry(entry, "demo")
        conn = duckdb.connect()
        conn.execute(schema.create_table_sql(with_foreign_keys=False, dialect="duckdb"))
        tables = {name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        conn.close()
        assert tables == {t.name for t in schema.tables}
        statements = sqlglot.parse(schema.create_table_sql(dialect="postgres"), read="postgres")
        assert len(statements) == len(schema.tables)


@pytest.mark.parametrize(
    ("declared", "duck", "postgres"),
    [
        ("number", "DOUBLE", "NUMERIC"),
        ("INTEGER", "BIGINT", "BIGINT"),
        ("REAL", "DOUBLE", "DOUBLE PRECISION"),
        ("varchar(20)", "VARCHAR", "TEXT"),
        ("BLOB", "BLOB", "BYTEA"),
        ("DATETIME", "TIMESTAMP", "TIMESTAMP"),
        ("DECIMAL(10,2)", "DECIMAL(10,2)", "DECIMAL(10,2)"),  # already the engines' words
        ("DATE", "DATE", "DATE"),
    ],
)
def test_type_names(declared: str, duck: str, postgres: str) -> None:
    assert (column_type(declared, "duckdb"), column_type(declared, "postgres")) == (duck, postgres)
    assert column_type(declared, "sqlite") == declared


def test_identifiers() -> None:
    assert [identifier(n, "sqlite") for n in ("a_b", "2x", 'say "hi"')] == ["a_b", '"2x"', '"say "hi""']
    assert identifier('say "hi"', "duckdb") == '"say ""hi"""' and identifier("pivot", "duckdb") == '"pivot"'
    assert identifier("pivot", "postgres") == "pivot" and identifier("Name", "postgres") == '"Name"'


@pytest.mark.parametrize(
    ("answer", "dialect", "sql"),
    [
        ("```duckdb\nSELECT a FROM t WHERE b = 'x;y';\n```", "duckdb", "SELECT a FROM t WHERE b = 'x;y'"),
        ('```postgresql\nSELECT "a;b" FROM t; DROP TABLE t\n```', "postgres", 'SELECT "a;b" FROM t'),
        (
            "```psql\nSELECT $$it's; here$$ AS s, $q$;$q$ FROM t;\n```",
            "postgres",
            "SELECT $$it's; here$$ AS s, $q$;$q$ FROM t",
        ),
        ("SQL: SELECT 'it''s;' FROM t; then more", "duckdb", "SELECT 'it''s;' FROM t"),
        ("SELECT 1 /* ; */ + 2; and that is all", "postgres", "SELECT 1 /* ; */ + 2"),
        ("SELECT 'never closed; FROM t", "duckdb", "SELECT 'never closed; FROM t"),
        # SQLite keeps its plain cut at the first semicolon, and every engine's fence tag is dropped
        ("SQL: SELECT 'it''s;' FROM t; then more", "sqlite", "SELECT 'it''s"),
        ("```postgres\nSELECT 1;\n```", "sqlite", "SELECT 1"),
    ],
)
def test_extraction_knows_the_dialect(answer: str, dialect: str, sql: str) -> None:
    assert extract_sql(answer, dialect).sql == sql


def test_extraction_stays_linear_on_hostile_answers() -> None:
    for answer in ("SELECT " + "'a''" * 200_000, "SELECT " + "$a$" * 200_000, "SELECT " + "/*" * 200_000):
        started = time.perf_counter()
        extract_sql(answer, "postgres")
        assert time.perf_counter() - started < 2.0
