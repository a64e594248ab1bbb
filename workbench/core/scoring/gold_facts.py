"""What the app learns of an open split's gold, computed in a worker process: hardness and gold problems.

The app learns both at every split's opening (``ui/gold_overlay.py``). On a large split that is
seconds of pure-Python parsing and SQL (100,000 items: about 20 s); in a thread of the app it would
hold the interpreter lock against the window, which then waits up to a switch interval for every
statement step and every Qt call. So the overlay sends the work in chunks to the session's bounded
workers (``sandbox/bounded_pool.py``), and these functions run there.

A worker keeps the dataset it opened last, by its :class:`DatasetKey`: a chunk carries only its
items. Each opening in the app has its own token, so a dataset opened again is read again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from workbench.core.data.check import gold_problems
from workbench.core.data.dataset import Dataset, Item
from workbench.core.sandbox import watchdog
from workbench.core.sandbox.bounded_pool import WorkerKilled
from workbench.core.scoring.gold_hardness import gold_hardness
from workbench.core.scoring.spider_sql import SpiderSchema

_tokens = itertools.count(1)


@dataclass(frozen=True)
class DatasetKey:
    """How a worker opens the app's dataset: where it is, as the app opened it, and which opening this is."""

    location: str  # a folder, a database file or a URL (never with a password)
    questions: str | None
    allow_privileged_role: bool
    token: int  # one per opening in this process

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetKey:
        questions = None if dataset.questions is None else str(dataset.questions)
        return cls(dataset.location, questions, dataset.allow_privileged_role, next(_tokens))


@dataclass
class _Opened:
    key: DatasetKey
    dataset: Dataset
    schemas: dict[str, SpiderSchema | None] = field(default_factory=dict)  # kept across hardness chunks


_opened: _Opened | None = None  # in a worker: the dataset of the last chunk


def _open(key: DatasetKey) -> _Opened:
    global _opened
    if _opened is None or _opened.key != key:
        _opened = None  # the previous one is let go before the next is read
        _opened = _Opened(key, Dataset(key.location, key.questions, key.allow_privileged_role))
    return _opened


def hardness_of(key: DatasetKey, items: Sequence[Item]) -> dict[int, str | None]:
    """In a worker: item index -> hardness level (``scoring/gold_hardness.py``)."""
    opened = _open(key)
    return gold_hardness(opened.dataset, items, schemas=opened.schemas)


def problems_of(key: DatasetKey, items: Sequence[Item]) -> dict[int, str]:
    """In a worker: item index -> what is wrong with its gold query (``data/check.py``), for items that have one;
    each statement under the worker's pool's bounds."""
    return gold_problems(_open(key).dataset, items, watchdog.limits())


async def problems_in(workers: Executor, key: DatasetKey, items: Sequence[Item]) -> dict[int, str]:
    """``problems_of`` in one of ``workers``. When the worker is stopped from outside (a gold query past its
    bounds inside one C call), the items are checked again one by one, and the one that stops its worker has that
    for its problem."""
    try:
        return dict(await asyncio.wrap_future(workers.submit(problems_of, key, items)))
    except WorkerKilled as killed:
        if len(items) == 1:
            return {items[0].index: f"gold query stopped from outside its worker ({killed.bound})"}
    found: dict[int, str] = {}
    for item in items:
        found.update(await problems_in(workers, key, [item]))
    return found


def chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """``items`` in runs of ``size`` (the last one shorter)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
