"""Loading Spider-format folders: ours, the real release, and broken ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_SPIDER, write_json
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.data.spider import parse_gold_lines, parse_question_file


def test_demo_dataset_shape(demo_path: Path) -> None:
    ds = Dataset(demo_path)
    assert len(ds.db_ids) >= 4
    assert len(ds.load_split("train")) >= 200
    dev = ds.load_split("dev")
    assert len(dev) >= 80 and dev.missing_count == 0
    schema = ds.schema("library")
    assert [t.name for t in schema.tables] == ["author", "book", "member", "loan"]
    assert any(fk.table == "book" and fk.ref_table == "author" for fk in schema.foreign_keys)
    assert schema.table("book").primary_key == ("book_id",)


def test_schema_renderings(demo_path: Path) -> None:
    schema = Dataset(demo_path).schema("transit")
    ddl = schema.create_table_sql()
    assert "CREATE TABLE stop (" in ddl and "PRIMARY KEY (line_id, station_id)" in ddl
    assert "FOREIGN KEY (line_id) REFERENCES line(line_id)" in ddl
    compact = schema.compact()
    assert compact.splitlines()[0] == "line(line_id, name, mode, opened_year)"
    assert "stop.station_id = station.station_id" in compact
    assert "Foreign keys" not in schema.compact(with_foreign_keys=False)


def test_gold_file_split(demo_path: Path) -> None:
    ds = Dataset(demo_path)
    gold = ds.load_split(str(demo_path / "dev_gold.sql"))
    dev = ds.load_split("dev")
    assert [(i.query, i.db_id) for i in gold.items] == [(i.query, i.db_id) for i in dev.items]


def test_malformed_json_names_file_and_position(demo_copy: Path) -> None:
    (demo_copy / "dev.json").write_text('[{"db_id": "library", "question": "q", "query": "SELECT 1"},,]')
    with pytest.raises(DatasetError, match=r"dev\.json: malformed JSON at line 1, column"):
        Dataset(demo_copy).load_split("dev")


@pytest.mark.parametrize("missing", ["db_id", "question", "query"])
def test_missing_field_names_item(demo_copy: Path, missing: str) -> None:
    data = json.loads((demo_copy / "dev.json").read_text())
    del data[3][missing]
    write_json(demo_copy / "dev.json", data)
    with pytest.raises(DatasetError, match=rf"dev\.json: item 3: missing field '{missing}'"):
        Dataset(demo_copy).load_split("dev")


def test_unknown_db_id(demo_copy: Path) -> None:
    data = json.loads((demo_copy / "dev.json").read_text())
    data[5]["db_id"] = "atlantis"
    write_json(demo_copy / "dev.json", data)
    with pytest.raises(DatasetError, match=r"item 5: unknown db_id 'atlantis'"):
        Dataset(demo_copy).load_split("dev")


def test_malformed_tables_entry(demo_copy: Path) -> None:
    data = json.loads((demo_copy / "tables.json").read_text())
    del data[1]["column_types"]
    write_json(demo_copy / "tables.json", data)
    with pytest.raises(DatasetError, match=r"tables\.json: entry 1 \(db_id 'clinic'\): missing field 'column_types'"):
        Dataset(demo_copy)


def test_missing_database_is_counted_not_dropped(demo_copy: Path) -> None:
    shutil.rmtree(demo_copy / "database" / "shop")
    split = Dataset(demo_copy).load_split("dev")
    assert len(split) == len(Dataset(demo_copy).load_split("dev").items)
    assert set(split.missing_db) == {"shop"} and split.missing_count > 0


def test_corrupt_database_is_reported(demo_copy: Path) -> None:
    path = demo_copy / "database" / "clinic" / "clinic.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatasetError, match=r"clinic\.sqlite: not a usable SQLite database"):
        Dataset(demo_copy).check_database("clinic")


def test_unknown_split_lists_the_known_ones(demo_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no split 'test' \(found: train, dev\)"):
        Dataset(demo_path).load_split("test")


def test_gold_lines_reject_lines_without_db() -> None:
    with pytest.raises(DatasetError, match=r"g\.sql: line 2: expected 'SQL<TAB>db_id'"):
        parse_gold_lines(Path("g.sql"), "SELECT 1\tdb\nSELECT 2\n")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=12,
    )
)
def test_question_file_parser_never_crashes(data: object) -> None:
    try:
        items = parse_question_file(Path("q.json"), data)
    except DatasetError as exc:
        assert str(exc).startswith("q.json")
    else:
        assert all(isinstance(i.query, str) and isinstance(i.db_id, str) for i in items)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(blacklist_characters="\t\n\r"), min_size=1),
            st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
        ),
        max_size=20,
    )
)
def test_gold_lines_round_trip(pairs: list[tuple[str, str]]) -> None:
    pairs = [(sql.strip(), db) for sql, db in pairs if sql.strip()]
    text = "".join(f"{sql}\t{db}\n" for sql, db in pairs)
    items = parse_gold_lines(Path("g.sql"), text)
    assert [(i.query, i.db_id) for i in items] == pairs


@pytest.mark.skipif(not SHARED_SPIDER.is_dir(), reason="optional check: ../shared/spider is not present")
def test_real_spider_release_loads() -> None:
    ds = Dataset(SHARED_SPIDER)
    dev = ds.load_split("dev")
    assert len(dev) == 1034 and dev.missing_db == {"wta_1": 62}
    assert len(ds.load_split("train")) == 7000
