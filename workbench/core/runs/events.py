"""The typed events a run streams (UI and CLI render them); an item's event carries the row the store wrote for it."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.store import ScoreRow


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    run_name: str
    total: int  # variant x item pairs in the run
    already_done: int  # pairs finished before this start (resume)
    variants: list[str]
    models: dict[str, str]  # variant -> model that answers


@dataclass(frozen=True)
class RequestSent:
    variant: str
    index: int


class _ReadsItsRow:
    """What an item's event says about its question, read from the row it carries."""

    row: ScoreRow

    @property
    def index(self) -> int:
        return self.row.item_index

    @property
    def reason(self) -> str:
        return self.row.reason


@dataclass(frozen=True, kw_only=True)
class ItemFailed(_ReadsItsRow):
    """A question got no answer to score (the request failed, or its prompt could not be rendered).

    Its properties read the row; the row is what results, summaries and progress fold in.
    """

    variant: str
    row: ScoreRow  # as stored: status "failed", tried again on resume


@dataclass(frozen=True, kw_only=True)
class ItemScored(_ReadsItsRow):
    """A question's answer was scored (the row's status: "scored" or "unscorable").

    Its properties read the row; the row is what results, summaries and progress fold in.
    """

    variant: str
    model: str  # the model the endpoint says answered
    row: ScoreRow  # as stored

    @property
    def exec_match(self) -> bool | None:
        return self.row.exec_match

    @property
    def sql(self) -> str:
        return self.row.predicted_sql or ""

    @property
    def cached(self) -> bool:
        return self.row.cached


@dataclass(frozen=True)
class BatchUpdate:
    """A Batch API submission of the run changed state (submitted, progressing, done)."""

    batch_id: str
    status: str
    requests: int
    completed: int
    failed: int
    open_batches: int  # of this run, still waiting


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    state: str  # "completed" | "cancelled" | "interrupted"
    scored: int
    failed: int


Event = RunStarted | RequestSent | ItemScored | ItemFailed | BatchUpdate | RunFinished
