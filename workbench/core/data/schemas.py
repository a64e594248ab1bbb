"""A tables file's schemas by db_id, each built from its entry when first asked for.

Opening a dataset reads the tables file (``tables.json``, BIRD's ``<split>_tables.json``) and
checks only that every entry is an object with a string ``db_id`` named once: that is what a
split needs to know its items' databases. The rest of an entry is checked, and its
:class:`~workbench.core.data.schema.Schema` built, on first use (``schemas[db_id]``), so a command
that touches three databases of Spider's 166 builds three. A malformed entry is then the same
one-line :class:`DatasetError` naming the file and the entry, raised where the schema is first
used; ``Dataset.check_schemas`` builds them all at once (``workbench dataset check`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.data import inputs
from workbench.core.data.items import DatasetError

if TYPE_CHECKING:  # the schema module (its dataclasses, the dialects) loads with the first schema built
    from workbench.core.data.schema import Schema


class Schemas(Mapping[str, "Schema"]):
    """db_id -> :class:`Schema` over the entries of one or more tables files; ``finish(schema, path)`` may
    complete a schema once built (BIRD's column descriptions), ``path`` being the file of its entry."""

    def __init__(self, finish: Callable[[Schema, Path], Schema] | None = None) -> None:
        self._entries: dict[str, tuple[Path, int, Any]] = {}  # db_id -> (file, position, entry)
        self._built: dict[str, Schema] = {}
        self._finish = finish

    def add_file(self, path: Path, repeats: str = "error") -> dict[str, int]:
        """Index the entries of the tables file ``path``; a db_id seen before is an error (``repeats="error"``)
        or keeps its first entry (``"first"``). Returns the db_ids found in this file (db_id -> position)."""
        data = inputs.read_json(path, DatasetError)
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON list of schemas, got {inputs.type_name(data)}")
        found: dict[str, int] = {}
        for k, entry in enumerate(data):
            db_id = entry.get("db_id") if isinstance(entry, dict) else None
            if not isinstance(db_id, str):
                raise _entry_error(path, k, entry)
            if db_id in self._entries:
                if repeats == "error":
                    raise DatasetError(f"{path}: entry {k}: db_id {db_id!r} appears twice")
                continue
            self._entries[db_id] = (path, k, entry)
            found[db_id] = k
        return found

    def __getitem__(self, db_id: str) -> Schema:
        schema = self._built.get(db_id)
        if schema is None:
            path, k, entry = self._entries[db_id]  # KeyError: no such db_id
            schema = _build(path, k, entry)
            if self._finish is not None:
                schema = self._finish(schema, path)
            self._built[db_id] = schema
        return schema

    def __contains__(self, db_id: object) -> bool:
        return db_id in self._entries  # without building it

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def built(self) -> list[str]:
        """The db_ids whose schemas were built so far, in the order they were."""
        return list(self._built)


def _build(path: Path, k: int, entry: Any) -> Schema:
    from workbench.core.data.schema import SchemaError, schema_from_entry

    try:
        return schema_from_entry(entry, f"entry {k}")
    except SchemaError as exc:
        raise DatasetError(f"{path}: {exc}") from None


def _entry_error(path: Path, k: int, entry: Any) -> DatasetError:
    """The error for an entry that is not an object with a string db_id, worded as building it words it."""
    try:
        _build(path, k, entry)
    except DatasetError as exc:
        return exc
    return DatasetError(f"{path}: entry {k}: no db_id")  # not reached: building checks the db_id first
