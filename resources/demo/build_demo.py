"""Build the demo dataset (Spider format) from the readable sources beside this file.

    python resources/demo/build_demo.py

source/<db>.sql holds each schema; rows come from the seeded word lists below; questions
come from questions.py, each family instantiated with values read from the database.
Values whose gold answer is empty are skipped; a family with too few questions fails the build.
Writes database/<db>/<db>.sqlite, tables.json, train.json, dev.json, dev_gold.sql and
sample_predictions.sql (a plausible model's answers, some right, some wrong). Every
gold query is executed and parsed with Spider's grammar, so a broken question fails the build.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from questions import FAMILIES  # noqa: E402

sys.path.insert(0, str(HERE.parents[1]))
from workbench.core.scoring.spider_sql import SpiderParseError, SpiderSchema, parse_sql  # noqa: E402

FIRST = [
    "Ada",
    "Bram",
    "Chioma",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kwame",
    "Lucia",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tamsin",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
]
LAST = [
    "Okafor",
    "van der Berg",
    "McAllister",
    "Lindqvist",
    "Nakamura",
    "O'Neill",
    "da Silva",
    "Kowalski",
    "DeLuca",
    "Haddad",
    "Ivanova",
    "MacLeod",
    "Petrov",
    "Sato",
    "Ferreira",
    "LeBlanc",
]
CITIES = ["Porto", "Leeds", "Utrecht", "Graz", "Tampere", "Lyon", "Gdansk", "Bilbao"]
COUNTRIES = ["Portugal", "United Kingdom", "Netherlands", "Austria", "Finland", "France", "Poland", "Spain"]


def _people(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
    ordered = sorted(names)  # set order varies between runs; sort before shuffling
    rng.shuffle(ordered)
    return ordered


def _date(rng: random.Random, start: str, days: int) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=rng.randrange(days))).isoformat()


def fill_library(db: sqlite3.Connection, rng: random.Random) -> None:
    countries = [*COUNTRIES[:6], "Nigeria", "Japan"]
    for i, name in enumerate(_people(rng, 14), 1):
        db.execute(
            "INSERT INTO author VALUES (?,?,?,?)",
            (i, name, rng.choice(countries), rng.choice([None, *range(1930, 1995)])),
        )
    genres = ["Mystery", "Sci-Fi", "History", "Poetry", "Romance", "Travel"]
    words = [
        "Silent",
        "River",
        "Glass",
        "Harbour",
        "Winter",
        "Atlas",
        "Lantern",
        "Orchard",
        "Signal",
        "Copper",
        "Meridian",
        "Echo",
        "Salt",
        "Paper",
        "Northern",
        "Garden",
    ]
    titles: set[str] = set()
    while len(titles) < 40:
        titles.add(f"The {rng.choice(words)} {rng.choice(words[::-1])}")
    for i, title in enumerate(sorted(titles), 1):
        price = None if rng.random() < 0.15 else round(rng.uniform(6, 45), 2)
        db.execute(
            "INSERT INTO book VALUES (?,?,?,?,?,?,?)",
            (i, title, rng.randint(1, 14), rng.choice(genres), rng.randint(1950, 2024), rng.randint(90, 900), price),
        )
    for i, name in enumerate(_people(rng, 20), 1):
        db.execute("INSERT INTO member VALUES (?,?,?,?)", (i, name, rng.choice(CITIES), _date(rng, "2015-01-01", 3000)))
    for i in range(1, 121):
        out = _date(rng, "2022-01-01", 900)
        back = (
            None
            if rng.random() < 0.2
            else (dt.date.fromisoformat(out) + dt.timedelta(days=rng.randint(3, 40))).isoformat()
        )
        db.execute("INSERT INTO loan VALUES (?,?,?,?,?)", (i, rng.randint(1, 40), rng.randint(1, 20), out, back))


def fill_clinic(db: sqlite3.Connection, rng: random.Random) -> None:
    specialties = ["Cardiology", "Dermatology", "Pediatrics", "General Practice", "Neurology"]
    for i, name in enumerate(_people(rng, 10), 1):
        db.execute(
            "INSERT INTO doctor VALUES (?,?,?,?)",
            (i, "Dr. " + name, specialties[i % 5], _date(rng, "2005-01-01", 6000)),
        )
    insurers = ["MediCare Plus", "HealthFirst", "CareWell", None]
    for i, name in enumerate(_people(rng, 30), 1):
        db.execute(
            "INSERT INTO patient VALUES (?,?,?,?,?)",
            (i, name, _date(rng, "1940-01-01", 29000), rng.choice(CITIES), rng.choice(insurers)),
        )
    diagnoses = ["Hypertension", "Eczema", "Migraine", "Influenza", "Asthma", None]
    for i in range(1, 151):
        db.execute(
            "INSERT INTO appointment VALUES (?,?,?,?,?,?)",
            (
                i,
                rng.randint(1, 30),
                rng.randint(1, 10),
                _date(rng, "2023-01-01", 700),
                rng.choice([None, 40.0, 60.0, 75.5, 90.0, 120.0, 150.0]),
                rng.choice(diagnoses),
            ),
        )


def fill_transit(db: sqlite3.Connection, rng: random.Random) -> None:
    lines = [
        ("Red Line", "Metro"),
        ("Blue Line", "Metro"),
        ("Harbour Tram", "Tram"),
        ("Tram 4", "Tram"),
        ("Bus 11", "Bus"),
        ("Bus 27", "Bus"),
        ("Night Bus N3", "Bus"),
        ("Airport Express", "Rail"),
    ]
    for i, (name, mode) in enumerate(lines, 1):
        db.execute("INSERT INTO line VALUES (?,?,?,?)", (i, name, mode, rng.randint(1960, 2020)))
    stations = [
        "Central",
        "Old Market",
        "University",
        "Riverside",
        "Castle Hill",
        "Docklands",
        "St. Anne's",
        "Parkview",
        "North Gate",
        "Museum Quarter",
        "Airport",
        "Stadium",
        "Harbourfront",
        "Elm Street",
        "Westfield",
        "Canal Square",
        "Botanic Garden",
        "Hospital",
    ]
    districts = ["Centre", "North", "East", "West", "Harbour"]
    for i, name in enumerate(stations, 1):
        db.execute("INSERT INTO station VALUES (?,?,?,?)", (i, name, rng.choice(districts), int(rng.random() < 0.6)))
    for line_id in range(1, 9):
        chosen = rng.sample(range(1, 19), rng.randint(4, 8))
        for order, station_id in enumerate(chosen, 1):
            db.execute("INSERT INTO stop VALUES (?,?,?)", (line_id, station_id, order))
    for i in range(1, 201):
        db.execute(
            "INSERT INTO trip VALUES (?,?,?,?,?)",
            (
                i,
                rng.randint(1, 8),
                _date(rng, "2024-01-01", 365),
                rng.randint(3, 400),
                None if rng.random() < 0.1 else rng.choice([0, 0, 0, 1, 2, 5, 8, 15]),
            ),
        )


def fill_shop(db: sqlite3.Connection, rng: random.Random) -> None:
    for i, name in enumerate(_people(rng, 24), 1):
        email = None if rng.random() < 0.2 else name.lower().replace(" ", ".").replace("'", "") + "@example.org"
        db.execute(
            "INSERT INTO customer VALUES (?,?,?,?,?)",
            (i, name, email, rng.choice(COUNTRIES), _date(rng, "2019-01-01", 1800)),
        )
    products = [
        ("Trail Backpack", "Outdoor"),
        ("Camping Stove", "Outdoor"),
        ("Headlamp", "Outdoor"),
        ("Espresso Maker", "Kitchen"),
        ("Cast-Iron Pan", "Kitchen"),
        ("Chef's Knife", "Kitchen"),
        ("Desk Lamp", "Office"),
        ("Notebook A5", "Office"),
        ("Fountain Pen", "Office"),
        ("Yoga Mat", "Fitness"),
        ("Kettlebell 12kg", "Fitness"),
        ("Jump Rope", "Fitness"),
        ("USB-C Charger", "Electronics"),
        ("Wireless Mouse", "Electronics"),
        ("e-Reader", "Electronics"),
    ]
    for i, (name, cat) in enumerate(products, 1):
        db.execute(
            "INSERT INTO product VALUES (?,?,?,?,?)",
            (i, name, cat, round(rng.uniform(4, 250), 2), rng.choice([None, *range(0, 80)])),
        )
    statuses = ["Delivered", "Shipped", "Pending", "Cancelled"]
    for i in range(1, 91):
        db.execute(
            "INSERT INTO orders VALUES (?,?,?,?)",
            (i, rng.randint(1, 24), _date(rng, "2023-01-01", 700), rng.choice(statuses)),
        )
        for product_id in rng.sample(range(1, 16), rng.randint(1, 4)):
            db.execute("INSERT INTO order_item VALUES (?,?,?)", (i, product_id, rng.randint(1, 5)))


FILLERS = {"library": fill_library, "clinic": fill_clinic, "transit": fill_transit, "shop": fill_shop}


def build_database(db_id: str, seed: int) -> Path:
    path = HERE / "database" / db_id / f"{db_id}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript((HERE / "source" / f"{db_id}.sql").read_text())
    FILLERS[db_id](db, random.Random(seed))
    db.commit()
    db.execute("VACUUM")
    db.close()
    return path


def natural(name: str) -> str:
    return name.replace("_", " ").lower()


def tables_entry(db_id: str, path: Path) -> dict:
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")]
    cols: list[list] = [[-1, "*"]]
    types = ["text"]
    pks: list = []
    index: dict[tuple[str, str], int] = {}
    for t_idx, table in enumerate(tables):
        info = db.execute(f"PRAGMA table_info({table})").fetchall()
        key = []
        for _cid, name, ctype, _nn, _default, pk in info:
            index[(table, name)] = len(cols)
            cols.append([t_idx, name])
            types.append(
                "number" if ctype.upper() in ("INTEGER", "REAL") else "time" if ctype.upper() == "DATE" else "text"
            )
            if pk:
                key.append(index[(table, name)])
        pks.append(key[0] if len(key) == 1 else key)
    fks = []
    for table in tables:
        for row in db.execute(f"PRAGMA foreign_key_list({table})"):
            fks.append([index[(table, row[3])], index[(row[2], row[4])]])
    db.close()
    return {
        "db_id": db_id,
        "table_names_original": tables,
        "table_names": [natural(t) for t in tables],
        "column_names_original": cols,
        "column_names": [[t, natural(c) if t >= 0 else c] for t, c in cols],
        "column_types": types,
        "primary_keys": pks,
        "foreign_keys": fks,
    }


def instantiate(paths: dict[str, Path]) -> tuple[list[dict], list[dict], list[str]]:
    train, dev, sample = [], [], []
    for fam in FAMILIES:
        db = sqlite3.connect(paths[fam.db_id])
        spider_schema = SpiderSchema(
            {
                t.lower(): [r[1].lower() for r in db.execute(f"PRAGMA table_info({t})")]
                for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        )
        values = [tuple(r) for r in db.execute(fam.values_sql)] if fam.values_sql else [()]
        k = 0
        for params in values:
            if k == fam.limit:
                break
            question = fam.question.format(*params)
            query = fam.sql.format(*params)
            if not db.execute(query).fetchall():
                continue  # a question whose answer is empty teaches little; take the next value
            try:
                parse_sql(spider_schema, query)
            except SpiderParseError as exc:
                raise SystemExit(f"gold query outside Spider's grammar ({exc}): {query}") from None
            item = {"db_id": fam.db_id, "question": question, "query": query}
            if k < fam.dev:
                dev.append(item)
                sample.append(fam.wrong.format(*params) if fam.wrong and k % 2 == 0 else query)
            else:
                train.append(item)
            k += 1
        if k <= fam.dev:
            raise SystemExit(f"family yields only {k} questions: {fam.question}")
        db.close()
    return train, dev, sample


def main() -> None:
    paths = {db_id: build_database(db_id, seed) for seed, db_id in enumerate(FILLERS, start=11)}
    (HERE / "tables.json").write_text(json.dumps([tables_entry(d, p) for d, p in paths.items()], indent=1) + "\n")
    train, dev, sample = instantiate(paths)
    (HERE / "train.json").write_text(json.dumps(train, indent=1, ensure_ascii=False) + "\n")
    (HERE / "dev.json").write_text(json.dumps(dev, indent=1, ensure_ascii=False) + "\n")
    (HERE / "dev_gold.sql").write_text("".join(f"{d['query']}\t{d['db_id']}\n" for d in dev))
    (HERE / "sample_predictions.sql").write_text("".join(f"{s}\n" for s in sample))
    print(f"train={len(train)} dev={len(dev)} databases={len(paths)}")


if __name__ == "__main__":
    main()
