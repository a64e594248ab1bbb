"""Fine-tuning jobs through the openai SDK: upload, create, watch, cancel, register the model.

Every job and every event it reports is written to the run store as it is seen, so a job
started in one session is picked up again by id in the next (``watch`` simply continues).
Polling backs off while nothing changes (1 s, growing to ``max_poll_s``). When a job
succeeds, its model is registered as a new endpoint profile next to its base, with the
same URL, key reference and prices, described as "fine-tuned from <base>".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.core.platform import JobInfo, JobSpec, PlatformClient
from workbench.core.platform import PlatformError as JobError
from workbench.core.profiles import EndpointProfile, ProfileStore
from workbench.core.store import Store

TERMINAL = ("succeeded", "failed", "cancelled")
__all__ = ["TERMINAL", "JobError", "JobInfo", "JobSpec", "PlatformClient", "register_model", "start_job", "watch"]


async def start_job(
    client: PlatformClient, store: Store, train: Path, validation: Path | None, base_model: str, **options: Any
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
    client: PlatformClient,
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
