"""Schema linking: rank a database's tables for a question and keep the top ones (and the tables joining them)."""

from __future__ import annotations

from workbench.core.data.schema import Schema
from workbench.core.retrieval.text_index import words


def link_schema(question: str, schema: Schema, top: int = 3) -> list[tuple[str, float]]:
    """Tables ranked by overlap of question words with table and column names, plus the
    tables that join them; the first ``top`` are kept (use ``top=0`` to keep all)."""
    q = set(words(question))
    q |= {w.rstrip("s") for w in q}
    scores: list[tuple[str, float]] = []
    for table in schema.tables:
        table_words = set(words(table.name.replace("_", " ") + " " + table.natural_name))
        col_words = {w for c in table.columns for w in words(c.name.replace("_", " ") + " " + c.natural_name)}
        score = 2.0 * len(q & {w.rstrip("s") for w in table_words} | q & table_words) + len(q & col_words)
        scores.append((table.name, float(score)))
    scores.sort(key=lambda ts: (-ts[1], ts[0]))
    if top <= 0 or top >= len(scores):
        return scores
    kept = {name for name, score in scores[:top] if score > 0} or {scores[0][0]}
    for fk in schema.foreign_keys:  # keep the bridge tables between kept ones
        if fk.table in kept or fk.ref_table in kept:
            other = fk.ref_table if fk.table in kept else fk.table
            if any(o.table == other and o.ref_table in kept and o.ref_table != fk.table for o in schema.foreign_keys):
                kept.add(other)
    return [(name, score) for name, score in scores if name in kept]
