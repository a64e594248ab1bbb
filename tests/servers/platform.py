"""The OpenAI platform endpoints of the test server: files, fine-tuning jobs and batches.

Shapes, status values and errors follow the OpenAI API reference:
- ``POST /v1/files`` (multipart: ``file``, ``purpose``), ``GET /v1/files/{id}``,
  ``GET /v1/files/{id}/content``.
- ``POST /v1/fine_tuning/jobs``, ``GET /v1/fine_tuning/jobs/{id}``, ``.../events``
  (newest first, ``after`` and ``limit``), ``.../checkpoints``, ``POST .../cancel``.
  A job walks ``validating_files -> queued -> running -> succeeded`` on a clock
  (``phase_s`` per phase, ``steps`` training steps with metrics events), or ends
  ``failed`` with an ``error`` object when its training file holds fewer than 10
  examples or ``fail_jobs`` is set. The fine-tuned model is ``ft:<base>:<suffix>:<job>``
  and the chat endpoint answers it with gold SQL.
- ``GET /v1/fine_tuning/jobs`` and ``GET /v1/batches`` list them newest first (``after``,
  ``limit``; jobs also by ``metadata[key]=value``), as the API does.
- Batches (``tests/servers/batches.py``): their lifecycle, late failures, expiry, slow
  cancelling, the enqueued-token limit and every documented output-line shape. Output and
  error files are ordinary files.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.servers.api_shapes import StoredFile, api_error, listing_page
from tests.servers.batches import Batch, BatchAPI

if TYPE_CHECKING:
    from tests.servers.openai import OpenAITestServer


@dataclass
class PlatformConfig:
    phase_s: float = 0.05  # seconds per job / batch phase
    steps: int = 4
    fail_jobs: bool = False
    batch_fail_every: int = 0  # every Nth batch request ends in the error file (0: none)
    batch_endings: tuple[str, ...] = ()  # how the first batches end: "failed" (late) or "expired" (batches.py)
    cancelling_s: float = 0.0  # how long a cancelled batch stays "cancelling"
    queue_tokens: int | None = None  # the organisation's enqueued-token limit (None: no limit)
    batch_line_shapes: tuple[str, ...] = ()  # output line shapes, cycled (batches.py); () : body objects


@dataclass
class Job:
    data: dict[str, Any]
    started: float
    cancelled_at: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    shown_running: bool = False  # a read of the job itself has answered "running"


class PlatformAPI:
    def __init__(self, server: OpenAITestServer, config: PlatformConfig | None = None) -> None:
        self.server = server
        self.config = config or PlatformConfig()
        self.files: dict[str, StoredFile] = {}
        self.jobs: dict[str, Job] = {}
        self.batches: dict[str, Batch] = {}
        self.calls: dict[str, int] = {}
        self.batch_api = BatchAPI(self)

    def attach(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/v1/files", self.upload)
        r.add_get("/v1/files/{id}", self.file_info)
        r.add_get("/v1/files/{id}/content", self.file_content)
        r.add_post("/v1/fine_tuning/jobs", self.create_job)
        r.add_get("/v1/fine_tuning/jobs", self.list_jobs)
        r.add_get("/v1/fine_tuning/jobs/{id}", self.get_job)
        r.add_get("/v1/fine_tuning/jobs/{id}/events", self.job_events)
        r.add_get("/v1/fine_tuning/jobs/{id}/checkpoints", self.job_checkpoints)
        r.add_post("/v1/fine_tuning/jobs/{id}/cancel", self.cancel_job)
        self.batch_api.attach(app)

    def stats(self) -> dict[str, Any]:
        """Counts for tests: calls per endpoint, batches created and the requests they held."""
        return {
            "calls": dict(self.calls),
            "batches": len(self.batches),
            "batch_requests": sum(len(b.lines) for b in self.batches.values()),
            "distinct_batch_requests": len({line["custom_id"] for b in self.batches.values() for line in b.lines}),
            "peak_enqueued_tokens": self.batch_api.peak_enqueued_tokens,
            "refused_for_tokens": self.batch_api.refused_for_tokens,
        }

    def count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # --- files ----------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        self.count("upload")
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if purpose not in ("fine-tune", "batch", "assistants", "vision", "user_data", "evals"):
            return api_error(400, f"Invalid value for 'purpose': {purpose!r}", "purpose")
        if not isinstance(upload, web.FileField):
            return api_error(400, "Missing file", "file")
        content = upload.file.read()
        if purpose in ("fine-tune", "batch"):
            for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    return api_error(400, f"Invalid file format: line {number} is not valid JSON", "file")
        stored = StoredFile(f"file-{uuid.uuid4().hex[:24]}", upload.filename, str(purpose), content, int(time.time()))
        self.files[stored.id] = stored
        return web.json_response(stored.to_json())

    async def file_info(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["id"])
        return web.json_response(stored.to_json()) if stored else api_error(404, "No such File object", "id")

    async def file_content(self, request: web.Request) -> web.Response:
        self.count("file_content")
        stored = self.files.get(request.match_info["id"])
        if stored is None:
            return api_error(404, "No such File object", "id")
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # --- fine-tuning jobs -------------------------------------------------------------------
    async def create_job(self, request: web.Request) -> web.Response:
        self.count("create_job")
        body = await request.json()
        training = self.files.get(str(body.get("training_file")))
        if not body.get("model"):
            return api_error(400, "Missing required parameter: 'model'", "model")
        if training is None:
            return api_error(400, f"invalid training_file: {body.get('training_file')}", "training_file")
        if body.get("validation_file") and body["validation_file"] not in self.files:
            return api_error(400, f"invalid validation_file: {body['validation_file']}", "validation_file")
        hyper = dict(body.get("hyperparameters") or {})
        method = body.get("method") or {}
        hyper.update(((method.get("supervised") or {}).get("hyperparameters")) or {})
        job_id = f"ftjob-{uuid.uuid4().hex[:24]}"
        data = {
            "object": "fine_tuning.job", "id": job_id, "model": body["model"], "created_at": int(time.time()),
            "finished_at": None, "fine_tuned_model": None, "organization_id": "org-tests", "result_files": [],
            "status": "validating_files", "validation_file": body.get("validation_file"),
            "training_file": training.id, "hyperparameters": {"n_epochs": hyper.get("n_epochs", "auto"),
            "batch_size": "auto", "learning_rate_multiplier": "auto"}, "trained_tokens": None, "error": None,
            "seed": body.get("seed", 0), "suffix": body.get("suffix"), "estimated_finish": None,
            "integrations": [], "method": {"type": "supervised"}, "metadata": body.get("metadata"),
        }  # fmt: skip
        job = Job(data, time.monotonic())
        self._event(job, "info", f"Created fine-tuning job: {job_id}")
        self.jobs[job_id] = job
        return web.json_response(self._shown(job))

    async def list_jobs(self, request: web.Request) -> web.Response:
        self.count("list_jobs")
        return listing_page(request, [self._shown(job) for job in self.jobs.values()])

    def _event(self, job: Job, level: str, message: str, kind: str = "message", data: Any = None) -> None:
        job.events.append({"object": "fine_tuning.job.event", "id": f"ftevent-{uuid.uuid4().hex[:20]}",
                           "created_at": int(time.time()), "level": level, "message": message,
                           "data": data or {}, "type": kind})  # fmt: skip

    def _examples(self, job: Job) -> int:
        content = self.files[job.data["training_file"]].content.decode("utf-8", "replace")
        return sum(1 for line in content.splitlines() if line.strip())

    def _advance(self, job: Job) -> dict[str, Any]:
        """Move the job along its scripted lifecycle, by elapsed time (what polling sees).

        However late the reads come (a loaded machine), a read of the job answers "running"
        before one answers "succeeded": a job whose time is up stays running (its steps
        logged) until a read of the job (not of its events) has shown it so.
        """
        data = job.data
        if data["status"] in ("succeeded", "failed", "cancelled"):
            return data
        phase = int((time.monotonic() - job.started) / self.config.phase_s)
        if phase >= 1 and data["status"] == "validating_files":
            if self._examples(job) < 10 or self.config.fail_jobs:
                reason = "Training file has fewer than 10 examples" if self._examples(job) < 10 else "Job failed"
                error = {"code": "invalid_training_file", "message": reason, "param": "training_file"}
                data.update(status="failed", finished_at=int(time.time()), error=error)
                self._event(job, "error", f"Job failed: {reason}")
                return data
            data["status"] = "queued"
            self._event(job, "info", "Files validated, moving job to queued state")
        if phase >= 2 and data["status"] == "queued":
            data["status"] = "running"
            self._event(job, "info", "Fine-tuning job started")
        steps_done = max(0, min(self.config.steps, phase - 2))
        logged = sum(1 for e in job.events if e["type"] == "metrics")
        for step in range(logged + 1, steps_done + 1):
            loss = round(1.0 / step, 4)
            self._event(job, "info", f"Step {step}/{self.config.steps}: training loss={loss}", "metrics",
                        {"step": step, "train_loss": loss, "total_steps": self.config.steps})  # fmt: skip
        if phase >= 3 + self.config.steps and job.shown_running:
            suffix = data.get("suffix") or "custom"
            data.update(status="succeeded", finished_at=int(time.time()), trained_tokens=1000 * self.config.steps,
                        fine_tuned_model=f"ft:{data['model']}:{suffix}:{data['id'][-8:]}")  # fmt: skip
            self._event(job, "info", "New fine-tuned model created")
            self._event(job, "info", "The job has successfully completed")
        return data

    def _shown(self, job: Job) -> dict[str, Any]:
        """The job as a read of it answers: advanced, and remembered when that answer is "running"."""
        data = self._advance(job)
        job.shown_running = job.shown_running or data["status"] == "running"
        return data

    def _job(self, request: web.Request) -> Job | None:
        return self.jobs.get(request.match_info["id"])

    async def get_job(self, request: web.Request) -> web.Response:
        self.count("get_job")
        job = self._job(request)
        if job is None:
            return api_error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        return web.json_response(self._shown(job))

    async def job_events(self, request: web.Request) -> web.Response:
        self.count("job_events")
        job = self._job(request)
        if job is None:
            return api_error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        self._advance(job)
        newest_first = list(reversed(job.events))
        after = request.query.get("after")
        if after:
            ids = [e["id"] for e in newest_first]
            newest_first = newest_first[ids.index(after) + 1 :] if after in ids else newest_first  # older ones
        limit = int(request.query.get("limit", 20))
        page = newest_first[:limit]
        return web.json_response({"object": "list", "data": page, "has_more": len(newest_first) > limit})

    async def job_checkpoints(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return api_error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        data = [
            {"object": "fine_tuning.job.checkpoint", "id": f"ftckpt_{job.data['id'][-6:]}_{e['data']['step']}",
             "created_at": e["created_at"], "step_number": e["data"]["step"],
             "fine_tuned_model_checkpoint": f"ft:{job.data['model']}:ckpt-step-{e['data']['step']}",
             "metrics": {"step": e["data"]["step"], "train_loss": e["data"]["train_loss"]},
             "fine_tuning_job_id": job.data["id"]}
            for e in reversed(job.events) if e["type"] == "metrics"
        ]  # fmt: skip
        return web.json_response({"object": "list", "data": data, "has_more": False})

    async def cancel_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return api_error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        self._advance(job)
        if job.data["status"] in ("succeeded", "failed", "cancelled"):
            return api_error(400, f"Job has already {job.data['status']}", "fine_tune_id")
        job.data.update(status="cancelled", finished_at=int(time.time()))
        self._event(job, "info", "Job cancelled")
        return web.json_response(job.data)
