"""Copying SQLite files into PostgreSQL (``copy_from_sqlite``), against a real server (tests/pg_server.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_db
from tests.pg_server import OWNER, READER, PgServer
from workbench.core.data.schema import REQUIRED_KEYS
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, normalise_row
from workbench.core.sandbox.sqlexec import QueryResult


def test_copy_keeps_types_keys_and_order_comparisons(pg_demo: dict[str, DatabaseRef]) -> None:
    with registry.open_database(pg_demo["shop"], 10.0, 1000, 10_000_000) as db:
        out = db.execute("SELECT order_date FROM orders WHERE order_date > '2023-06-01' ORDER BY order_date LIMIT 1")
        assert isinstance(out, QueryResult) and isinstance(out.rows[0][0], str) and out.rows[0][0] > "2023-06-01"
        out = db.execute("SELECT unit_price, stock FROM product ORDER BY product_id LIMIT 1")
        assert isinstance(out, QueryResult) and isinstance(out.rows[0][0], float) and isinstance(out.rows[0][1], int)
    found = registry.introspect(pg_demo["shop"], "shop")
    assert set(REQUIRED_KEYS) <= set(found.entry)
    assert found.entry["table_names_original"] == ["customer", "product", "orders", "order_item"]
    names = [name for _, name in found.entry["column_names_original"]]
    order_item = [names.index("order_id", names.index("status")), len(names) - 2]
    assert order_item in found.entry["primary_keys"]  # the composite key of order_item
    assert len(found.entry["foreign_keys"]) == 3
    assert found.samples[("product", "category")]


LOOSE_SQL = """
CREATE TABLE "Singer" (Singer_ID INTEGER PRIMARY KEY, Name TEXT, Born DATE, Height REAL, Votes, Photo BLOB);
CREATE TABLE concert (id INT, singer INTEGER REFERENCES Singer(Singer_ID), held DATETIME, fee NUMERIC, code INTEGER,
                      PRIMARY KEY (id, code));
CREATE TABLE orphan (a INTEGER REFERENCES "Singer"(Singer_ID), note VARCHAR(3));
INSERT INTO "Singer" VALUES (1, 'Ann', '1990-05-01', 1.7, 10, x'00ff'), (2, 'Bo', 'May 1990', 2, 'many', NULL),
                            (3, NULL, NULL, NULL, NULL, x'');
INSERT INTO concert VALUES (1, 1, '2020-01-02 20:00:00', 12.5, 7), (2, 2, '2021-03-04 19:30:00', 3, 8);
INSERT INTO orphan VALUES (99, 'much longer than three'), (1, 'nul' || char(0) || 'byte');
"""


def test_a_loosely_typed_sqlite_file_copies_whole(pg_server: PgServer, tmp_path: Path) -> None:
    """SQLite's loose typing (text in an INTEGER column, non-ISO dates, untyped columns, blobs) and keys that
    rows break: every row arrives, each column keeps the widest type its values allow, names in lower case."""
    source = make_db(tmp_path / "loose.sqlite", LOOSE_SQL)
    owner = pg_server.ref(OWNER, "loose", allow_privileged_role=True)
    registry.copy_from_sqlite(source, owner)
    found = registry.introspect(pg_server.ref(READER, "loose"), "loose")
    assert found.entry["table_names_original"] == ["singer", "concert", "orphan"]
    types = dict(zip((n for _, n in found.entry["column_names_original"]), found.entry["column_types"], strict=True))
    assert types == {
        "*": "text", "singer_id": "bigint", "name": "text", "born": "text", "height": "double precision",
        "votes": "text", "photo": "bytea", "id": "bigint", "singer": "bigint", "held": "timestamp without time zone",
        "fee": "numeric", "code": "bigint", "a": "bigint", "note": "text",
    }  # fmt: skip
    assert len(found.entry["primary_keys"]) == 2 and [8, 1] in found.entry["foreign_keys"]
    assert all(pair[0] != 13 for pair in found.entry["foreign_keys"])  # orphan's key is broken by its rows: left out
    with registry.open_database(pg_server.ref(READER, "loose"), 5.0, 100, 1_000_000) as db:
        for sql in ("SELECT * FROM singer ORDER BY singer_id", "SELECT * FROM concert ORDER BY id",
                    "SELECT a, note FROM orphan ORDER BY a"):  # fmt: skip
            got = db.execute(sql)
            expected = registry.execute_one(DatabaseRef("sqlite", str(source)), sql)
            assert isinstance(got, QueryResult) and isinstance(expected, QueryResult)
            if "orphan" in sql:  # PostgreSQL's text holds no NUL: it is dropped
                expected = QueryResult([(1, "nulbyte"), (99, "much longer than three")], [], 0.0)
            elif "singer" in sql:  # an untyped column mixing numbers and text becomes text
                expected = QueryResult([(1, "Ann", "1990-05-01", 1.7, "10", b"\x00\xff"),
                                        (2, "Bo", "May 1990", 2.0, "many", None), (3, None, None, None, None, b"")],
                                       [], 0.0)  # fmt: skip
            assert got.rows == [normalise_row(r) for r in expected.rows], sql
