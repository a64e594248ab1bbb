"""What the app knows of each question's gold beyond the run: its hardness and problems at load, and disputes.

One ``GoldOverlay`` per session (``GoldOverlay.of(session)``, a child of the session). When a
split opens it learns each item's hardness from its gold SQL (``scoring/gold_hardness.py``) and
then the gold query's problems by ``dataset check``'s rules (``data/check.py``), database by
database, in the session's worker processes a chunk at a time (``scoring/gold_facts.py``: in a
thread, a large split's parsing would hold the interpreter lock against the window); a new
dataset or split stops the work under way at the next chunk.
It keeps the split's gold disputes (``store/disputes.py``), changed through an undo stack.
Whatever it learns goes into the shown ``RunResults`` (``known_hardness``, ``set_disputes``)
on every ``results_changed``, so the hardness filter, the hardness column and "EX with
overrides" read it wherever the results come from. It must exist before the panes connect
(the main window makes it first) so that they read the results after it has filled them.
"""

from __future__ import annotations

import asyncio
import threading
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from workbench.core.data.dataset import Dataset, DatasetError, Item
from workbench.core.engines.base import EngineError
from workbench.core.scoring.gold_facts import DatasetKey, chunks, hardness_of, problems_in
from workbench.core.store import Dispute
from workbench.ui.session import AppSession

PUBLISH_S = 1.0  # gold problems found are shown at most this often while the check goes on
HARDNESS_CHUNK = 2000  # items a worker parses per task (a new split waits at most one chunk for the old to stop)
PROBLEMS_CHUNK = 500  # items a worker checks per task, each gold query run twice


class GoldOverlay(QObject):
    changed = Signal()  # hardness, gold problems or disputes of the open split changed

    @classmethod
    def of(cls, session: AppSession) -> GoldOverlay:
        """The session's overlay, made on first use."""
        found = session.findChild(GoldOverlay)
        return found if isinstance(found, GoldOverlay) else cls(session)

    def __init__(self, session: AppSession) -> None:
        super().__init__(session)
        self.session = session
        self.hardness: dict[int, str | None] = {}
        self.problems: dict[int, str] = {}  # item -> what is wrong with its gold query
        self.checked = False  # whether the gold check of the open split has finished
        self.disputes: list[Dispute] = []
        self.undo_stack = QUndoStack(self)
        self._generation = 0
        self._cancel = threading.Event()
        self._task: asyncio.Task[None] | None = None
        session.dataset_changed.connect(self._dataset_changed)
        session.results_changed.connect(self._fill_results)
        session.closing.connect(self._stop)
        if session.dataset is not None:
            self._dataset_changed()

    # --- reading ------------------------------------------------------------------------
    def disputes_of(self, index: int) -> list[Dispute]:
        return [d for d in self.disputes if d.item_index == index]

    def marks(self, index: int) -> str:
        """⚑ when the item is disputed, ⚠ when its gold query has a problem."""
        return ("⚑" if self.disputes_of(index) else "") + ("⚠" if index in self.problems else "")

    def notes(self, index: int) -> list[str]:
        """A line per dispute and per gold problem of the item, for tooltips."""
        lines = [f"disputed: {d.describe()}" for d in self.disputes_of(index)]
        return lines + ([f"gold: {self.problems[index]}"] if index in self.problems else [])

    # --- disputes -------------------------------------------------------------------------
    def save(self, dispute: Dispute) -> None:
        """Keep ``dispute`` for the open split (undoable)."""
        self._push(_Change(self, f"dispute #{dispute.item_index}", saved=[dispute]))

    def remove(self, disputes: list[Dispute]) -> None:
        """Forget these disputes of the open split (undoable: Undo brings them back as they were)."""
        if disputes:
            self._push(_Change(self, f"remove dispute #{disputes[0].item_index}", removed=disputes))

    def _push(self, change: _Change) -> None:
        if self.session.dataset is not None:
            self.undo_stack.push(change)

    def _reload_disputes(self, publish: bool = True) -> None:
        dataset = self.session.dataset
        self.disputes = self.session.store.disputes(dataset.identity[0], self.session.split) if dataset else []
        if publish:
            self._publish()
        else:
            self._fill_results()

    # --- the open split -------------------------------------------------------------------
    def _fill_results(self) -> None:
        results = self.session.results
        results.known_hardness = self.hardness
        results.set_disputes(self.disputes)

    def _publish(self) -> None:
        self._fill_results()
        self.changed.emit()
        self.session.results_changed.emit()

    def _dataset_changed(self) -> None:
        self._stop()
        self._generation += 1
        self._cancel = threading.Event()
        self.hardness, self.problems, self.checked = {}, {}, False
        self.undo_stack.clear()  # its changes name the split they were made on
        self._reload_disputes(publish=False)  # the session says results_changed next
        dataset = self.session.dataset
        if dataset is not None and self.session.items:
            self._task = asyncio.ensure_future(
                self._learn(self._generation, dataset, list(self.session.items), self._cancel)
            )

    async def _learn(self, generation: int, dataset: Dataset, items: list[Item], cancel: threading.Event) -> None:
        """Hardness, then each database's gold problems, worked out in the session's workers a chunk at a time."""
        key = DatasetKey.of(dataset)

        def stale() -> bool:
            return generation != self._generation or cancel.is_set()

        try:
            pool = await self.session.workers.pool()
            hardness: dict[int, str | None] = {}
            for chunk in chunks(items, HARDNESS_CHUNK):
                if stale():
                    return
                hardness.update(await asyncio.wrap_future(pool.submit(hardness_of, key, chunk)))
            if stale():
                return
            self.hardness = hardness
            self._publish()
            by_db: dict[str, list[Item]] = {}
            for item in items:
                by_db.setdefault(item.db_id, []).append(item)
            last = time.monotonic()
            for group in by_db.values():
                for chunk in chunks(group, PROBLEMS_CHUNK):
                    if stale():
                        return
                    found = await problems_in(pool, key, chunk)
                    if stale():
                        return
                    self.problems.update(found)
                    if found and time.monotonic() - last >= PUBLISH_S:
                        last = time.monotonic()
                        self._publish()
        except (RuntimeError, DatasetError, EngineError):  # the workers shut down (the app closes); files gone
            return
        self.checked = True
        self._publish()

    def _stop(self) -> None:
        self._cancel.set()  # the learning task stops before its next chunk

    async def settle(self) -> None:
        """Wait until what is learnt at load is in (tests)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


class _Change(QUndoCommand):
    """Disputes saved and removed on one split, as one step of the undo stack."""

    def __init__(
        self, overlay: GoldOverlay, text: str, saved: list[Dispute] | None = None, removed: list[Dispute] | None = None
    ) -> None:
        super().__init__(text)
        dataset = overlay.session.dataset
        assert dataset is not None
        self.overlay, self.root, self.name = overlay, dataset.identity[0], dataset.name
        self.saved, self.removed = list(saved or []), list(removed or [])
        self.replaced: list[Dispute] = []  # what the saved ones overwrote, brought back by undo

    def redo(self) -> None:
        store = self.overlay.session.store
        keys = {_key(d) for d in self.saved}
        self.replaced = [d for d in store.disputes(self.root) if _key(d) in keys]
        for d in self.removed:
            store.remove_dispute(self.root, d)
        self.saved = [store.save_dispute(self.root, self.name, d) for d in self.saved]
        self.overlay._reload_disputes()

    def undo(self) -> None:
        store = self.overlay.session.store
        for d in self.saved:
            store.remove_dispute(self.root, d)
        for d in [*self.replaced, *self.removed]:
            store.save_dispute(self.root, self.name, d)
        self.overlay._reload_disputes()


def _key(d: Dispute) -> tuple[str, int, str, str]:
    return d.split, d.item_index, d.kind, d.predicted_sql.strip()
