"""A database's schema read from its engine's catalog, for datasets without ``tables.json``.

The engine (``engines.registry.introspect``) reads tables, their columns with declared
types, primary keys (composite ones too), foreign keys (a composite one becomes one pair
per column, as ``tables.json`` writes it) and a few distinct sample values per column, as an
:class:`~workbench.core.engines.base.Introspection`. This module turns that into the same
:class:`Schema` a ``tables.json`` entry gives, ``raw`` included, for every engine, so scoring
and templates cannot tell the two apart: samples cut to a prompt's size, comments as
descriptions.
"""

from __future__ import annotations

import dataclasses

from workbench.core.data.inputs import InputError
from workbench.core.data.schema import Schema, SchemaError, Table, schema_from_entry
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef, EngineError, Introspection

SAMPLE_VALUES = 3  # distinct non-NULL values kept per column
MAX_SAMPLE_CHARS = 40  # a longer value is cut, so a blob of text does not fill a prompt


def _cut(value: str) -> str:
    return value if len(value) <= MAX_SAMPLE_CHARS else value[: MAX_SAMPLE_CHARS - 1] + "…"


def schema_of(found: Introspection, where: str, samples: int = SAMPLE_VALUES) -> Schema:
    """The :class:`Schema` of an engine's introspection (``where`` names the database in errors)."""
    schema = schema_from_entry(found.entry, where)
    tables = tuple(
        Table(
            t.name,
            t.natural_name,
            tuple(
                dataclasses.replace(
                    c,
                    samples=tuple(_cut(v) for v in found.samples.get((t.name, c.name), ())[:samples]),
                    description=found.descriptions.get((t.name, c.name), c.description),
                )
                for c in t.columns
            ),
        )
        for t in schema.tables
    )
    return Schema(schema.db_id, tables, schema.foreign_keys, schema.raw)


def introspect(
    ref: DatabaseRef, db_id: str, samples: int = SAMPLE_VALUES, error: type[InputError] = InputError
) -> Schema:
    """The schema of the database at ``ref``; ``error`` (one line naming the database) when it cannot be read."""
    try:
        return schema_of(registry.introspect(ref, db_id), ref.label(), samples)
    except EngineError as exc:
        raise error(str(exc)) from None
    except SchemaError as exc:
        raise error(str(exc)) from None
