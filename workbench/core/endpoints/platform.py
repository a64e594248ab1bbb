"""The OpenAI platform API beyond chat: files, fine-tuning jobs and batches, through the openai SDK.

One client per endpoint profile. Calls go through the same SDK construction and retry loop
as chat requests (``connection``: 429, 5xx, timeouts and dropped connections, with the same
backoff); any other refusal becomes a ``PlatformError`` whose message is the API's (never the key).
Creates are tagged (``creation_tag``) and, before a retry, the object whose reply was lost is
looked for among the newest of its kind: a dropped answer never makes a second job or batch.
Every page of a listing is one call of its own (fetched with ``after``, never by the SDK's
iterator outside the loop). Given a ``Patience``, the reads a long wait repeats (a job, its
events, a batch, a result file) outlast outages of any length; creates and cancels never wait
longer than their attempts.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from workbench.core import secrets
from workbench.core.endpoints.connection import AttemptsExhausted, Patience, call_with_retries, open_sdk
from workbench.core.endpoints.profiles import EndpointProfile

T = TypeVar("T")
PLATFORM_TIMEOUT_S = 120.0  # uploads and downloads of whole files
PAGE_SIZE = 100  # the most a listing page holds
CREATION_TAG = "workbench_request"  # metadata key: which create of ours made the object


def creation_tag(body: dict[str, Any]) -> dict[str, str]:
    """Metadata naming one create call: the hash of what it asks for and of a draw of its own.

    The draw keeps two deliberate creates of the same thing apart; the retries of one share it.
    """
    text = json.dumps(body, sort_keys=True, default=str) + os.urandom(8).hex()
    return {CREATION_TAG: hashlib.sha256(text.encode()).hexdigest()[:32]}


class PlatformError(RuntimeError):
    """The API refused or failed a call; the message says why (keys masked)."""

    def __init__(self, message: str) -> None:
        super().__init__(secrets.mask(message))


@dataclass(frozen=True)
class JobInfo:
    id: str
    status: str
    model: str
    fine_tuned_model: str | None
    error: str | None
    trained_tokens: int | None = None

    @classmethod
    def from_api(cls, job: Any) -> JobInfo:
        error = getattr(job, "error", None)
        message = getattr(error, "message", None) if error is not None else None
        error_text = secrets.mask(str(message)) if message else None
        return cls(job.id, job.status, job.model, job.fine_tuned_model, error_text, job.trained_tokens)


@dataclass(frozen=True)
class JobSpec:
    base_model: str
    training_file: str  # file ids, once uploaded
    validation_file: str | None = None
    epochs: int | None = None
    suffix: str | None = None
    seed: int | None = None


class PlatformClient:
    """One endpoint's files, fine-tuning jobs and batches."""

    def __init__(
        self, profile: EndpointProfile, api_key: str | None = None, attempts: int = 5, patience: Patience | None = None
    ) -> None:
        """``patience``: how the reads of a long wait outlast outages (None: they get ``attempts`` too)."""
        self.profile = profile
        self.attempts = attempts
        self.patience = patience
        self._sdk = open_sdk(profile, api_key, timeout_s=PLATFORM_TIMEOUT_S)
        self._rng = random.Random()

    async def aclose(self) -> None:
        await self._sdk.close()

    async def _call(self, what: str, make: Callable[[], Awaitable[T]], patient: bool = False) -> T:
        """``make()`` through the retry loop; ``patient``: a read of a long wait (the client's patience)."""
        patience = self.patience if patient else None
        try:
            return await call_with_retries(lambda _: make(), self.attempts, PLATFORM_TIMEOUT_S, self._rng,
                                           patience=patience)  # fmt: skip
        except AttemptsExhausted as exc:
            failure = exc.failure
            if failure.status is not None:
                raise PlatformError(f"{what}: HTTP {failure.status}: {failure.message}") from None
            raise PlatformError(f"{what}: cannot reach {self.profile.base_url} ({failure.error})") from None

    async def upload(self, path: Path, purpose: str = "fine-tune") -> str:
        return await self.upload_bytes(path.name, path.read_bytes(), purpose)

    async def upload_bytes(self, name: str, content: bytes, purpose: str) -> str:
        path = Path(name)
        result = await self._call(f"upload {path.name}", lambda: self._sdk.files.create(
            file=(path.name, content), purpose=purpose))  # type: ignore[arg-type]  # fmt: skip
        return str(result.id)

    async def download(self, file_id: str) -> bytes:
        response = await self._call(f"download {file_id}", lambda: self._sdk.files.content(file_id), patient=True)
        return bytes(response.content)

    async def create(self, spec: JobSpec) -> JobInfo:
        extra: dict[str, Any] = {}
        if spec.validation_file:
            extra["validation_file"] = spec.validation_file
        if spec.epochs:
            extra["hyperparameters"] = {"n_epochs": spec.epochs}
        if spec.suffix:
            extra["suffix"] = spec.suffix
        if spec.seed is not None:
            extra["seed"] = spec.seed
        jobs = self._sdk.fine_tuning.jobs
        tag = creation_tag({"model": spec.base_model, "training_file": spec.training_file, **extra})
        job = await self._create(
            "create the fine-tuning job",
            lambda: jobs.create(model=spec.base_model, training_file=spec.training_file, metadata=tag, **extra),
            lambda: jobs.list(limit=PAGE_SIZE, metadata=tag),
            tag,
        )
        return JobInfo.from_api(job)

    async def retrieve(self, job_id: str) -> JobInfo:
        job = await self._call(f"job {job_id}", lambda: self._sdk.fine_tuning.jobs.retrieve(job_id), patient=True)
        return JobInfo.from_api(job)

    async def events(self, job_id: str, known: str | None = None) -> list[dict[str, Any]]:
        """The job's events newer than the one whose id is ``known`` (None: all), oldest first.

        The API pages them newest first: pages are read until ``known`` turns up, so a watcher
        that is caught up spends one request per look.
        """
        jobs = self._sdk.fine_tuning.jobs
        newer = await self._listing(
            f"events of {job_id}", lambda after: jobs.list_events(job_id, limit=PAGE_SIZE, **after), known
        )
        return list(reversed(newer))  # oldest first

    async def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        checkpoints = self._sdk.fine_tuning.jobs.checkpoints
        return await self._listing(f"checkpoints of {job_id}",
                                   lambda after: checkpoints.list(job_id, limit=PAGE_SIZE, **after))  # fmt: skip

    async def _listing(
        self, what: str, page: Callable[[dict[str, str]], Awaitable[Any]], known: str | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a listing in the API's order, page by page, each page a patient call; stop at ``known``."""
        items: list[dict[str, Any]] = []
        after: dict[str, str] = {}
        while True:
            # ``after`` is bound now: a retry must ask for the same page
            current = await self._call(what, lambda after=after: page(after), patient=True)  # type: ignore[misc]
            data = [item.model_dump() for item in current.data]
            for item in data:
                if item.get("id") == known:
                    return items
                items.append(item)
            if not data or not current.has_more:
                return items
            after = {"after": str(data[-1]["id"])}

    async def _create(
        self, what: str, make: Callable[[], Awaitable[T]], recent: Callable[[], Awaitable[Any]], tag: dict[str, str]
    ) -> T:
        """A create retried without creating twice: before a retry, the object a lost reply made is looked for.

        ``tag`` is in the created object's metadata; ``recent`` lists the newest objects of its kind.
        """

        tries = 0

        async def attempt() -> T:
            nonlocal tries
            tries += 1
            if tries > 1:  # the last try may have created it and lost only the answer
                for existing in (await recent()).data:
                    if all((existing.metadata or {}).get(k) == v for k, v in tag.items()):
                        return existing  # type: ignore[no-any-return]
            return await make()

        return await self._call(what, attempt)

    async def cancel(self, job_id: str) -> JobInfo:
        return JobInfo.from_api(await self._call(f"cancel {job_id}", lambda: self._sdk.fine_tuning.jobs.cancel(job_id)))

    # --- batches ---------------------------------------------------------------------------
    async def create_batch(
        self, input_file_id: str, endpoint: str, metadata: dict[str, str] | None = None
    ) -> BatchInfo:
        tag = creation_tag({"input_file_id": input_file_id, "endpoint": endpoint, "metadata": metadata})
        tagged = {**(metadata or {}), **tag}
        batch = await self._create("create a batch", lambda: self._sdk.batches.create(
            input_file_id=input_file_id, endpoint=endpoint, completion_window="24h", metadata=tagged),  # type: ignore[arg-type]
            lambda: self._sdk.batches.list(limit=PAGE_SIZE), tag)  # fmt: skip
        return BatchInfo.from_api(batch)

    async def retrieve_batch(self, batch_id: str) -> BatchInfo:
        batch = await self._call(f"batch {batch_id}", lambda: self._sdk.batches.retrieve(batch_id), patient=True)
        return BatchInfo.from_api(batch)

    async def cancel_batch(self, batch_id: str) -> BatchInfo:
        return BatchInfo.from_api(await self._call(f"cancel {batch_id}", lambda: self._sdk.batches.cancel(batch_id)))


BATCH_DONE = ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class BatchInfo:
    id: str
    status: str  # validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled
    output_file_id: str | None
    error_file_id: str | None
    total: int
    completed: int
    failed: int
    errors: str = ""
    error_codes: tuple[str, ...] = ()  # the codes of ``errors.data`` (e.g. token_limit_exceeded)

    @classmethod
    def from_api(cls, batch: Any) -> BatchInfo:
        counts = batch.request_counts
        data = getattr(getattr(batch, "errors", None), "data", None) or []
        messages = [e.message for e in data if getattr(e, "message", None)]
        codes = tuple(str(e.code) for e in data if getattr(e, "code", None))
        return cls(batch.id, batch.status, batch.output_file_id, batch.error_file_id,
                   counts.total if counts else 0, counts.completed if counts else 0, counts.failed if counts else 0,
                   secrets.mask("; ".join(messages)), codes)  # fmt: skip
