"""A PostgreSQL schema read from the catalog, in the shape of a Spider ``tables.json`` entry.

Tables (ordinary, partitioned, views, materialised views, foreign tables) in the database's
schema (``ref.namespace``, else every schema on the default search path), in creation order;
their columns with ``format_type`` types; primary keys (composite ones too); foreign keys (a
composite one becomes one pair per column, as ``tables.json`` writes it); column comments as
descriptions; and a few distinct sample values per column, read in a read-only transaction
bounded in time. Only our own fixed statements run here.
"""

from __future__ import annotations

from typing import Any

from workbench.core.engines.base import DatabaseRef, Introspection, catalog_entry, normalise_value

SAMPLE_VALUES = 3
MAX_SAMPLE_CHARS = 40
SAMPLE_TIMEOUT_MS = 2_000


def schema_exists(conn: Any, namespace: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (namespace,))
        found = cur.fetchone() is not None
    conn.rollback()
    return found


def _tables(cur: Any, ref: DatabaseRef) -> list[tuple[int, str, str]]:
    """(oid, schema, name) of each table, first schema first, creation order within one; a name seen once."""
    if ref.namespace:
        schemas = [ref.namespace]
    else:
        cur.execute("SELECT unnest(current_schemas(false))")
        schemas = [str(r[0]) for r in cur.fetchall()]
    cur.execute(
        "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
        "ORDER BY array_position(%s, n.nspname::text), c.oid",
        (schemas, schemas),
    )
    seen: set[str] = set()
    found = []
    for oid, schema, name in cur.fetchall():
        if name.lower() not in seen:
            seen.add(name.lower())
            found.append((int(oid), str(schema), str(name)))
    return found


def _constraints(cur: Any, oids: list[int], kind: str) -> list[tuple[int, list[int], int, list[int]]]:
    cur.execute(
        "SELECT conrelid, conkey, confrelid, confkey FROM pg_constraint WHERE contype = %s AND conrelid = ANY(%s) "
        "ORDER BY conrelid, conname",
        (kind, oids),
    )
    return [(int(a), list(b or ()), int(c or 0), list(d or ())) for a, b, c, d in cur.fetchall()]


def _samples(cur: Any, schema: str, table: str, column: str) -> tuple[str, ...]:
    from psycopg import sql

    query = sql.SQL("SELECT DISTINCT {c} FROM {s}.{t} WHERE {c} IS NOT NULL LIMIT {n}").format(
        c=sql.Identifier(column), s=sql.Identifier(schema), t=sql.Identifier(table), n=sql.Literal(SAMPLE_VALUES)
    )
    cur.execute("SAVEPOINT sample")
    try:
        cur.execute(query)
        values = [normalise_value(r[0]) for r in cur.fetchall()]
    except Exception as exc:  # a column whose values cannot be compared (json, xml): no samples
        import psycopg

        if not isinstance(exc, psycopg.Error):
            raise
        cur.execute("ROLLBACK TO SAVEPOINT sample")
        return ()
    texts = [v.hex() if isinstance(v, bytes) else str(v) for v in values]
    return tuple(t if len(t) <= MAX_SAMPLE_CHARS else t[: MAX_SAMPLE_CHARS - 1] + "…" for t in texts)


def introspect(conn: Any, ref: DatabaseRef, db_id: str) -> Introspection:
    with conn.cursor() as cur:
        cur.execute(f"SET LOCAL statement_timeout = {SAMPLE_TIMEOUT_MS}")
        tables = _tables(cur, ref)
        oids = [oid for oid, _, _ in tables]
        cur.execute(
            "SELECT attrelid, attnum, attname, format_type(atttypid, atttypmod), col_description(attrelid, attnum) "
            "FROM pg_attribute WHERE attrelid = ANY(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attrelid, attnum",
            (oids,),
        )
        by_table: dict[int, list[tuple[int, str, str, str | None]]] = {}
        for oid, num, name, ctype, comment in cur.fetchall():
            by_table.setdefault(int(oid), []).append((int(num), str(name), str(ctype), comment))
        columns: list[list[Any]] = [[-1, "*"]]
        types = ["text"]
        where: dict[tuple[int, int], int] = {}  # (table oid, attnum) -> column index
        samples: dict[tuple[str, str], tuple[str, ...]] = {}
        descriptions: dict[tuple[str, str], str] = {}
        for t_idx, (oid, schema, table) in enumerate(tables):
            for num, name, ctype, comment in by_table.get(oid, []):
                where[(oid, num)] = len(columns)
                columns.append([t_idx, name])
                types.append(ctype)
                if comment:
                    descriptions[(table, name)] = str(comment)
                values = _samples(cur, schema, table, name)
                if values:
                    samples[(table, name)] = values
        primary: list[int | list[int]] = []
        for oid, keys, _, _ in _constraints(cur, oids, "p"):
            members = [where[(oid, k)] for k in keys if (oid, k) in where]
            if members:
                primary.append(members[0] if len(members) == 1 else members)
        foreign: list[list[int]] = []
        for oid, keys, parent, parent_keys in _constraints(cur, oids, "f"):
            for child_col, parent_col in zip(keys, parent_keys, strict=False):
                a, b = where.get((oid, child_col)), where.get((parent, parent_col))
                if a is not None and b is not None:  # a key to a table outside the schema is not a schema fact
                    foreign.append([a, b])
    conn.rollback()
    names = [table for _, _, table in tables]
    entry = catalog_entry(db_id, names, columns, types, primary, foreign)
    return Introspection(entry, samples, descriptions)
