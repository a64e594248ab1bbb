"""Database schemas as described by a Spider ``tables.json`` entry (or read from the file, see
``introspect``), and prompt renderings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.core.data.dialects import column_type, identifier
from workbench.core.data.inputs import type_name

REQUIRED_KEYS = (
    "db_id",
    "table_names",
    "table_names_original",
    "column_names",
    "column_names_original",
    "column_types",
    "primary_keys",
    "foreign_keys",
)


class SchemaError(ValueError):
    """A tables.json entry is malformed; the message says which entry and field."""


@dataclass(frozen=True)
class Column:
    index: int  # position in tables.json's column list (0 is "*")
    table: str  # original table name
    name: str  # original column name
    natural_name: str  # Spider's readable name ("people id")
    type: str
    primary_key: bool = False
    samples: tuple[str, ...] = field(default=(), compare=False)  # a few distinct values (introspected schemas)
    description: str = field(default="", compare=False)  # what the column means (BIRD's database_description)


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    name: str
    natural_name: str
    columns: tuple[Column, ...]

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)


@dataclass(frozen=True)
class Schema:
    db_id: str
    tables: tuple[Table, ...]
    foreign_keys: tuple[ForeignKey, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        raise KeyError(name)

    @property
    def columns(self) -> list[Column]:
        return [c for t in self.tables for c in t.columns]

    def foreign_key_pairs(self) -> list[tuple[int, int]]:
        return [tuple(pair) for pair in self.raw.get("foreign_keys", [])]  # type: ignore[misc]

    def with_descriptions(self, described: Mapping[tuple[str, str], str]) -> Schema:
        """This schema with column descriptions, keyed by (table, column) in lower case; others keep theirs."""
        tables = tuple(
            replace(t, columns=tuple(
                replace(c, description=described.get((t.name.lower(), c.name.lower()), c.description))
                for c in t.columns
            ))
            for t in self.tables
        )  # fmt: skip
        return replace(self, tables=tables)

    @property
    def has_descriptions(self) -> bool:
        return any(c.description for c in self.columns)

    # --- renderings for prompts ---------------------------------------------
    def create_table_sql(
        self, with_foreign_keys: bool = True, descriptions: bool = False, dialect: str = "sqlite"
    ) -> str:
        """The schema as CREATE TABLE statements in ``dialect``'s DDL (``dialects``: type names, quoting);
        ``descriptions`` adds each column's as a ``--`` comment."""

        def written(name: str) -> str:
            return identifier(name, dialect)

        blocks = []
        for t in self.tables:
            lines = [f"  {written(c.name)} {column_type(c.type, dialect)}" for c in t.columns]
            notes = [_comment(c.description) if descriptions else "" for c in t.columns]
            if t.primary_key:
                lines.append(f"  PRIMARY KEY ({', '.join(written(n) for n in t.primary_key)})")
            if with_foreign_keys:
                lines.extend(
                    f"  FOREIGN KEY ({written(fk.column)}) REFERENCES {written(fk.ref_table)}({written(fk.ref_column)})"
                    for fk in self.foreign_keys
                    if fk.table == t.name
                )
            notes += [""] * (len(lines) - len(notes))
            last = len(lines) - 1
            body = "\n".join(line + ("," if k < last else "") + notes[k] for k, line in enumerate(lines))
            blocks.append(f"CREATE TABLE {written(t.name)} (\n" + body + "\n);")
        return "\n".join(blocks)

    def compact(self, with_foreign_keys: bool = True, descriptions: bool = False) -> str:
        """The schema as ``table(col, col, ...)`` lines (``descriptions``: then one line per described column),
        then foreign keys."""
        lines = []
        for t in self.tables:
            lines.append(f"{t.name}({', '.join(c.name for c in t.columns)})")
            if descriptions:
                lines.extend(f"  {t.name}.{c.name}: {_one_line(c.description)}" for c in t.columns if c.description)
        if with_foreign_keys and self.foreign_keys:
            lines.append("Foreign keys:")
            lines.extend(f"{fk.table}.{fk.column} = {fk.ref_table}.{fk.ref_column}" for fk in self.foreign_keys)
        return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _comment(description: str) -> str:
    return f" -- {_one_line(description)}" if description.strip() else ""


def _need(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in entry:
        raise SchemaError(f"{where}: missing field {key!r}")
    value = entry[key]
    if not isinstance(value, kind):
        raise SchemaError(f"{where}: field {key!r} should be a {kind.__name__}, got {type_name(value)}")
    return value


def _strings(values: list[Any], key: str, where: str) -> list[str]:
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise SchemaError(f"{where}: {key}[{i}]: expected a string, got {type_name(value)}")
    return values


def _primary_key_indices(raw: Sequence[Any], where: str) -> set[int]:
    out: set[int] = set()
    for pk in raw:
        members = pk if isinstance(pk, list) else [pk]
        if not all(_is_int(m) for m in members):
            raise SchemaError(f"{where}: primary_keys holds a non-integer {_short(pk)}")
        out.update(members)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def schema_from_entry(entry: Any, where: str) -> Schema:
    """Build a :class:`Schema` from one tables.json entry; ``where`` names it in errors."""
    if not isinstance(entry, Mapping):
        raise SchemaError(f"{where}: expected an object, got {type_name(entry)}")
    db_id = _need(entry, "db_id", str, where)
    where = f"{where} (db_id {db_id!r})"
    tables_orig = _strings(_need(entry, "table_names_original", list, where), "table_names_original", where)
    tables_nat = _strings(_need(entry, "table_names", list, where), "table_names", where)
    cols_orig = _need(entry, "column_names_original", list, where)
    cols_nat = _need(entry, "column_names", list, where)
    types = _need(entry, "column_types", list, where)
    pks = _primary_key_indices(_need(entry, "primary_keys", list, where), where)
    fks_raw = _need(entry, "foreign_keys", list, where)
    if not (len(cols_orig) == len(cols_nat) == len(types)):
        raise SchemaError(f"{where}: column_names, column_names_original and column_types differ in length")
    if len(tables_orig) != len(tables_nat):
        raise SchemaError(f"{where}: table_names and table_names_original differ in length")
    per_table: list[list[Column]] = [[] for _ in tables_orig]
    for i, (pair, nat, ctype) in enumerate(zip(cols_orig, cols_nat, types, strict=True)):
        if not (isinstance(pair, list) and len(pair) == 2 and _is_int(pair[0]) and isinstance(pair[1], str)):
            raise SchemaError(f"{where}: column_names_original[{i}] should be [table_index, name], got {_short(pair)}")
        t_idx, name = pair
        if t_idx < 0:
            continue
        if t_idx >= len(tables_orig):
            raise SchemaError(f"{where}: column {name!r} points to table {t_idx}, which does not exist")
        natural = nat[1] if isinstance(nat, list) and len(nat) == 2 else str(nat)
        per_table[t_idx].append(Column(i, tables_orig[t_idx], name, natural, str(ctype), i in pks))
    fks = []
    for pair in fks_raw:
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(k) for k in pair)):
            raise SchemaError(f"{where}: foreign key {_short(pair)} should be [column_index, column_index]")
        a, b = pair
        if not (0 < a < len(cols_orig) and 0 < b < len(cols_orig)):
            raise SchemaError(f"{where}: foreign key {_short(pair)} points past the column list")
        ca, cb = cols_orig[a], cols_orig[b]
        if ca[0] < 0 or cb[0] < 0:
            raise SchemaError(f"{where}: foreign key {_short(pair)} names a column of no table")
        fks.append(ForeignKey(tables_orig[ca[0]], ca[1], tables_orig[cb[0]], cb[1]))
    tables = tuple(Table(name, str(tables_nat[k]), tuple(per_table[k])) for k, name in enumerate(tables_orig))
    return Schema(db_id, tables, tuple(fks), raw=dict(entry))
