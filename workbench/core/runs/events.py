"""The typed events a run streams; the store persists their substance, UI and CLI render them."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class ItemScored:
    variant: str
    index: int
    db_id: str
    hardness: str | None
    exec_match: bool | None
    exact_match: bool | None
    reason: str
    sql: str
    cached: bool
    latency_s: float
    prompt_tokens: int
    completion_tokens: int
    cost: float
    model: str


@dataclass(frozen=True)
class ItemFailed:
    variant: str
    index: int
    reason: str


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
