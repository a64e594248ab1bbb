"""The order in which a run asks its items, for servers that reuse the previous prompt's prefix.

llama.cpp keeps the prompt it evaluated last and evaluates a new request only from the first
token where the two differ. A run that asks the questions of one database one after another,
and among them those with the same examples one after another, has that server evaluate
the schema and the examples once per group instead of once per question.

``shared_prefix_order`` is that order: each item has a path (what its prompt starts with,
part by part: the database, the schema subset, each example); items are grouped by the
first part, then within a group by the second, and so on, groups in the order their first
item has in the input, items with the same path in input order. Only the order of asking
changes: results stay keyed by item. ``in_turn`` keeps the variants that send to such a
server from interleaving their (differently templated) prompts: they run one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from workbench.core.data.items import Item

T = TypeVar("T")


@dataclass
class _Node(Generic[T]):
    ending: list[T] = field(default_factory=list)  # items whose path ends here
    children: dict[Hashable, _Node[T]] = field(default_factory=dict)  # in order of first appearance


def shared_prefix_order(items: Iterable[T], path: Callable[[T], Sequence[Hashable]]) -> list[T]:
    """``items`` grouped part by part of their ``path``; stable: equal paths keep their input order.

    An item whose path ends where others go on (a question that is itself among its database's
    examples, so it gets one example fewer) comes before them: its prompt shares the part they share.
    """
    root: _Node[T] = _Node()
    for item in items:
        node = root
        for part in path(item):
            node = node.children.setdefault(part, _Node())
        node.ending.append(item)
    out: list[T] = []
    stack = [root]
    while stack:  # depth first, children in order of first appearance
        node = stack.pop()
        out.extend(node.ending)
        stack.extend(reversed(node.children.values()))
    return out


def to_ask(
    items: Iterable[Item], done: Collection[int], path: Callable[[Item], Sequence[Hashable]] | None = None
) -> list[Item]:
    """The items a run still asks, in the order it asks them: those whose index is not in ``done`` (a
    resumed run skips them), in their given order or, given a ``path``, in ``shared_prefix_order``."""
    left = [item for item in items if item.index not in done]
    return left if path is None else shared_prefix_order(left, path)


def in_turn(variants: Iterable[T], server: Callable[[T], Hashable | None]) -> list[list[T]]:
    """The variants in lanes that run side by side; the variants of one lane run one after another.

    Variants whose ``server`` is the same (not None: one that reuses the prompt prefix) share a lane,
    so that server gets one variant's prompts at a time; each other variant has a lane of its own.
    """
    lanes: dict[Hashable, list[T]] = {}
    for k, variant in enumerate(variants):
        key = server(variant)
        lanes.setdefault(("alone", k) if key is None else ("server", key), []).append(variant)
    return list(lanes.values())
