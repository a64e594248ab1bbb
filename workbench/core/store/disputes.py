"""Gold disputes: what a user says of an item's gold, kept per dataset and split, never in the dataset.

Three kinds: the gold SQL is wrong, the question is ambiguous, or one prediction (its SQL text)
is also correct. One dispute per (item, kind), and per prediction for "also correct"; saving
again replaces its note. ``reports/overrides.py`` turns them into "EX with overrides".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.core.secrets import mask
from workbench.core.store.connection import StoreConnection, _now

DISPUTE_KINDS = ("gold_wrong", "ambiguous", "also_correct")
DISPUTE_LABELS = {
    "gold_wrong": "gold is wrong",
    "ambiguous": "question is ambiguous",
    "also_correct": "this prediction is also correct",
}


@dataclass(frozen=True)
class Dispute:
    split: str
    item_index: int
    kind: str  # one of DISPUTE_KINDS
    note: str = ""
    predicted_sql: str = ""  # the prediction said to be also correct ("" for the other kinds)
    said_of: str = ""  # "run:variant" whose prediction it was (informative only)
    created_at: str = ""

    def __post_init__(self) -> None:
        if self.kind not in DISPUTE_KINDS:
            raise ValueError(f"unknown dispute kind {self.kind!r} (expected one of {', '.join(DISPUTE_KINDS)})")
        if (self.kind == "also_correct") != bool(self.predicted_sql.strip()):
            raise ValueError("a prediction's SQL goes with 'also_correct' and only with it")

    @property
    def label(self) -> str:
        return DISPUTE_LABELS[self.kind]

    def describe(self) -> str:
        """One line: the kind, whose prediction, and the note."""
        said = f" ({self.said_of})" if self.said_of else ""
        return f"{self.label}{said}" + (f": {self.note}" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DisputesMixin(StoreConnection):
    def save_dispute(self, dataset_root: str, dataset_name: str, dispute: Dispute) -> Dispute:
        """Keep ``dispute`` for the dataset at ``dataset_root`` (its note replaces an earlier one's); as stored."""
        stored = Dispute(
            dispute.split,
            dispute.item_index,
            dispute.kind,
            mask(dispute.note.strip()),
            dispute.predicted_sql.strip(),
            dispute.said_of,
            dispute.created_at or _now(),
        )
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO datasets (root, name, created_at) VALUES (?, ?, ?)",
                (dataset_root, dataset_name, _now()),
            )
            dataset_id = int(db.execute("SELECT id FROM datasets WHERE root = ?", (dataset_root,)).fetchone()[0])
            db.execute(
                "INSERT OR REPLACE INTO gold_disputes (dataset_id, split, item_index, kind, predicted_sql, said_of, "
                "note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (dataset_id, stored.split, stored.item_index, stored.kind, stored.predicted_sql, stored.said_of,
                 stored.note, stored.created_at),
            )  # fmt: skip
        return stored

    def remove_dispute(self, dataset_root: str, dispute: Dispute) -> bool:
        """Forget ``dispute`` (matched by split, item, kind and prediction); False when it was not kept."""
        with self.transaction() as db:
            cur = db.execute(
                "DELETE FROM gold_disputes WHERE dataset_id = (SELECT id FROM datasets WHERE root = ?) AND split = ? "
                "AND item_index = ? AND kind = ? AND predicted_sql = ?",
                (dataset_root, dispute.split, dispute.item_index, dispute.kind, dispute.predicted_sql.strip()),
            )
            return cur.rowcount > 0

    def disputes(self, dataset_root: str, split: str | None = None) -> list[Dispute]:
        """The dataset's disputes (of one split, when given), by split, item and kind."""
        if not self._keeps_disputes():
            return []
        sql = (
            "SELECT g.split, g.item_index, g.kind, g.note, g.predicted_sql, g.said_of, g.created_at "
            "FROM gold_disputes AS g JOIN datasets AS d ON g.dataset_id = d.id WHERE d.root = ?"
        )
        args: tuple[Any, ...] = (dataset_root,)
        if split is not None:
            sql, args = sql + " AND g.split = ?", (dataset_root, split)
        rows = self.db.execute(sql + " ORDER BY g.split, g.item_index, g.kind, g.created_at", args)
        return [Dispute(str(s), int(i), str(k), str(n), str(p), str(o), str(c)) for s, i, k, n, p, o, c in rows]

    def _keeps_disputes(self) -> bool:
        """Whether this file has the table (a store opened with fewer migrations, as tests do, has not)."""
        row = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gold_disputes'")
        return row.fetchone() is not None
