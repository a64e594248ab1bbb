"""Fine-tuning jobs through the openai SDK: upload, create, watch, cancel, register the model.

Every job and every event it reports is written to the run store as it is seen, so a job
started in one session is picked up again by id in the next (``watch`` simply continues).
Polling backs off while nothing changes (1 s, growing to ``max_poll_s``), and each look
reads only the events newer than the last one stored. When a job
succeeds, its model is registered as a new endpoint profile next to its base, with the
same URL, key reference and prices, described as "fine-tuned from <base>".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.core.endpoints.platform import JobInfo, JobSpec, PlatformClient
from workbench.core.endpoints.platform import PlatformError as JobError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.store import Store

TERMINAL = ("succeeded", "failed", "cancelled")
REGISTERING = "registering"  # the provider says succeeded; its profile is being written
__all__ = [
    "REGISTERING",
    "TERMINAL",
    "JobError",
    "JobInfo",
    "JobSpec",
    "PlatformClient",
    "record_registration",
    "register_model",
    "start_job",
    "stored_status",
    "watch",
]


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
    register: Callable[[JobInfo], object] | None = None,
) -> JobInfo:
    """Poll until the job ends; new events go to the store and to ``on_event`` (oldest first).

    A success is stored as "registering" until ``register(job)`` (``register_model``) has made
    the model a profile that every reader can see; only then does the job read "succeeded".
    """
    delay = first_poll_s
    stored = store.job_events(job_id)
    seen = {e["id"] for e in stored}
    newest = stored[-1]["id"] if stored else None  # events are read back to this one only
    last_status = None
    while True:
        job = await client.retrieve(job_id)
        events = [e for e in await client.events(job_id, known=newest) if e["id"] not in seen]
        if events:
            store.save_job_events(job_id, events)
            seen.update(e["id"] for e in events)
            newest = events[-1]["id"]
            for event in events:
                if on_event:
                    on_event(event)
        if job.status != last_status:
            store.update_job(job_id, status=stored_status(job), fine_tuned_model=job.fine_tuned_model, error=job.error)
            if job.status == "succeeded" and register is not None:
                register(job)
            if on_status:
                on_status(job)
            last_status = job.status
        if job.status in TERMINAL:
            return job
        delay = first_poll_s if events else min(max_poll_s, delay * 1.5)
        await asyncio.sleep(delay)


def stored_status(job: JobInfo) -> str:
    """The status to store for what the provider says: a success waits as "registering" for its profile."""
    return REGISTERING if job.status == "succeeded" else job.status


def record_registration(
    store: Store,
    profiles: ProfileStore,
    job_id: str,
    profile: EndpointProfile,
    on_registered: Callable[[EndpointProfile], None] | None = None,
) -> EndpointProfile:
    """Save the fine-tuned model's profile, let the app see it, and only then mark the job "succeeded".

    Whoever reads "succeeded" (the store, the CLI, the app) finds the profile already there.
    """
    existing = profiles.load()
    existing[profile.name] = profile
    profiles.save(existing)
    if on_registered is not None:
        on_registered(profile)  # e.g. the app reloads its profiles
    store.update_job(job_id, status="succeeded", fine_tuned_model=profile.model, registered_profile=profile.name)
    return profile


def register_model(
    profiles: ProfileStore,
    base: EndpointProfile,
    job: JobInfo,
    store: Store,
    on_registered: Callable[[EndpointProfile], None] | None = None,
) -> EndpointProfile:
    """Add the fine-tuned model as a profile beside its base (idempotent); the job then reads "succeeded"."""
    if job.status != "succeeded" or not job.fine_tuned_model:
        raise JobError(f"job {job.id} has not produced a model (status {job.status})")
    for profile in profiles.load().values():
        if profile.model == job.fine_tuned_model and profile.base_url == base.base_url:
            return record_registration(store, profiles, job.id, profile, on_registered)
    name = f"{base.name}-ft-{job.id[-6:]}"
    profile = EndpointProfile.from_json(base.to_json() | {"name": name, "model": job.fine_tuned_model})
    profile.description = f"fine-tuned from {base.model} ({base.name}), job {job.id}"
    if base.api_key_keyring:  # the same key as the base: found in the keyring under the base's name
        profile.api_key_from = base.api_key_from or base.name
    return record_registration(store, profiles, job.id, profile, on_registered)
