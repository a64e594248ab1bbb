"""Training data export: a split rendered through a template version into chat-format JSONL.

Each example is the exact prompt a run would send for the item (same template, same
retrieval, which never returns the item itself) followed by the assistant turn the
template asks for, holding the gold SQL. The train/validation split is by question:
duplicates (same database, same question once normalised) always land on the same side,
so the validation set never holds a training item.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.dataset import Item
from workbench.core.prompts.context import ContextBuilder

ANSWER_STYLES = ("fenced", "plain")


@dataclass
class ExportResult:
    train_path: Path
    validation_path: Path | None
    train: int
    validation: int
    duplicates_dropped: int
    skipped: list[str] = field(default_factory=list)  # items that could not be rendered, with the reason


def question_key(item: Item) -> tuple[str, str]:
    return item.db_id, re.sub(r"\W+", " ", item.question.lower()).strip()


def assistant_text(query: str, style: str, answer_prefix: str = "") -> str:
    sql = query.strip().rstrip(";").strip()
    if answer_prefix and sql.upper().startswith(answer_prefix.upper()):
        sql = sql[len(answer_prefix) :].lstrip()  # the prompt already ends with it (completion templates)
    return f"```sql\n{sql}\n```" if style == "fenced" else sql


def example(builder: ContextBuilder, item: Item, style: str, answer_prefix: str = "") -> dict[str, Any]:
    messages = list(builder.build(item).messages)
    return {"messages": [*messages, {"role": "assistant", "content": assistant_text(item.query, style, answer_prefix)}]}


def split_items(
    items: list[Item], validation_fraction: float, seed: int, dedupe: bool
) -> tuple[list[Item], list[Item], int]:
    """(train, validation, duplicates dropped): groups of duplicate questions never straddle the split."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault(question_key(item), []).append(item)
    dropped = 0
    if dedupe:
        dropped = sum(len(g) - 1 for g in groups.values())
        groups = {k: g[:1] for k, g in groups.items()}
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    cut = round(len(keys) * validation_fraction)
    if validation_fraction > 0 and cut == 0 and len(keys) > 1:
        cut = 1
    validation = sorted((i for k in keys[:cut] for i in groups[k]), key=lambda i: i.index)
    train = sorted((i for k in keys[cut:] for i in groups[k]), key=lambda i: i.index)
    return train, validation, dropped


def _write(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def export_training_data(
    builder: ContextBuilder,
    items: list[Item],
    out: Path,
    validation_fraction: float = 0.1,
    seed: int = 0,
    dedupe: bool = True,
    style: str = "fenced",
    answer_prefix: str = "",
) -> ExportResult:
    """Write ``out`` (training) and ``out``'s ``.validation.jsonl`` sibling (when the fraction is > 0)."""
    if style not in ANSWER_STYLES:
        raise ValueError(f"unknown answer style {style!r} ({', '.join(ANSWER_STYLES)})")
    if not 0 <= validation_fraction < 1:
        raise ValueError("the validation fraction must be at least 0 and below 1")
    train, validation, dropped = split_items(items, validation_fraction, seed, dedupe)
    skipped: list[str] = []

    def rows(chosen: list[Item]) -> Iterator[dict[str, Any]]:
        for item in chosen:
            try:
                yield example(builder, item, style, answer_prefix)
            except (ValueError, KeyError) as exc:  # a template problem or a schema that is missing
                skipped.append(f"item {item.index} ({item.db_id}): {exc}")

    n_train = _write(out, rows(train))
    val_path = out.with_name(out.stem + ".validation.jsonl") if validation else None
    n_val = _write(val_path, rows(validation)) if val_path else 0
    return ExportResult(out, val_path, n_train, n_val, dropped, skipped)
