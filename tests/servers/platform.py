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
- ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``:
  ``validating -> in_progress -> finalizing -> completed``; each input line is answered
  by the chat handler's rules; lines listed in ``batch_fail_every`` (every Nth
  request) go to the error file instead. Output and error files are ordinary files.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.servers.openai import OpenAITestServer

BATCH_LIMIT = 50_000  # requests per batch, as the API


@dataclass
class PlatformConfig:
    phase_s: float = 0.05  # seconds per job / batch phase
    steps: int = 4
    fail_jobs: bool = False
    batch_fail_every: int = 0  # every Nth batch request ends in the error file (0: none)


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.content), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed"}  # fmt: skip


@dataclass
class Job:
    data: dict[str, Any]
    started: float
    cancelled_at: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Batch:
    data: dict[str, Any]
    started: float
    lines: list[dict[str, Any]]


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return web.json_response(body, status=status)


class PlatformAPI:
    def __init__(self, server: OpenAITestServer, config: PlatformConfig | None = None) -> None:
        self.server = server
        self.config = config or PlatformConfig()
        self.files: dict[str, StoredFile] = {}
        self.jobs: dict[str, Job] = {}
        self.batches: dict[str, Batch] = {}
        self.calls: dict[str, int] = {}

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
        r.add_post("/v1/batches", self.create_batch)
        r.add_get("/v1/batches", self.list_batches)
        r.add_get("/v1/batches/{id}", self.get_batch)
        r.add_post("/v1/batches/{id}/cancel", self.cancel_batch)

    def stats(self) -> dict[str, Any]:
        """Counts for tests: calls per endpoint, batches created and the requests they held."""
        return {
            "calls": dict(self.calls),
            "batches": len(self.batches),
            "batch_requests": sum(len(b.lines) for b in self.batches.values()),
            "distinct_batch_requests": len({line["custom_id"] for b in self.batches.values() for line in b.lines}),
        }

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # --- files ----------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        self._count("upload")
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if purpose not in ("fine-tune", "batch", "assistants", "vision", "user_data", "evals"):
            return _error(400, f"Invalid value for 'purpose': {purpose!r}", "purpose")
        if not isinstance(upload, web.FileField):
            return _error(400, "Missing file", "file")
        content = upload.file.read()
        if purpose in ("fine-tune", "batch"):
            for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    return _error(400, f"Invalid file format: line {number} is not valid JSON", "file")
        stored = StoredFile(f"file-{uuid.uuid4().hex[:24]}", upload.filename, str(purpose), content, int(time.time()))
        self.files[stored.id] = stored
        return web.json_response(stored.to_json())

    async def file_info(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["id"])
        return web.json_response(stored.to_json()) if stored else _error(404, "No such File object", "id")

    async def file_content(self, request: web.Request) -> web.Response:
        self._count("file_content")
        stored = self.files.get(request.match_info["id"])
        if stored is None:
            return _error(404, "No such File object", "id")
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _listing(self, request: web.Request, objects: list[dict[str, Any]]) -> web.Response:
        """A page of ``objects`` newest first, after ``after``, filtered by ``metadata[key]=value``."""
        wanted = {k[len("metadata[") : -1]: v for k, v in request.query.items() if k.startswith("metadata[")}
        newest = [o for o in reversed(objects) if all((o.get("metadata") or {}).get(k) == v for k, v in wanted.items())]
        ids = [o["id"] for o in newest]
        after = request.query.get("after")
        if after in ids:
            newest = newest[ids.index(after) + 1 :]
        limit = int(request.query.get("limit", 20))
        return web.json_response({"object": "list", "data": newest[:limit], "has_more": len(newest) > limit})

    # --- fine-tuning jobs -------------------------------------------------------------------
    async def create_job(self, request: web.Request) -> web.Response:
        self._count("create_job")
        body = await request.json()
        training = self.files.get(str(body.get("training_file")))
        if not body.get("model"):
            return _error(400, "Missing required parameter: 'model'", "model")
        if training is None:
            return _error(400, f"invalid training_file: {body.get('training_file')}", "training_file")
        if body.get("validation_file") and body["validation_file"] not in self.files:
            return _error(400, f"invalid validation_file: {body['validation_file']}", "validation_file")
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
        return web.json_response(self._advance(job))

    async def list_jobs(self, request: web.Request) -> web.Response:
        self._count("list_jobs")
        return self._listing(request, [self._advance(job) for job in self.jobs.values()])

    def _event(self, job: Job, level: str, message: str, kind: str = "message", data: Any = None) -> None:
        job.events.append({"object": "fine_tuning.job.event", "id": f"ftevent-{uuid.uuid4().hex[:20]}",
                           "created_at": int(time.time()), "level": level, "message": message,
                           "data": data or {}, "type": kind})  # fmt: skip

    def _examples(self, job: Job) -> int:
        content = self.files[job.data["training_file"]].content.decode("utf-8", "replace")
        return sum(1 for line in content.splitlines() if line.strip())

    def _advance(self, job: Job) -> dict[str, Any]:
        """Move the job along its scripted lifecycle, by elapsed time (what polling sees)."""
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
        if phase >= 3 + self.config.steps and data["status"] == "running":
            suffix = data.get("suffix") or "custom"
            data.update(status="succeeded", finished_at=int(time.time()), trained_tokens=1000 * self.config.steps,
                        fine_tuned_model=f"ft:{data['model']}:{suffix}:{data['id'][-8:]}")  # fmt: skip
            self._event(job, "info", "New fine-tuned model created")
            self._event(job, "info", "The job has successfully completed")
        return data

    def _job(self, request: web.Request) -> Job | None:
        return self.jobs.get(request.match_info["id"])

    async def get_job(self, request: web.Request) -> web.Response:
        self._count("get_job")
        job = self._job(request)
        if job is None:
            return _error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        return web.json_response(self._advance(job))

    async def job_events(self, request: web.Request) -> web.Response:
        self._count("job_events")
        job = self._job(request)
        if job is None:
            return _error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
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
            return _error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
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
            return _error(404, f"Could not find fine-tune: {request.match_info['id']}", "fine_tune_id")
        self._advance(job)
        if job.data["status"] in ("succeeded", "failed", "cancelled"):
            return _error(400, f"Job has already {job.data['status']}", "fine_tune_id")
        job.data.update(status="cancelled", finished_at=int(time.time()))
        self._event(job, "info", "Job cancelled")
        return web.json_response(job.data)

    # --- batches ------------------------------------------------------------------------------
    async def create_batch(self, request: web.Request) -> web.Response:
        self._count("create_batch")
        body = await request.json()
        stored = self.files.get(str(body.get("input_file_id")))
        if stored is None or stored.purpose != "batch":
            return _error(400, "input_file_id must be a file uploaded with purpose 'batch'", "input_file_id")
        if body.get("endpoint") not in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
            return _error(400, f"Invalid endpoint: {body.get('endpoint')}", "endpoint")
        if body.get("completion_window") != "24h":
            return _error(400, "completion_window must be '24h'", "completion_window")
        lines = [json.loads(line) for line in stored.content.decode().splitlines() if line.strip()]
        if len(lines) > BATCH_LIMIT:
            return _error(400, f"a batch holds at most {BATCH_LIMIT} requests, got {len(lines)}", "input_file_id")
        ids = [line.get("custom_id") for line in lines]
        if len(set(ids)) != len(ids) or None in ids:
            return _error(400, "every request needs a unique custom_id", "input_file_id")
        now = int(time.time())
        data = {
            "id": f"batch_{uuid.uuid4().hex[:24]}", "object": "batch", "endpoint": body["endpoint"], "errors": None,
            "input_file_id": stored.id, "completion_window": "24h", "status": "validating", "output_file_id": None,
            "error_file_id": None, "created_at": now, "in_progress_at": None, "expires_at": now + 86400,
            "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
            "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        }  # fmt: skip
        batch = Batch(data, time.monotonic(), lines)
        self.batches[data["id"]] = batch
        return web.json_response(data)

    def _advance_batch(self, batch: Batch) -> dict[str, Any]:
        data = batch.data
        if data["status"] in ("completed", "failed", "expired", "cancelled"):
            return data
        phase = int((time.monotonic() - batch.started) / self.config.phase_s)
        if data["status"] == "cancelling":
            data.update(status="cancelled", cancelled_at=int(time.time()))
            return data
        if phase >= 1 and data["status"] == "validating":
            data.update(status="in_progress", in_progress_at=int(time.time()))
        if phase >= 2 and data["status"] == "in_progress":
            data.update(status="finalizing", finalizing_at=int(time.time()))
        if phase >= 3 and data["status"] == "finalizing":
            self._finish_batch(batch)
        return data

    def _finish_batch(self, batch: Batch) -> None:
        outputs, errors = [], []
        every = self.config.batch_fail_every
        for k, line in enumerate(batch.lines, start=1):
            rid = f"batch_req_{uuid.uuid4().hex[:20]}"
            if every and k % every == 0:
                errors.append({"id": rid, "custom_id": line["custom_id"], "response": None,
                               "error": {"code": "server_error", "message": "the model failed to answer"}})  # fmt: skip
                continue
            body = line.get("body") or {}
            content = self.server.answer_for(body)
            tokens = len(content) // 4 + 1
            message = {"role": "assistant", "content": content}
            completion = {
                "id": f"chatcmpl-{rid}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"),
                "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens},
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }  # fmt: skip
            response = {"status_code": 200, "request_id": rid, "body": completion}
            outputs.append({"id": rid, "custom_id": line["custom_id"], "response": response, "error": None})
        now = int(time.time())
        for kind, rows in (("output_file_id", outputs), ("error_file_id", errors)):
            if rows:
                content = "".join(json.dumps(r) + "\n" for r in rows).encode()
                stored = StoredFile(f"file-{uuid.uuid4().hex[:24]}", f"{batch.data['id']}_{kind}.jsonl",
                                    "batch_output", content, now)  # fmt: skip
                self.files[stored.id] = stored
                batch.data[kind] = stored.id
        counts = {"total": len(batch.lines), "completed": len(outputs), "failed": len(errors)}
        batch.data.update(status="completed", completed_at=now, request_counts=counts)

    async def list_batches(self, request: web.Request) -> web.Response:
        self._count("list_batches")
        return self._listing(request, [self._advance_batch(batch) for batch in self.batches.values()])

    async def get_batch(self, request: web.Request) -> web.Response:
        self._count("get_batch")
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, f"No batch found with id '{request.match_info['id']}'", "batch_id")
        return web.json_response(self._advance_batch(batch))

    async def cancel_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, f"No batch found with id '{request.match_info['id']}'", "batch_id")
        if batch.data["status"] in ("validating", "in_progress", "finalizing"):
            batch.data.update(status="cancelling", cancelling_at=int(time.time()))
        return web.json_response(batch.data)
