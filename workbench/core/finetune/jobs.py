"""Fine-tuning jobs through the openai SDK: upload, create, watch, cancel, register the model.

Every job and every event it reports is written to the run store as it is seen, so a job
started in one session is picked up again by id in the next (``watch`` simply continues).
Polling backs off while nothing changes (1 s, growing to ``max_poll_s``). When a job
succeeds, its model is registered as a new endpoint profile next to its base, with the
same URL, key reference and prices, described as "fine-tuned from <base>".
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from workbench.core.limits import backoff_delay
from workbench.core.profiles import EndpointProfile, ProfileStore, resolve_api_key
from workbench.core.store import Store

TERMINAL = ("succeeded", "failed", "cancelled")
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
T = TypeVar("T")


class JobError(RuntimeError):
    """The API refused or failed a fine-tuning call; the message says why (never the key)."""


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
        return cls(job.id, job.status, job.model, job.fine_tuned_model, message or None, job.trained_tokens)


@dataclass(frozen=True)
class JobSpec:
    base_model: str
    training_file: str  # file ids, once uploaded
    validation_file: str | None = None
    epochs: int | None = None
    suffix: str | None = None
    seed: int | None = None


class FineTuneClient:
    """One endpoint's files and fine-tuning API. Retries (ours, not the SDK's) on 429, 5xx, dropped connections."""

    def __init__(self, profile: EndpointProfile, api_key: str | None = None, attempts: int = 5) -> None:
        import openai  # loaded on first use (most of a second)

        self.profile = profile
        self.attempts = attempts
        self._openai = openai
        self._sdk = openai.AsyncOpenAI(
            base_url=profile.base_url, api_key=api_key or resolve_api_key(profile), max_retries=0, timeout=120.0
        )
        self._rng = random.Random()

    async def aclose(self) -> None:
        await self._sdk.close()

    async def _call(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        openai = self._openai
        for attempt in range(1, self.attempts + 1):
            try:
                return await make()
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRY_STATUSES or attempt == self.attempts:
                    raise JobError(f"{what}: HTTP {exc.status_code}: {_message(exc)}") from None
                delay = backoff_delay(
                    attempt, exc.status_code, dict(exc.response.headers), time.time(), self._rng.random()
                )
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                if attempt == self.attempts:
                    raise JobError(f"{what}: cannot reach {self.profile.base_url} ({exc})") from None
                delay = backoff_delay(attempt, None, {}, time.time(), self._rng.random())
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def upload(self, path: Path, purpose: str = "fine-tune") -> str:
        content = path.read_bytes()
        result = await self._call(f"upload {path.name}", lambda: self._sdk.files.create(
            file=(path.name, content), purpose=purpose))  # type: ignore[arg-type]  # fmt: skip
        return str(result.id)

    async def download(self, file_id: str) -> bytes:
        response = await self._call(f"download {file_id}", lambda: self._sdk.files.content(file_id))
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
        job = await self._call("create the fine-tuning job", lambda: self._sdk.fine_tuning.jobs.create(
            model=spec.base_model, training_file=spec.training_file, **extra))  # fmt: skip
        return JobInfo.from_api(job)

    async def retrieve(self, job_id: str) -> JobInfo:
        return JobInfo.from_api(await self._call(f"job {job_id}", lambda: self._sdk.fine_tuning.jobs.retrieve(job_id)))

    async def events(self, job_id: str) -> list[dict[str, Any]]:
        """All of the job's events, oldest first (the API pages them newest first)."""
        page = await self._call(
            f"events of {job_id}", lambda: self._sdk.fine_tuning.jobs.list_events(job_id, limit=100)
        )
        events = [e.model_dump() async for e in page]
        return list(reversed(events))  # oldest first

    async def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        page = await self._call(f"checkpoints of {job_id}",
                                lambda: self._sdk.fine_tuning.jobs.checkpoints.list(job_id))  # fmt: skip
        return [c.model_dump() async for c in page]

    async def cancel(self, job_id: str) -> JobInfo:
        return JobInfo.from_api(await self._call(f"cancel {job_id}", lambda: self._sdk.fine_tuning.jobs.cancel(job_id)))


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return str(getattr(exc, "message", exc))[:300]


async def start_job(
    client: FineTuneClient, store: Store, train: Path, validation: Path | None, base_model: str, **options: Any
) -> JobInfo:
    """Upload the files, create the job, record it. Raises JobError."""
    training_file = await client.upload(train)
    validation_file = await client.upload(validation) if validation else None
    spec = JobSpec(base_model, training_file, validation_file, **options)
    job = await client.create(spec)
    record = {**spec.__dict__, "train_path": str(train), "validation_path": str(validation) if validation else None}
    store.save_job(job.id, client.profile.name, base_model, job.status, record)
    return job


async def watch(
    client: FineTuneClient,
    store: Store,
    job_id: str,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_status: Callable[[JobInfo], None] | None = None,
    max_poll_s: float = 30.0,
    first_poll_s: float = 1.0,
) -> JobInfo:
    """Poll until the job ends; new events go to the store and to ``on_event`` (oldest first)."""
    delay = first_poll_s
    seen = {e["id"] for e in store.job_events(job_id)}
    last_status = None
    while True:
        job = await client.retrieve(job_id)
        events = [e for e in await client.events(job_id) if e["id"] not in seen]
        if events:
            store.save_job_events(job_id, events)
            seen.update(e["id"] for e in events)
            for event in events:
                if on_event:
                    on_event(event)
        if job.status != last_status:
            store.update_job(job_id, status=job.status, fine_tuned_model=job.fine_tuned_model, error=job.error)
            if on_status:
                on_status(job)
            last_status = job.status
        if job.status in TERMINAL:
            return job
        delay = first_poll_s if events else min(max_poll_s, delay * 1.5)
        await asyncio.sleep(delay)


def register_model(
    profiles: ProfileStore, base: EndpointProfile, job: JobInfo, store: Store | None = None
) -> EndpointProfile:
    """Add the fine-tuned model as a profile beside its base (idempotent); returns it."""
    if job.status != "succeeded" or not job.fine_tuned_model:
        raise JobError(f"job {job.id} has not produced a model (status {job.status})")
    existing = profiles.load()
    for profile in existing.values():
        if profile.model == job.fine_tuned_model and profile.base_url == base.base_url:
            return profile
    name = f"{base.name}-ft-{job.id[-6:]}"
    profile = EndpointProfile.from_json(base.to_json() | {"name": name, "model": job.fine_tuned_model})
    profile.description = f"fine-tuned from {base.model} ({base.name}), job {job.id}"
    if base.api_key_keyring:  # the same key as the base: found in the keyring under the base's name
        profile.api_key_from = base.api_key_from or base.name
    existing[name] = profile
    profiles.save(existing)
    if store is not None:
        store.update_job(job.id, registered_profile=name)
    return profile
