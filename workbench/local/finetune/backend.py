"""The local fine-tuning backend: the same job records, events and registration as the API's.

A job is a training process (``train.py``) started with a config in its own folder; its
JSON progress lines become the job's events in the run store (step, loss, ETA, memory).
Cancel sends SIGTERM (the process saves a checkpoint first); starting a job again
continues from that checkpoint. When training is done the GGUF is checked (a llama.cpp
server loads it and answers a question) and registered as an endpoint profile that
names the file, so a run serves it with its own local server beside the base.

``LocalBackend`` is this module as a ``core.finetune.backends.FineTuneBackend``; importing the
module registers it there under the name "local".
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.finetune.backends import (
    EventSink,
    FineTuneContext,
    FineTuneError,
    Started,
    StatusSink,
    TrainingRequest,
    register_backend,
)
from workbench.core.finetune.jobs import record_registration
from workbench.core.runs.progress import format_duration
from workbench.core.runs.runspec import LOCAL_PROFILE
from workbench.core.store import Store
from workbench.local.finetune.train import TrainConfig
from workbench.local.models import DEFAULT_MODEL, LocalModelError, get, locate
from workbench.local.prompts import local_profile
from workbench.local.server import LocalServer, ServerSettings

LOCAL_BACKEND = "local"
REQUIRED = ("torch", "transformers", "peft", "gguf")
INSTALL_HINT = (
    "local fine-tuning needs the finetune-local extra: .venv/bin/pip install -e '.[finetune-local]' "
    "(on machines without a local CPU build of torch, add --extra-index-url https://download.pytorch.org/whl/cpu)"
)


class LocalFineTuneError(FineTuneError):
    pass


def available() -> str | None:
    """None when the extra is installed; otherwise what to do about it."""
    missing = [m for m in REQUIRED if importlib.util.find_spec(m) is None]
    return f"missing {', '.join(missing)}; {INSTALL_HINT}" if missing else None


def jobs_dir() -> Path:
    return Path(user_data_dir("workbench")) / "local-finetune"


def new_job(store: Store, train: Path, base: str = DEFAULT_MODEL, folder: Path | None = None, **options: Any) -> str:
    """Record a job and write its config; ``start`` runs it."""
    problem = available()
    if problem:
        raise LocalFineTuneError(problem)
    try:
        source = locate(get(base))
    except LocalModelError as exc:
        raise LocalFineTuneError(str(exc)) from None
    job_id = f"local-ftjob-{uuid.uuid4().hex[:12]}"
    out = (folder or jobs_dir()) / job_id
    config = TrainConfig(str(source), str(train), str(out), **options)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2))
    spec = {"backend": LOCAL_BACKEND, "config": str(out / "config.json"), "train_path": str(train), "base": base}
    store.save_job(job_id, LOCAL_BACKEND, get(base).alias, "queued", spec | asdict(config))
    return job_id


def start(store: Store, job_id: str) -> int:
    """Run (or continue, from its last checkpoint) the job's training process; returns its pid.

    The process outlives the app: its progress goes to ``progress.jsonl`` in the job's folder,
    which ``follow`` reads (now, or after a restart).
    """
    job = store.job(job_id)
    out = Path(job["spec"]["out_dir"])
    cmd = [sys.executable, "-m", "workbench.local.finetune.train", job["spec"]["config"]]
    with open(out / "progress.jsonl", "a", encoding="utf-8") as progress:
        process = subprocess.Popen(cmd, stdout=progress, stderr=subprocess.DEVNULL, start_new_session=True)
    (out / "pid").write_text(str(process.pid))
    _children[process.pid] = process
    store.update_job(job_id, status="running", error=None)
    return process.pid


_children: dict[int, subprocess.Popen[bytes]] = {}  # processes this one started (reaped when they end)


def _pid(store: Store, job_id: str) -> int | None:
    """The job's training process as last started (it may have ended since)."""
    try:
        return int((Path(store.job(job_id)["spec"]["out_dir"]) / "pid").read_text())
    except (OSError, ValueError):
        return None


def alive(store: Store, job_id: str) -> bool:
    pid = _pid(store, job_id)
    if pid is None:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (ended, not yet reaped by whoever adopted it) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def wait_until_stopped(store: Store, job_id: str, timeout_s: float = 60.0) -> bool:
    """After a cancel: wait for the process to save its checkpoint and exit."""
    deadline = time.monotonic() + timeout_s
    while alive(store, job_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def cancel(store: Store, job_id: str) -> bool:
    """Ask the job's process to stop (it checkpoints first). False when it is not running."""
    pid = _pid(store, job_id)
    if pid is None or not alive(store, job_id):
        return False
    os.kill(pid, signal.SIGTERM)
    return True


def checkpoint_of(store: Store, job_id: str) -> Path | None:
    """The stopped job's last checkpoint (what Continue starts from), if it has one."""
    folder = store.job(job_id)["spec"].get("out_dir")
    path = Path(folder) / "checkpoint.pt" if folder else None
    return path if path is not None and path.is_file() else None


def delete_checkpoint(store: Store, job_id: str) -> int:
    """Remove a stopped job's checkpoint; returns the bytes freed (the job can then only start over)."""
    if alive(store, job_id):
        raise LocalFineTuneError(f"job {job_id} is running: cancel it first")
    path = checkpoint_of(store, job_id)
    if path is None:
        return 0
    size = path.stat().st_size
    path.unlink()
    store.update_job(job_id, error="checkpoint deleted: start a new job to train again")
    return size


def seconds_per_step(store: Store) -> float | None:
    """The last local job's measured time per optimizer step on this machine (None: none measured yet)."""
    for job in reversed(store.jobs()):
        if job["spec"].get("backend") != LOCAL_BACKEND:
            continue
        for event in reversed(store.job_events(job["id"])):
            data = event.get("data") or {}
            if data.get("event") != "step" or not data.get("step"):
                continue
            left = int(data.get("total", 0)) - int(data["step"])
            if left > 0 and data.get("eta_s"):  # the trainer's ETA is its measured rate times the steps left
                return float(data["eta_s"]) / left
            if data.get("elapsed_s"):
                return float(data["elapsed_s"]) / int(data["step"])
    return None


def _event(job_id: str, number: int, line: dict[str, Any]) -> dict[str, Any]:
    kind = line.get("event")
    if kind == "step":
        eta = line.get("eta_s", 0)
        message = (f"Step {line['step']}/{line['total']}: training loss={line['loss']} "
                   f"(ETA {format_duration(eta)}, {line.get('rss_mb')} MB)")  # fmt: skip
    elif kind == "loaded":
        message = f"model loaded in {line.get('seconds')} s ({line.get('trainable'):,} parameters trained)"
    elif kind == "exported":
        message = f"wrote {line.get('path')} ({line.get('megabytes')} MB)"
    elif kind == "error":
        message = f"training failed: {line.get('message')}"
    else:
        details = ", ".join(f"{k}={v}" for k, v in line.items() if k != "event")
        message = f"{kind}: {details}" if details else str(kind)
    level = "error" if kind == "error" else "info"
    return {"id": f"{job_id}-{number:05d}-{kind}", "created_at": int(time.time()), "level": level,
            "message": message, "data": line}  # fmt: skip


async def follow(
    store: Store, job_id: str, on_event: Callable[[dict[str, Any]], None] | None = None, poll_s: float = 0.5
) -> str:
    """Store the job's progress lines as events until it ends; returns the status (trained, cancelled, failed)."""
    progress = Path(store.job(job_id)["spec"]["out_dir"]) / "progress.jsonl"
    number = len(store.job_events(job_id))
    while True:
        lines = progress.read_text(encoding="utf-8").splitlines() if progress.is_file() else []
        running = alive(store, job_id)
        ended = None
        for raw in lines[number:]:
            number += 1
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                line = {"event": "output", "text": raw[:200]}
            event = _event(job_id, number, line)
            store.save_job_events(job_id, [event])
            if on_event:
                on_event(event)
            kind = line.get("event")
            if kind == "done":
                ended = "trained"
            elif kind == "cancelled":
                ended = "cancelled"
            elif kind == "error":
                ended = "failed"
                store.update_job(job_id, error=str(line.get("message")))
        if ended is None and not running and len(lines) <= number:
            ended = "failed"
            store.update_job(job_id, error="the training process stopped without finishing; start it again to continue")
        if ended is not None:
            store.update_job(job_id, status=ended)
            return ended
        await asyncio.sleep(poll_s)


def model_path(store: Store, job_id: str) -> Path:
    return Path(store.job(job_id)["spec"]["out_dir"]) / "model-f16.gguf"


def check_model(store: Store, job_id: str, dataset_label: str = "") -> EndpointProfile:
    """Serve the new GGUF once and ask it a question; returns its profile (not yet registered). Blocks."""
    path = model_path(store, job_id)
    job = store.job(job_id)
    alias = f"{job['base_model']}-ft-{job_id[-6:]}"
    try:
        with LocalServer(ServerSettings(file=str(path), alias=alias), tied_to_parent=True) as server:
            answer = _ask(server.base_url, alias)
    except LocalModelError as exc:
        store.update_job(job_id, status="failed", error=f"the fine-tuned model does not load: {exc}")
        raise LocalFineTuneError(f"the fine-tuned model does not load: {exc}") from None
    if not answer.strip():
        store.update_job(job_id, status="failed", error="the fine-tuned model loads but answers nothing")
        raise LocalFineTuneError("the fine-tuned model loads but answers nothing")
    profile = local_file_profile(path, alias)
    trained_on = Path(job["spec"]["train_path"]).name
    profile.description = (f"fine-tuned from {job['base_model']} on {dataset_label or trained_on}, "
                           f"{time.strftime('%Y-%m-%d')} (job {job_id})")  # fmt: skip
    return profile


def check_and_register(
    store: Store,
    profiles: ProfileStore,
    job_id: str,
    dataset_label: str = "",
    on_registered: Callable[[EndpointProfile], None] | None = None,
) -> EndpointProfile:
    """Check the new model, then register it; the job becomes "succeeded" once its profile is visible."""
    profile = check_model(store, job_id, dataset_label)
    return record_registration(store, profiles, job_id, profile, on_registered)


def local_file_profile(path: Path, alias: str) -> EndpointProfile:
    """A profile for a GGUF of ours; the app starts a llama.cpp server for it when a run needs it."""
    profile = local_profile("http://127.0.0.1:0/v1", alias)
    profile.name = alias
    profile.local_file = str(path)
    profile.identity = f"local-file:{path}"
    return profile


def _ask(base_url: str, alias: str) -> str:
    import urllib.request

    prompt = "-- SQLite database\nCREATE TABLE t (a number);\n\n-- Question: How many rows are in t?\nSELECT"
    body = {"model": alias, "prompt": prompt, "max_tokens": 16, "temperature": 0, "stop": [";", "\n\n"]}
    request = urllib.request.Request(f"{base_url}/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
    with contextlib.closing(urllib.request.urlopen(request, timeout=120)) as response:
        return str(json.loads(response.read())["choices"][0]["text"])


def _last_event_ends(store: Store, job_id: str) -> bool:
    events = store.job_events(job_id)
    return bool(events) and events[-1]["data"].get("event") in ("cancelled", "error", "done")


class LocalBackend:
    """The embedded model, fine-tuned on this CPU in its own process; free."""

    name = LOCAL_BACKEND
    paid = False
    registration = "checked and registered"
    default_epochs = 2
    default_base_model = "smollm2 (the embedded model)"
    price_per_m = 0.0

    def __init__(self, context: FineTuneContext) -> None:
        self.context = context

    @classmethod
    def for_profile(cls, context: FineTuneContext, profile: str | None) -> LocalBackend:
        return cls(context)  # one backend, whatever profile a job names

    def check(self, request: TrainingRequest) -> None:
        if request.resume is None and request.train is None:
            raise LocalFineTuneError(
                "--train FILE is needed (make one with: workbench finetune export --answer-style plain)"
            )

    async def start(self, request: TrainingRequest) -> Started:
        """A new job, or (``resume``) a stopped one continued from its last checkpoint."""
        self.check(request)
        store = self.context.store
        if request.resume is not None:
            job_id = request.resume
            finished = store.job(job_id)["status"] in ("cancelled", "failed") or _last_event_ends(store, job_id)
            if alive(store, job_id) and not (finished and await asyncio.to_thread(wait_until_stopped, store, job_id)):
                raise LocalFineTuneError(
                    f"job {job_id} is running; follow it with: workbench finetune status {job_id} --watch"
                )
        else:
            assert request.train is not None
            options: dict[str, Any] = {"epochs": request.epochs or self.default_epochs, "max_steps": request.max_steps}
            for key, value in (
                ("method", request.method),
                ("max_rss_mb", request.max_memory_mb),
                ("seed", request.seed),
            ):
                if value is not None:
                    options[key] = value
            job_id = new_job(store, request.train, request.base_model or DEFAULT_MODEL, request.folder, **options)
        start(store, job_id)
        return Started(
            job_id,
            f"started local job {job_id} (training in its own process; cancel: workbench finetune cancel {job_id})",
        )

    async def follow(
        self, job_id: str, on_event: EventSink | None = None, on_status: StatusSink | None = None, label: str = ""
    ) -> str:
        store = self.context.store
        status = str(store.job(job_id)["status"])
        if status in ("queued", "running"):
            status = await follow(store, job_id, on_event, poll_s=min(0.5, self.context.max_poll_s))
        if status == "trained":
            if on_status is not None:
                on_status(status)
            await self.register(job_id, label)
            status = str(store.job(job_id)["status"])
        return status

    async def refresh(self, job_id: str) -> None:
        return None  # nothing to ask anyone: the job's process writes its progress, ``follow`` stores it

    async def register(self, job_id: str, label: str = "") -> EndpointProfile:
        """Check the new model (off the loop), then register it on the loop: readers see the profile first."""
        context = self.context
        profile = await asyncio.to_thread(check_model, context.store, job_id, label)
        return record_registration(context.store, context.profiles, job_id, profile, context.on_registered)

    async def cancel(self, job_id: str) -> str:
        if cancel(self.context.store, job_id):
            return ("stopping (a checkpoint is saved first; continue with "
                    f"workbench finetune start --backend local --continue {job_id})")  # fmt: skip
        return f"not running ({self.context.store.job(job_id)['status']})"

    def alive(self, job_id: str) -> bool:
        return alive(self.context.store, job_id)

    def base_profile(self, record: dict[str, Any]) -> str:
        return LOCAL_PROFILE


register_backend(LOCAL_BACKEND, LocalBackend.for_profile)
