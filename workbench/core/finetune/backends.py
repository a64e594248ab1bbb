"""One protocol for whoever trains a model: the CLI and the Fine-tune dialog call it, never a backend by name.

A backend starts a job, follows it to its end (a model it produced is registered as an
endpoint profile before the job reads "succeeded"), looks at it once, cancels it, and says
whether a process of ours is training it. ``ApiBackend`` (here) trains through a provider's
fine-tuning API (``jobs`` and ``PlatformClient``); the local backend (``local.finetune.backend``)
trains the embedded model on this CPU.

Core never imports ``local``, so backends live in a registry: ``api`` is registered here,
``local`` registers itself when its module is imported (the CLI and the app import it).
``backend_named`` turns a CLI/dialog choice into a backend, ``backend_of`` a job's stored
record (its spec names the backend that made it; API jobs name none).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from workbench.core.endpoints.connection import Patience
from workbench.core.endpoints.platform import PlatformError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.finetune.jobs import JobInfo, PlatformClient, register_model, start_job, stored_status, watch
from workbench.core.finetune.validate import DEFAULT_EPOCHS
from workbench.core.store import Store

API_BACKEND = "api"
EventSink = Callable[[dict[str, Any]], None]
StatusSink = Callable[[str], None]


class FineTuneError(RuntimeError):
    """A backend could not do what was asked; the message says why (keys masked)."""


@dataclass
class FineTuneContext:
    """What every backend works with: the job records, the profiles a model is registered into, and who to tell."""

    store: Store
    profiles: ProfileStore
    on_registered: Callable[[EndpointProfile], None] | None = None  # e.g. the app reloads its profiles
    max_poll_s: float = 30.0  # the longest wait between two looks at a job
    outage_ceiling_s: float = 60.0  # while the API is down, the longest wait between two tries of a look


@dataclass(frozen=True)
class TrainingRequest:
    """A job to start; each backend reads the fields it knows."""

    train: Path | None
    validation: Path | None = None
    base_model: str | None = None  # None: the backend's own (the profile's model, the embedded model)
    epochs: int | None = None  # None: the API's default; the local backend's default_epochs
    seed: int | None = None
    suffix: str | None = None  # API: a part of the new model's name
    method: str | None = None  # local: "full" or "lora" (None: its default)
    max_steps: int = 0  # local: stop after this many optimizer steps (0: the epochs decide)
    max_memory_mb: int | None = None  # local: memory to stay under (None: its default)
    folder: Path | None = None  # local: where its jobs keep their files (None: the user's data folder)
    resume: str | None = None  # local: a stopped job to continue instead of a new one


@dataclass(frozen=True)
class Started:
    job_id: str
    message: str  # what to tell the user, e.g. "started job ftjob-… (validating_files)"


class FineTuneBackend(Protocol):
    name: str  # as stored in its jobs' specs ("backend") and chosen with `--backend`
    paid: bool  # starting a job costs money (the CLI asks first)
    registration: str  # how a model becomes a profile, in words ("registered", "checked and registered")
    default_epochs: int

    @property
    def default_base_model(self) -> str:
        """The model a job fine-tunes unless told otherwise, as shown where it is chosen."""

    @property
    def price_per_m(self) -> float:
        """Dollars per million training tokens (0: free)."""

    def check(self, request: TrainingRequest) -> None:
        """Raise FineTuneError when ``request`` lacks what this backend needs."""

    async def start(self, request: TrainingRequest) -> Started:
        """Start the job (recorded in the store); raise FineTuneError."""

    async def follow(
        self, job_id: str, on_event: EventSink | None = None, on_status: StatusSink | None = None, label: str = ""
    ) -> str:
        """Until the job ends, events to the store and ``on_event``; a model is registered. The stored status.

        ``label``: what the model was trained on, for its profile's description (where the backend says it).
        """

    async def refresh(self, job_id: str) -> None:
        """One look at the job: its status and events into the store (a finished model is registered)."""

    async def register(self, job_id: str, label: str = "") -> EndpointProfile:
        """Make the job's model a profile; the job reads "succeeded" once every reader can see it."""

    async def cancel(self, job_id: str) -> str:
        """Ask the job to stop; what happened, in a few words."""

    def alive(self, job_id: str) -> bool:
        """A process on this machine is training the job (the API's jobs train elsewhere: never)."""

    def base_profile(self, record: dict[str, Any]) -> str:
        """The profile whose variant a job's model is compared with: the one it was fine-tuned from."""


BackendFactory = Callable[[FineTuneContext, str | None], FineTuneBackend]  # (context, the job's profile name)
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    _BACKENDS[name] = factory


def backend_names() -> list[str]:
    return list(_BACKENDS)


def backend_named(name: str, context: FineTuneContext, profile: str | None = None) -> FineTuneBackend:
    """The backend chosen by name (with the profile of the API that trains, where it needs one)."""
    factory = _BACKENDS.get(name)
    if factory is None:
        raise FineTuneError(f"no fine-tuning backend named {name!r} (known: {', '.join(_BACKENDS)})")
    return factory(context, profile)


def backend_of(record: dict[str, Any], context: FineTuneContext) -> FineTuneBackend:
    """The backend that made a stored job (``Store.job``)."""
    return backend_named(record["spec"].get("backend", API_BACKEND), context, record["profile"])


class ApiBackend:
    """A provider's fine-tuning API, through the endpoint profile of the model it fine-tunes."""

    name = API_BACKEND
    paid = True
    registration = "registered"
    default_epochs = DEFAULT_EPOCHS

    def __init__(self, context: FineTuneContext, profile_name: str) -> None:
        self.context = context
        self.profile_name = profile_name

    @classmethod
    def for_profile(cls, context: FineTuneContext, name: str | None) -> ApiBackend:
        if name is None:
            raise FineTuneError("the API backend needs --profile NAME and --train FILE")
        return cls(context, name)

    @functools.cached_property
    def profile(self) -> EndpointProfile:
        """The profile of the API that trains, read when first needed (ProfileError when there is none)."""
        return self.context.profiles.get(self.profile_name)

    @property
    def default_base_model(self) -> str:
        return self.profile.model

    @property
    def price_per_m(self) -> float:
        return self.profile.price_in_per_m

    def check(self, request: TrainingRequest) -> None:
        if request.train is None:
            raise FineTuneError("the API backend needs --profile NAME and --train FILE")

    async def start(self, request: TrainingRequest) -> Started:
        self.check(request)
        assert request.train is not None
        options = {"epochs": request.epochs, "suffix": request.suffix, "seed": request.seed}
        base = request.base_model or self.profile.model
        async with _ClosingPlatform(self.profile) as client:
            job = await start_job(client, self.context.store, request.train, request.validation, base, **options)
        return Started(job.id, f"started job {job.id} ({job.status})")

    async def follow(
        self, job_id: str, on_event: EventSink | None = None, on_status: StatusSink | None = None, label: str = ""
    ) -> str:
        poll = self.context.max_poll_s
        status = (lambda job: on_status(job.status)) if on_status is not None else None
        patience = Patience(self.context.outage_ceiling_s, on_status)  # "service unavailable since …" as a status
        async with _ClosingPlatform(self.profile, patience) as client:
            await watch(client, self.context.store, job_id, on_event, status, max_poll_s=poll,
                        first_poll_s=min(1.0, poll), register=self._register)  # fmt: skip
        return str(self.context.store.job(job_id)["status"])

    async def refresh(self, job_id: str) -> None:
        store = self.context.store
        async with _ClosingPlatform(self.profile) as client:
            job = await client.retrieve(job_id)
            stored = store.job_events(job_id)
            store.save_job_events(job_id, await client.events(job_id, known=stored[-1]["id"] if stored else None))
        store.update_job(job_id, status=stored_status(job), fine_tuned_model=job.fine_tuned_model, error=job.error)
        if job.status == "succeeded" and not store.job(job_id)["registered_profile"]:
            self._register(job)

    async def register(self, job_id: str, label: str = "") -> EndpointProfile:
        record = self.context.store.job(job_id)
        status = "succeeded" if record["status"] in ("succeeded", "registering") else record["status"]
        return self._register(JobInfo(job_id, status, record["base_model"], record["fine_tuned_model"], None))

    def _register(self, job: JobInfo) -> EndpointProfile:
        try:
            return register_model(self.context.profiles, self.profile, job, self.context.store,
                                  self.context.on_registered)  # fmt: skip
        except PlatformError as exc:
            raise FineTuneError(str(exc)) from None

    async def cancel(self, job_id: str) -> str:
        async with _ClosingPlatform(self.profile) as client:
            job = await client.cancel(job_id)
        self.context.store.update_job(job_id, status=job.status)
        return job.status

    def alive(self, job_id: str) -> bool:
        return False

    def base_profile(self, record: dict[str, Any]) -> str:
        return self.profile_name


class _ClosingPlatform:
    """A PlatformClient closed after use, its PlatformErrors raised as FineTuneErrors (same message)."""

    def __init__(self, profile: EndpointProfile, patience: Patience | None = None) -> None:
        self.client = PlatformClient(profile, patience=patience)

    async def __aenter__(self) -> PlatformClient:
        return self.client

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        await self.client.aclose()
        if isinstance(exc, PlatformError):
            raise FineTuneError(str(exc)) from None


register_backend(API_BACKEND, ApiBackend.for_profile)
