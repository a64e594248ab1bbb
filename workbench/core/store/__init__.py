"""The run store: one SQLite file (WAL) per workspace.

It is also the response cache: a request whose hash has a successful response is never
sent again, by this run or any later one. A request row is written together with its
response in one transaction, so the store never holds a request that was sent and not
resolved; a crash loses at most the answers that were in flight.

Migrations are numbered functions; each runs with its ledger row in one transaction.
Every error, reason and event message is masked (``secrets.mask``) as it is written: no
key reaches the file, whatever a server echoed.

Layout: ``Store`` is the one public entry, composed of one mixin per area, each in its own
module over the shared connection (``connection.StoreConnection``: ``db``, ``transaction``,
``migrate``). Mixins keep every caller's ``store.save_score(...)``, ``store.run(...)`` and
``store.db`` working unchanged, with no forwarding methods to keep in step.

- ``migrations``: the numbered schema steps (``MIGRATIONS``)
- ``runs``: datasets, variants, runs and their owners (``RunInfo``, ``LIVE_STATES``)
- ``scores``: ``ScoreRow`` and its reads and writes
- ``response_cache``: requests and responses
- ``prompt_versions``: template versions (``PromptVersion``)
- ``jobs``: Batch API submissions and fine-tuning jobs
- ``disputes``: gold disputes per dataset and split (``Dispute``)
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from platformdirs import user_data_dir

from workbench.core.store.connection import StoreError
from workbench.core.store.disputes import DISPUTE_KINDS, DISPUTE_LABELS, Dispute, DisputesMixin
from workbench.core.store.jobs import BatchesMixin, FinetuneJobsMixin
from workbench.core.store.migrations import MIGRATIONS
from workbench.core.store.prompt_versions import PromptVersion, PromptVersionsMixin
from workbench.core.store.response_cache import ResponseCacheMixin
from workbench.core.store.runs import LIVE_STATES, RunInfo, RunsMixin
from workbench.core.store.scores import ArmFigures, ScoreRow, ScoresMixin

__all__ = [
    "DISPUTE_KINDS",
    "DISPUTE_LABELS",
    "LIVE_STATES",
    "MIGRATIONS",
    "ArmFigures",
    "Dispute",
    "PromptVersion",
    "RunInfo",
    "ScoreRow",
    "Store",
    "StoreError",
    "default_store_path",
]


def default_store_path() -> Path:
    return Path(user_data_dir("workbench")) / "workspace.sqlite"


class Store(
    RunsMixin, ScoresMixin, ResponseCacheMixin, PromptVersionsMixin, BatchesMixin, FinetuneJobsMixin, DisputesMixin
):
    """The run store: ``Store(path)`` opens (creating and migrating) the file; every area's methods in one object."""

    async def finish_run(self, run_id: int, state: str, levels: tuple[str, ...]) -> None:
        """Record a run's last state; when no process works on it any more, its variants' outcomes are read and kept
        (``store/outcomes.py``, the codes numbering ``levels``) for whoever shows it next.

        The state is written at once. The outcomes are read and kept in a thread, on a connection of its own (a
        caller on an event loop, such as the app's, would stall about 30 ms per 10,000 rows); a write that comes
        between is safe either way: what is kept is read in one snapshot, or nothing is kept."""
        self.set_state(run_id, state)
        if state not in LIVE_STATES:
            await asyncio.to_thread(_keep_outcomes, self.path, run_id, tuple(levels))


def _keep_outcomes(path: Path, run_id: int, levels: tuple[str, ...]) -> None:
    """Read and keep a run's outcomes on a connection of its own; if the file cannot be opened or read now, nothing
    is kept (whoever shows the run reads its rows instead): keeping is never a reason for a run to fail. A file gone
    is not made again (``Store`` would create an empty store there)."""
    if not path.is_file():
        return
    try:
        store = Store(path)
    except StoreError:
        return
    try:
        for variant_id in store.variant_names(run_id):
            store.score_outcomes(run_id, variant_id, levels)
    except sqlite3.Error:
        return
    finally:
        store.close()
