"""Each item's hardness known when its split opens: from the gold SQL, before any prediction is scored.

The level is the one the scorer gives (``scorer._gold_hardness`` on the schema the scorer
reads: the database file's tables, or tables.json's when the file is unusable); a question
file that gives a hardness (``Item.hardness``, e.g. BIRD's difficulty) keeps it. Gold SQL
outside Spider's grammar has no level (None). Pure parsing, no database query: Spider's
train split (8,659 items) takes a few seconds, so the app runs it in a worker process
(``gold_facts.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from workbench.core.data.dataset import Dataset, DatasetError, Item
from workbench.core.scoring.databases import db_info
from workbench.core.scoring.scorer import _gold_hardness
from workbench.core.scoring.spider_sql import SpiderSchema


def gold_hardness(
    dataset: Dataset,
    items: Iterable[Item],
    schemas: dict[str, SpiderSchema | None] | None = None,
) -> dict[int, str | None]:
    """Item index -> hardness level (the file's own when it gives one).

    ``schemas`` (db_id -> its parsing schema) keeps what is read of each database for the next call on ``dataset``.
    """
    schemas = {} if schemas is None else schemas
    levels: dict[int, str | None] = {}
    for item in items:
        if item.hardness is not None:
            levels[item.index] = item.hardness
            continue
        if item.db_id not in schemas:
            schemas[item.db_id] = _schema(dataset, item.db_id)
        schema = schemas[item.db_id]
        levels[item.index] = None if schema is None else _gold_hardness(schema, item.query)
    return levels


def _schema(dataset: Dataset, db_id: str) -> SpiderSchema | None:
    try:
        return db_info(dataset, db_id).spider_schema()
    except DatasetError:  # no schema for the db_id: its items have no level
        return None
