"""A small BIRD-format folder of our own (invented databases and questions), built in a test's folder.

Two databases (``library``, ``orchard``), a description CSV per table (a BOM, Windows-1252 text and
a stray quote among them, as real BIRD files have), six questions over all three difficulties, and
evidence that matters: each gold query needs a code meaning only the evidence gives (``tier = 'G'``
is a gold member, ``status = 2`` a diseased tree).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import make_db

LIBRARY_SQL = """
CREATE TABLE member (member_id INTEGER PRIMARY KEY, name TEXT, tier TEXT, joined INTEGER);
CREATE TABLE loan (loan_id INTEGER PRIMARY KEY, member_id INTEGER REFERENCES member(member_id), title TEXT,
                   days_late INTEGER, fee REAL);
INSERT INTO member VALUES (1, 'Ana', 'G', 2019), (2, 'Ben', 'S', 2020), (3, 'Cleo', 'G', 2021), (4, 'Dev', 'B', 2021),
                          (5, 'Eli', NULL, 2022);
INSERT INTO loan VALUES (1, 1, 'Dune', 0, 0.0), (2, 1, 'Emma', 3, 1.5), (3, 2, 'Dune', 10, 5.0),
                        (4, 3, 'Ulysses', 2, 1.0), (5, 4, 'Emma', 0, 0.0), (6, 3, 'Dune', 1, 0.5);
"""

ORCHARD_SQL = """
CREATE TABLE tree (tree_id INTEGER PRIMARY KEY, variety TEXT, planted INTEGER, status INTEGER);
CREATE TABLE harvest (harvest_id INTEGER PRIMARY KEY, tree_id INTEGER REFERENCES tree(tree_id), season INTEGER,
                      kg REAL);
INSERT INTO tree VALUES (1, 'Gala', 2010, 1), (2, 'Fuji', 2012, 2), (3, 'Gala', 2016, 1), (4, 'Elstar', 2008, 2),
                        (5, 'Cox', 2011, 3);
INSERT INTO harvest VALUES (1, 1, 2022, 40.0), (2, 2, 2022, 12.5), (3, 4, 2022, 7.5), (4, 2, 2023, 10.0),
                           (5, 4, 2023, 20.0), (6, 3, 2023, 35.0);
"""

# db_id -> [(table, [(column, type, primary key)])], [(table, column, ref_table, ref_column)]
SCHEMAS: dict[str, tuple[list[tuple[str, list[tuple[str, str, bool]]]], list[tuple[str, str, str, str]]]] = {
    "library": (
        [
            ("member", [("member_id", "integer", True), ("name", "text", False), ("tier", "text", False),
                        ("joined", "integer", False)]),
            ("loan", [("loan_id", "integer", True), ("member_id", "integer", False), ("title", "text", False),
                      ("days_late", "integer", False), ("fee", "real", False)]),
        ],
        [("loan", "member_id", "member", "member_id")],
    ),
    "orchard": (
        [
            ("tree", [("tree_id", "integer", True), ("variety", "text", False), ("planted", "integer", False),
                      ("status", "integer", False)]),
            ("harvest", [("harvest_id", "integer", True), ("tree_id", "integer", False), ("season", "integer", False),
                         ("kg", "real", False)]),
        ],
        [("harvest", "tree_id", "tree", "tree_id")],
    ),
}  # fmt: skip

HEADER = "original_column_name,column_name,column_description,data_format,value_description\n"
# table -> (file bytes): a UTF-8 BOM, Windows-1252 (the euro sign is byte 0x80), a stray quote inside a field
DESCRIPTIONS: dict[str, dict[str, bytes]] = {
    "library": {
        "member": ("\ufeff" + HEADER + "member_id,member id,the member's number,integer,\n"
                   "name,,the member's first name,text,\n"
                   'tier,membership tier,"the membership level, as a code",text,"G: gold, S: silver, B: bronze"\n'
                   ).encode("utf-8"),
        "loan": (HEADER + "loan_id,,,integer,\n"
                 "days_late,days late,days the book came back after its due date,integer,0 means on time\n"
                 "fee,late fee,the late fee in \u20ac,real,\n").encode("cp1252"),
    },
    "orchard": {
        "tree": (HEADER + "tree_id,tree id,the tree's number,integer,\n"
                 "status,,the tree's health,integer,\n").encode("utf-8"),
        "harvest": (HEADER + 'kg,kilograms,weight of fruit "picked" that season,real,\n'
                    "season,,the year of the harvest,integer,\n").encode("utf-8"),
    },
}  # fmt: skip

QUESTIONS: list[dict[str, object]] = [
    {"question_id": 0, "db_id": "library", "question": "How many gold members are there?",
     "evidence": "gold members refers to tier = 'G'",
     "SQL": "SELECT COUNT(*) FROM member WHERE tier = 'G'", "difficulty": "simple"},
    {"question_id": 1, "db_id": "orchard", "question": "List the varieties of the diseased trees.",
     "evidence": "diseased refers to status = 2",
     "SQL": "SELECT variety FROM tree WHERE status = 2", "difficulty": "simple"},
    {"question_id": 2, "db_id": "library", "question": "What is the total late fee of gold members?",
     "evidence": "gold members refers to tier = 'G'; late fee refers to fee",
     "SQL": "SELECT SUM(T2.fee) FROM member AS T1 INNER JOIN loan AS T2 ON T1.member_id = T2.member_id "
            "WHERE T1.tier = 'G'", "difficulty": "moderate"},
    {"question_id": 3, "db_id": "orchard", "question": "Which healthy trees were planted before 2015?",
     "evidence": "healthy refers to status = 1",
     "SQL": "SELECT tree_id, variety FROM tree WHERE status = 1 AND planted < 2015", "difficulty": "moderate"},
    {"question_id": 4, "db_id": "library",
     "question": "Among the members who returned a book late, what percentage are gold members?",
     "evidence": "returned late refers to days_late > 0; gold members refers to tier = 'G'",
     "SQL": "SELECT CAST(SUM(CASE WHEN tier = 'G' THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*) FROM member "
            "WHERE member_id IN (SELECT member_id FROM loan WHERE days_late > 0)", "difficulty": "challenging"},
    {"question_id": 5, "db_id": "orchard", "question": "Per season, what is the mean harvest of diseased trees?",
     "evidence": "diseased refers to status = 2; average harvest refers to AVG(kg)",
     "SQL": "SELECT T2.season, AVG(T2.kg) FROM tree AS T1 INNER JOIN harvest AS T2 ON T1.tree_id = T2.tree_id "
            "WHERE T1.status = 2 GROUP BY T2.season", "difficulty": "challenging"},
]  # fmt: skip

# Right answers written differently (rows in another order, an alias) and the BIRD separator
RIGHT = [
    "SELECT count(member_id) FROM member WHERE tier = 'G'",
    "SELECT variety FROM tree WHERE status = 2 ORDER BY variety",
    "SELECT SUM(fee) FROM loan WHERE member_id IN (SELECT member_id FROM member WHERE tier = 'G')",
    "SELECT tree_id, variety FROM tree WHERE planted < 2015 AND status = 1 ORDER BY tree_id DESC",
    "SELECT 100.0 * SUM(tier = 'G') / COUNT(*) FROM member WHERE member_id IN (SELECT member_id FROM loan "
    "WHERE days_late > 0)",
    "SELECT season, AVG(kg) FROM harvest WHERE tree_id IN (SELECT tree_id FROM tree WHERE status = 2) GROUP BY season",
]


def tables_entry(db_id: str) -> dict[str, object]:
    """The Spider tables.json entry (BIRD's ``dev_tables.json`` format) of one of our databases."""
    tables, fks = SCHEMAS[db_id]
    columns: list[list[object]] = [[-1, "*"]]
    types, pks = ["text"], []
    for t_idx, (_, cols) in enumerate(tables):
        for name, kind, pk in cols:
            if pk:
                pks.append(len(columns))
            columns.append([t_idx, name])
            types.append(kind)
    names = [t for t, _ in tables]

    def col(table: str, column: str) -> int:
        return columns.index([names.index(table), column])

    return {
        "db_id": db_id,
        "table_names_original": names,
        "table_names": [t.replace("_", " ") for t in names],
        "column_names_original": columns,
        "column_names": [[t, str(n).replace("_", " ")] for t, n in columns],
        "column_types": types,
        "primary_keys": pks,
        "foreign_keys": [[col(a, b), col(c, d)] for a, b, c, d in fks],
    }


def write_bird(root: Path, questions: list[dict[str, object]] = QUESTIONS) -> Path:
    """Write the BIRD dev folder (``dev.json``, ``dev_tables.json``, ``dev_databases/``) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for db_id, script in (("library", LIBRARY_SQL), ("orchard", ORCHARD_SQL)):
        folder = root / "dev_databases" / db_id
        make_db(folder / f"{db_id}.sqlite", script)
        (folder / "database_description").mkdir(exist_ok=True)
        for table, raw in DESCRIPTIONS[db_id].items():
            (folder / "database_description" / f"{table}.csv").write_bytes(raw)
    (root / "dev_tables.json").write_text(json.dumps([tables_entry("library"), tables_entry("orchard")], indent=1))
    (root / "dev.json").write_text(json.dumps(questions, indent=1))
    gold = "".join(f"{q['SQL']}\t{q['db_id']}\n" for q in questions)
    (root / "dev.sql").write_text(gold)  # BIRD ships its gold in this form too
    return root


def bird_predictions(sqls: list[str], questions: list[dict[str, object]] = QUESTIONS) -> str:
    """Predictions in BIRD's JSON form: ``{"0": "SQL\\t----- bird -----\\tdb_id", ...}``."""
    return json.dumps(
        {
            str(k): f"{sql}\t----- bird -----\t{q['db_id']}"
            for k, (sql, q) in enumerate(zip(sqls, questions, strict=True))
        }
    )
