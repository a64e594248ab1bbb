"""The session's one pool of bounded workers (scoring, result grids), started and stopped off the event loop."""

from __future__ import annotations

import asyncio
import os

from workbench.core.runs.runner import scoring_pool
from workbench.core.sandbox.bounded_pool import BoundedPool


class ScoringWorkers:
    def __init__(self) -> None:
        self._pool: BoundedPool | None = None
        self._ready: asyncio.Future[BoundedPool] | None = None

    async def pool(self) -> BoundedPool:
        """The pool, started on first use in a thread (its workers' start-up must not stall the loop)."""
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._start())
        return await asyncio.shield(self._ready)

    async def _start(self) -> BoundedPool:
        workers = os.cpu_count() or 1
        pool = scoring_pool(workers)
        await asyncio.to_thread(lambda: list(pool.map(abs, range(workers))))
        self._pool = pool
        return pool

    async def stop(self) -> None:
        """Stop the workers; a pool still starting is waited for (up to 30 s) and stopped too."""
        if self._ready is not None and not self._ready.done():
            await asyncio.wait([self._ready], timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
