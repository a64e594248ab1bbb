"""A small database of our own and its question files, built in a test's folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import make_db

SHOP_SQL = """
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city VARCHAR(20));
CREATE TABLE product (sku TEXT, variant INTEGER, price REAL, PRIMARY KEY (sku, variant));
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customer(id),
    sku TEXT,
    variant INTEGER,
    quantity,
    FOREIGN KEY (sku, variant) REFERENCES product (sku, variant)
);
INSERT INTO customer VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome'), (3, 'Cy', 'Oslo'), (4, 'Di', NULL);
INSERT INTO product VALUES ('mug', 1, 4.5), ('mug', 2, 5.0), ('tea', 1, 3.25);
INSERT INTO orders VALUES (1, 1, 'mug', 1, 2), (2, 1, 'tea', 1, 1), (3, 2, 'mug', 2, 5);
"""

# (question, sql, hardness): commas, quotes and a line break inside fields, and hardness given or not
QUESTIONS = [
    ("How many customers are there, in all?", "SELECT count(*) FROM customer", "starter"),
    ('Which customers live in "Oslo"?', "SELECT name FROM customer\nWHERE city = 'Oslo'", ""),
    ("What does a mug cost, per variant?", "SELECT variant, price FROM product WHERE sku = 'mug' ORDER BY variant", ""),
]


def make_shop(folder: Path) -> Path:
    return make_db(folder / "shop.sqlite", SHOP_SQL)


def write_questions_csv(path: Path, rows: list[tuple[str, str, str]] = QUESTIONS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # a BOM, as spreadsheets write it
        writer = csv.writer(f)
        writer.writerow(["question", "sql", "hardness"])
        writer.writerows(rows)
    return path


def write_questions_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_answers(folder: Path, rows: list[tuple[str, str, str]] = QUESTIONS) -> Path:
    """What the test server answers from: its Spider-style question list (question -> gold SQL)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dev.json").write_text(json.dumps([{"question": q, "query": sql} for q, sql, _ in rows]))
    return folder
