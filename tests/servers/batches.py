"""The Batch API of the test server, as the real service behaves, not only as it answers.

``POST /v1/batches``, ``GET /v1/batches`` (newest first, ``after``, ``limit``), ``GET /v1/batches/{id}``,
``POST /v1/batches/{id}/cancel``. A batch walks ``validating -> in_progress -> finalizing -> completed``
on a clock (``phase_s`` per phase); each input line is answered by the chat handler's rules. Beyond that
(``PlatformConfig``):
- ``batch_fail_every``: every Nth request of a batch goes to the error file.
- ``batch_endings``: how the first batches created end, in order: "failed" (late, while in progress,
  with ``errors.data`` of ``code``, ``message``, ``line``), "expired" (the first half of its lines
  answered, the rest in the error file with ``batch_expired``); later batches complete.
- ``cancelling_s``: how long a cancelled batch stays ``cancelling`` before it is ``cancelled``.
- ``queue_tokens``: the organisation's enqueued-token limit per model; a batch that would take the tokens
  of the model's unfinished batches past it is created, then fails validation with ``token_limit_exceeded``
  (as the API does). Tokens are estimated as the client does: characters / 4 of the messages + 1, plus ``max_tokens``
  (or ``max_completion_tokens``, else 256). ``peak_enqueued_tokens`` records the most ever enqueued for one model.
- ``batch_line_shapes``: output lines cycle through these documented shapes: "object" (``body`` an
  object), "string" (``body`` the same JSON as text), "not_json" (``body`` text that is not JSON),
  "error" (``response`` null, ``error`` set), "http_error" (``status_code`` 400 with an error body).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.servers.api_shapes import StoredFile, api_error, listing_page

if TYPE_CHECKING:
    from tests.servers.platform import PlatformAPI

BATCH_LIMIT = 50_000  # requests per batch, as the API
ENDED = ("completed", "failed", "expired", "cancelled")
ENQUEUED = ("validating", "in_progress", "finalizing", "cancelling")


@dataclass
class Batch:
    data: dict[str, Any]
    started: float
    lines: list[dict[str, Any]]
    tokens: int = 0
    ending: str = "completed"  # completed | failed | expired | token_limit_exceeded
    cancelling_since: float = 0.0

    @property
    def model(self) -> str | None:
        return (self.lines[0].get("body") or {}).get("model") if self.lines else None


def line_tokens(body: dict[str, Any]) -> int:
    """The enqueued tokens of one request: the client's estimate (characters / 4), so both sides agree."""
    prompt = body.get("prompt")
    text = prompt if isinstance(prompt, str) else "".join(str(m.get("content", "")) for m in body.get("messages", []))
    return len(text) // 4 + 1 + int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)


def _failure(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"object": "list", "data": [{"code": code, "message": message, "param": None, "line": line}]}


class BatchAPI:
    def __init__(self, platform: PlatformAPI) -> None:
        self.platform = platform
        self.batches: dict[str, Batch] = platform.batches
        self.peak_enqueued_tokens = 0
        self.refused_for_tokens = 0

    def attach(self, app: web.Application) -> None:
        app.router.add_post("/v1/batches", self.create)
        app.router.add_get("/v1/batches", self.listing)
        app.router.add_get("/v1/batches/{id}", self.get)
        app.router.add_post("/v1/batches/{id}/cancel", self.cancel)

    def enqueued_tokens(self, model: str | None) -> int:
        """The tokens of ``model``'s batches accepted and not ended (what counts against ``queue_tokens``)."""
        accepted = (b for b in self.batches.values() if b.ending != "token_limit_exceeded" and b.model == model)
        return sum(b.tokens for b in accepted if b.data["status"] in ENQUEUED)

    async def create(self, request: web.Request) -> web.Response:
        self.platform.count("create_batch")
        body = await request.json()
        stored = self.platform.files.get(str(body.get("input_file_id")))
        if stored is None or stored.purpose != "batch":
            return api_error(400, "input_file_id must be a file uploaded with purpose 'batch'", "input_file_id")
        if body.get("endpoint") not in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
            return api_error(400, f"Invalid endpoint: {body.get('endpoint')}", "endpoint")
        if body.get("completion_window") != "24h":
            return api_error(400, "completion_window must be '24h'", "completion_window")
        lines = [json.loads(line) for line in stored.content.decode().splitlines() if line.strip()]
        if len(lines) > BATCH_LIMIT:
            return api_error(400, f"a batch holds at most {BATCH_LIMIT} requests, got {len(lines)}", "input_file_id")
        ids = [line.get("custom_id") for line in lines]
        if len(set(ids)) != len(ids) or None in ids:
            return api_error(400, "every request needs a unique custom_id", "input_file_id")
        now = int(time.time())
        data = {
            "id": f"batch_{uuid.uuid4().hex[:24]}", "object": "batch", "endpoint": body["endpoint"], "errors": None,
            "input_file_id": stored.id, "completion_window": "24h", "status": "validating", "output_file_id": None,
            "error_file_id": None, "created_at": now, "in_progress_at": None, "expires_at": now + 86400,
            "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
            "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        }  # fmt: skip
        config = self.platform.config
        endings = config.batch_endings
        ending = endings[len(self.batches)] if len(self.batches) < len(endings) else "completed"
        tokens = sum(line_tokens(line.get("body") or {}) for line in lines)
        for batch in self.batches.values():
            self._advance(batch)
        batch = Batch(data, time.monotonic(), lines, tokens, ending)
        if config.queue_tokens is not None and self.enqueued_tokens(batch.model) + tokens > config.queue_tokens:
            batch.ending = "token_limit_exceeded"
            self.refused_for_tokens += 1
        self.batches[data["id"]] = batch
        self.peak_enqueued_tokens = max(self.peak_enqueued_tokens, self.enqueued_tokens(batch.model))
        return web.json_response(data)

    def _advance(self, batch: Batch) -> dict[str, Any]:
        """Move the batch along its lifecycle, by elapsed time (what polling sees)."""
        data = batch.data
        if data["status"] in ENDED:
            return data
        if data["status"] == "cancelling":
            if time.monotonic() - batch.cancelling_since >= self.platform.config.cancelling_s:
                data.update(status="cancelled", cancelled_at=int(time.time()))
            return data
        phase = int((time.monotonic() - batch.started) / self.platform.config.phase_s)
        if phase >= 1 and data["status"] == "validating":
            if batch.ending == "token_limit_exceeded":
                limit = self.platform.config.queue_tokens
                message = (
                    f"Enqueued token limit reached for {batch.model} in organization org-tests. "
                    f"Limit: {limit:,} enqueued tokens. Please try submitting this batch again later."
                )
                data.update(status="failed", failed_at=int(time.time()),
                            errors=_failure("token_limit_exceeded", message, None))  # fmt: skip
                return data
            data.update(status="in_progress", in_progress_at=int(time.time()))
        if phase >= 2 and data["status"] == "in_progress":
            if batch.ending == "failed":
                message = "the batch failed while in progress: the model is unavailable, try again"
                data.update(status="failed", failed_at=int(time.time()), errors=_failure("server_error", message, 1))
                return data
            data.update(status="finalizing", finalizing_at=int(time.time()))
        if phase >= 3 and data["status"] == "finalizing":
            self._finish(batch)
        return data

    def _output_line(self, rid: str, line: dict[str, Any], k: int) -> tuple[dict[str, Any], bool]:
        """One output line for input line ``k`` (from 1) in the configured shape; True: an error-file line."""
        body = line.get("body") or {}
        content = self.platform.server.answer_for(body)
        tokens = len(content) // 4 + 1
        completion = {
            "id": f"chatcmpl-{rid}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"),
            "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }  # fmt: skip
        shapes = self.platform.config.batch_line_shapes
        shape = shapes[(k - 1) % len(shapes)] if shapes else "object"
        row: dict[str, Any] = {"id": rid, "custom_id": line["custom_id"], "error": None}
        if shape == "error":
            return row | {"response": None, "error": {"code": "server_error", "message": "the line errored"}}, True
        if shape == "http_error":
            refusal = {"error": {"message": "Invalid 'messages': too long", "type": "invalid_request_error",
                                 "param": "messages", "code": "context_length_exceeded"}}  # fmt: skip
            return row | {"response": {"status_code": 400, "request_id": rid, "body": refusal}}, True
        text: Any = {"object": completion, "string": json.dumps(completion), "not_json": "<html>502</html>"}[shape]
        return row | {"response": {"status_code": 200, "request_id": rid, "body": text}}, False

    def _finish(self, batch: Batch) -> None:
        outputs, errors = [], []
        every = self.platform.config.batch_fail_every
        answered = len(batch.lines) // 2 if batch.ending == "expired" else len(batch.lines)
        for k, line in enumerate(batch.lines, start=1):
            rid = f"batch_req_{uuid.uuid4().hex[:20]}"
            if k > answered:
                errors.append({"id": rid, "custom_id": line["custom_id"], "response": None, "error": {
                    "code": "batch_expired", "message": "This request could not be executed before the "
                    "completion window expired."}})  # fmt: skip
            elif every and k % every == 0:
                errors.append({"id": rid, "custom_id": line["custom_id"], "response": None,
                               "error": {"code": "server_error", "message": "the model failed to answer"}})  # fmt: skip
            else:
                row, is_error = self._output_line(rid, line, k)
                (errors if is_error else outputs).append(row)
        now = int(time.time())
        for kind, rows in (("output_file_id", outputs), ("error_file_id", errors)):
            if rows:
                content = "".join(json.dumps(r) + "\n" for r in rows).encode()
                stored = StoredFile(f"file-{uuid.uuid4().hex[:24]}", f"{batch.data['id']}_{kind}.jsonl",
                                    "batch_output", content, now)  # fmt: skip
                self.platform.files[stored.id] = stored
                batch.data[kind] = stored.id
        counts = {"total": len(batch.lines), "completed": len(outputs), "failed": len(errors)}
        status = "expired" if batch.ending == "expired" else "completed"
        batch.data.update({"status": status, f"{status}_at": now, "request_counts": counts})

    async def listing(self, request: web.Request) -> web.Response:
        self.platform.count("list_batches")
        return listing_page(request, [self._advance(batch) for batch in self.batches.values()])

    async def get(self, request: web.Request) -> web.Response:
        self.platform.count("get_batch")
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return api_error(404, f"No batch found with id '{request.match_info['id']}'", "batch_id")
        return web.json_response(self._advance(batch))

    async def cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return api_error(404, f"No batch found with id '{request.match_info['id']}'", "batch_id")
        if self._advance(batch)["status"] in ("validating", "in_progress", "finalizing"):
            batch.data.update(status="cancelling", cancelling_at=int(time.time()))
            batch.cancelling_since = time.monotonic()
        return web.json_response(batch.data)
