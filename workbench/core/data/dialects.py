"""How a schema is written in each engine's DDL: type names and identifier quoting.

SQLite's rendering is the one prompts have always had (types as ``tables.json`` or the file
declares them, a name quoted only when it is not a plain identifier). DuckDB and PostgreSQL
get their own type names for Spider's generic types (``number``, ``text``, ``time``,
``boolean``, ``others``) and for SQLite's declared ones (``INTEGER``, ``REAL``, ``DATETIME``,
``BLOB``, ...); a type already in the engine's words (read from its own catalog) stays as it
is. Names are quoted where the engine would not read them back as written: not a plain
identifier, a reserved word, and for PostgreSQL any upper-case letter (it folds unquoted
names to lower case).
"""

from __future__ import annotations

import re

DIALECTS = ("sqlite", "duckdb", "postgres")

# Spider's generic types and SQLite's common declarations, by dialect (keys in lower case)
_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {
        "number": "DOUBLE", "text": "VARCHAR", "time": "TIMESTAMP", "boolean": "BOOLEAN", "others": "VARCHAR",
        "integer": "BIGINT", "int": "BIGINT", "real": "DOUBLE", "float": "DOUBLE", "double": "DOUBLE",
        "numeric": "DOUBLE", "datetime": "TIMESTAMP", "blob": "BLOB", "any": "VARCHAR", "bool": "BOOLEAN",
    },
    "postgres": {
        "number": "NUMERIC", "text": "TEXT", "time": "TIMESTAMP", "boolean": "BOOLEAN", "others": "TEXT",
        "integer": "BIGINT", "int": "BIGINT", "real": "DOUBLE PRECISION", "float": "DOUBLE PRECISION",
        "double": "DOUBLE PRECISION", "numeric": "NUMERIC", "datetime": "TIMESTAMP", "blob": "BYTEA",
        "any": "TEXT", "bool": "BOOLEAN", "varchar": "TEXT", "string": "TEXT",
    },
}  # fmt: skip
# SQLite's text-affinity declarations with a length: VARCHAR(20), NVARCHAR(255), CHAR(3) ...
_SIZED_TEXT = re.compile(r"(?:n?var)?char(?:acter)?\s*\(\s*\d+\s*\)|varchar|nvarchar|char|nchar|clob", re.IGNORECASE)
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# words that cannot stand as a name unquoted (both engines' reserved and type-or-function keywords)
_RESERVED = _words(
    "all analyse analyze and any array as asc asymmetric authorization binary both by case cast check collate "
    "collation column concurrently constraint create cross current_catalog current_date current_role current_schema "
    "current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch "
    "for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral "
    "leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer "
    "overlaps placing primary references returning right select session_user similar some symmetric table "
    "tablesample then to trailing true union unique user using variadic verbose when where window with"
)
_DUCKDB_RESERVED = _words(
    "anti asof at columns describe generated glob lambda map pivot pivot_longer pivot_wider positional qualify semi "
    "show struct summarize try_cast tuple unpack unpivot"
)


def column_type(declared: str, dialect: str) -> str:
    """``declared`` (Spider's generic type or SQLite's declaration) in the words of ``dialect``."""
    mapping = _TYPES.get(dialect)
    if mapping is None:
        return declared
    key = declared.strip().lower()
    if key in mapping:
        return mapping[key]
    if _SIZED_TEXT.fullmatch(key):
        return "TEXT" if dialect == "postgres" else "VARCHAR"
    return declared


def identifier(name: str, dialect: str) -> str:
    """``name`` as ``dialect`` needs it written in DDL and queries."""
    if dialect == "sqlite":
        return name if name.replace("_", "").isalnum() and not name[:1].isdigit() else f'"{name}"'
    plain = _PLAIN.fullmatch(name) is not None and name.lower() not in _RESERVED
    if dialect == "duckdb" and name.lower() in _DUCKDB_RESERVED:
        plain = False
    if dialect == "postgres" and name != name.lower():
        plain = False
    return name if plain else '"' + name.replace('"', '""') + '"'
