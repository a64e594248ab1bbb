"""Runs through the OpenAI Batch API: the same variants, store, cache and scoring, answered in bulk.

``BatchRunner`` is a ``Runner`` whose requests go out as Batch API files instead of live
calls. Requests already answered come from the cache and are scored at once; the rest
(identical requests shared) are written as JSONL lines whose ``custom_id`` is the
request's hash, split to the API's limits (50,000 requests and 200 MB per file),
uploaded, and submitted one batch per file. Every batch and the requests in it are
recorded before anything else happens, so a run resumed after a crash reattaches to its
batches instead of sending them again. Answers are downloaded when a batch completes,
stored in the response cache like live answers, and scored by the same path; error lines
and requests missing from the output are recorded as failures, which a resume tries
again. A recipe the registry marks as not for batches (HyDE: two rounds) is refused.
Polling outlasts outages of any length (retries back off to ``BatchLimits.outage_ceiling_s``),
saying "service unavailable since HH:MM, retrying" as the batch's status meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workbench.core.data.dataset import Item
from workbench.core.endpoints.client import ChatRequest, Completion
from workbench.core.endpoints.connection import Patience
from workbench.core.endpoints.platform import BATCH_DONE, BatchInfo, PlatformClient, PlatformError
from workbench.core.retrieval.registry import recipe
from workbench.core.runs.events import BatchUpdate, ItemFailed
from workbench.core.runs.runner import Runner, Variant, _RunContext

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
ENDPOINTS = {"chat": "/v1/chat/completions", "completion": "/v1/completions"}
ENDED = ("failed", "expired", "cancelled")  # batches that will answer nothing more
Waiting = dict[str, tuple[Variant, ChatRequest, list[Item]]]  # request hash -> who asked, what, for which items


@dataclass(frozen=True)
class BatchLimits:
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES
    first_poll_s: float = 5.0
    max_poll_s: float = 60.0
    outage_ceiling_s: float = 60.0  # while the API is down, the longest wait between two tries of a poll


def request_line(key: str, variant: Variant, request: ChatRequest) -> dict[str, Any]:
    """One line of a batch input file: the same body a live request sends."""
    return {"custom_id": key, "method": "POST", "url": ENDPOINTS[request.mode], "body": request.body(variant.profile)}


def chunks(lines: list[bytes], limits: BatchLimits) -> Iterator[list[bytes]]:
    """Consecutive groups within both limits (a single line over the byte limit still goes alone)."""
    group: list[bytes] = []
    size = 0
    for line in lines:
        if group and (len(group) >= limits.max_requests or size + len(line) > limits.max_bytes):
            yield group
            group, size = [], 0
        group.append(line)
        size += len(line)
    if group:
        yield group


def parse_output(content: bytes) -> dict[str, tuple[Completion | None, str]]:
    """custom_id -> (answer, "") or (None, why it failed), from an output or error file."""
    out: dict[str, tuple[Completion | None, str]] = {}
    for raw in content.decode("utf-8-sig", "replace").split("\n"):
        if not raw.strip():
            continue
        line = json.loads(raw)
        key = str(line.get("custom_id"))
        response, error = line.get("response") or {}, line.get("error")
        body = response.get("body") or {}
        if error or response.get("status_code") != 200:
            detail = (error or body.get("error") or {}).get("message") or f"HTTP {response.get('status_code')}"
            out[key] = (None, f"batch: {detail}")
            continue
        try:
            choice = body["choices"][0]
            text = choice.get("text") if "text" in choice else choice["message"].get("content")
            usage = body.get("usage") or {}
            tokens = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            answer = Completion(text or "", *tokens, 0.0, 1, str(body.get("model", "")))
            out[key] = (answer, "")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            out[key] = (None, f"batch: unreadable answer ({type(exc).__name__})")
    return out


class BatchRunner(Runner):
    def __init__(self, *args: Any, limits: BatchLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or BatchLimits()
        self.platform: dict[str, PlatformClient] = {}
        self._last_update: dict[str, BatchUpdate] = {}  # batch id -> what was last said of it
        self._polled: str | None = None  # the batch being looked at

    async def _work(self, ctx: _RunContext, todo: dict[str, list[Item]]) -> None:
        try:
            waiting = await self._prepare(ctx, todo)
            if waiting and not self._cancel.is_set():
                self.store.set_state(ctx.run_id, "batch")
                await self._submit_missing(ctx, waiting)
                await self._poll(ctx, waiting)
        finally:
            for client in self.platform.values():
                await client.aclose()
            await ctx.queue.put(None)

    def _client(self, ctx: _RunContext, variant: Variant) -> PlatformClient:
        name = variant.profile.name
        if name not in self.platform:
            patience = Patience(self.limits.outage_ceiling_s, lambda message: self._outage(ctx, message))
            self.platform[name] = PlatformClient(variant.profile, api_key=self.api_keys.get(name), patience=patience)
        return self.platform[name]

    def _outage(self, ctx: _RunContext, message: str) -> None:
        """Say, as the polled batch's status, that the service is down and we keep trying."""
        batch_id = self._polled or ""
        last = self._last_update.get(batch_id) or BatchUpdate(batch_id, "", 0, 0, 0, len(self._open(ctx)))
        with contextlib.suppress(asyncio.QueueFull):  # a reader that far behind misses nothing it needs
            ctx.queue.put_nowait(dataclasses.replace(last, status=message))

    async def _prepare(self, ctx: _RunContext, todo: dict[str, list[Item]]) -> Waiting:
        """Score what the cache already holds; return the rest by request hash (identical requests shared)."""
        waiting: Waiting = {}
        for variant in self.variants:
            for item in todo[variant.name]:
                if not recipe(variant.retrieval).batch:
                    reason = (
                        "HyDE (skeleton retrieval) needs two rounds of answers: run it live, not as a batch"
                        if variant.context.needs_draft
                        else f"{variant.retrieval} retrieval cannot run as a batch: run it live"
                    )
                    await ctx.queue.put(self._failed(ctx, variant, item, "", reason))
                    continue
                messages = await self._render(ctx, variant, item, variant.messages)
                if isinstance(messages, ItemFailed):
                    await ctx.queue.put(messages)
                    continue
                request = ChatRequest(tuple(messages), variant.request_params, variant.mode)
                key = request.fingerprint(variant.profile)
                cached = self._cached(variant, key)
                if cached is not None:
                    await ctx.queue.put(await self._score(ctx, variant, item, key, cached, cached=True))
                    continue
                waiting.setdefault(key, (variant, request, []))[2].append(item)
        return waiting

    async def _submit_missing(self, ctx: _RunContext, waiting: Waiting) -> None:
        """Submit every waiting request that no open batch of this run holds (answers not yet read)."""
        held = {h for b in self._open(ctx) for h in self.store.batch_hashes(b["id"])}
        by_profile: dict[str, tuple[list[str], list[bytes]]] = {}  # group -> (request hashes, their lines)
        variants: dict[str, Variant] = {}
        for key, (variant, request, _) in waiting.items():
            if key in held:
                continue
            line = json.dumps(request_line(key, variant, request), ensure_ascii=False).encode() + b"\n"
            group = f"{variant.profile.name}\t{request.mode}"
            keys, lines = by_profile.setdefault(group, ([], []))
            keys.append(key)
            lines.append(line)
            variants[group] = variant
        for group, (keys, lines) in by_profile.items():
            variant = variants[group]
            client = self._client(ctx, variant)
            offset = 0
            for part in chunks(lines, self.limits):  # consecutive groups: the hashes are the same slice
                if self._cancel.is_set():
                    return
                hashes, offset = keys[offset : offset + len(part)], offset + len(part)
                file_id = await client.upload_bytes(f"{self.run_name}-batch.jsonl", b"".join(part), "batch")
                info = await client.create_batch(file_id, ENDPOINTS[variant.mode], {"workbench_run": self.run_name})
                self.store.save_batch(info.id, ctx.run_id, variant.profile.name, info.status, file_id, hashes)
                await ctx.queue.put(self._update(ctx, info))

    def _update(self, ctx: _RunContext, info: BatchInfo) -> BatchUpdate:
        update = BatchUpdate(info.id, info.status, info.total, info.completed, info.failed, len(self._open(ctx)))
        self._last_update[info.id] = update
        return update

    def _open(self, ctx: _RunContext) -> list[dict[str, Any]]:
        """This run's batches that may still answer and whose answers are not in yet."""
        return [b for b in self.store.batches(ctx.run_id) if not b["ingested"] and b["status"] not in ENDED]

    async def _poll(self, ctx: _RunContext, waiting: Waiting) -> None:
        profiles = {v.profile.name: v for v, _, _ in waiting.values()}
        delay = self.limits.first_poll_s
        while not self._cancel.is_set():
            open_batches = [b for b in self._open(ctx) if b["profile"] in profiles]
            if not open_batches:
                break
            changed = False
            for record in open_batches:
                client = self._client(ctx, profiles[record["profile"]])
                self._polled = record["id"]
                info = await client.retrieve_batch(record["id"])
                if info.status in BATCH_DONE:
                    await self._ingest(ctx, client, info, waiting)  # answers first, then the news
                if info.status != record["status"]:
                    changed = True
                    self.store.set_batch(info.id, info.status)
                    await ctx.queue.put(self._update(ctx, info))
            delay = self.limits.first_poll_s if changed else min(self.limits.max_poll_s, delay * 1.5)
            if not self._cancel.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cancel.wait(), timeout=delay)
        await self._fail_unanswerable(ctx, waiting)

    async def _ingest(
        self, ctx: _RunContext, client: PlatformClient, info: BatchInfo,
        waiting: Waiting,
    ) -> None:  # fmt: skip
        """Store and score a finished batch's answers; its other requests become failures (retried on resume)."""
        results: dict[str, tuple[Completion | None, str]] = {}
        for file_id in (info.output_file_id, info.error_file_id):
            if file_id:
                try:
                    results.update(parse_output(await client.download(file_id)))
                except (PlatformError, json.JSONDecodeError) as exc:
                    reason = f"batch {info.id}: cannot read its results ({exc})"
                    results.update({h: (None, reason) for h in self.store.batch_hashes(info.id) if h not in results})
        default = f"batch {info.id} ended {info.status}" + (f": {info.errors}" if info.errors else "")
        for key in self.store.batch_hashes(info.id):
            if key not in waiting:
                continue  # answered before a restart, or not this run's any more
            variant, request, items = waiting.pop(key)
            missing = default if info.status != "completed" else "missing from the batch output"
            answer, reason = results.get(key, (None, missing))
            profile = variant.profile
            if answer is not None and answer.text.strip():
                tokens = {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens}
                self.store.save_response(key, profile.base_url, profile.model, list(request.messages), request.params,
                                         ok=True, text=answer.text, latency_ms=None, attempts=1, **tokens)  # fmt: skip
                for item in items:
                    await ctx.queue.put(await self._score(ctx, variant, item, key, answer, cached=False))
                continue
            reason = reason or "empty answer"
            self.store.save_response(key, profile.base_url, profile.model, list(request.messages), request.params,
                                     ok=False, text=None, attempts=1, error=reason)  # fmt: skip
            for item in items:
                await ctx.queue.put(self._failed(ctx, variant, item, key, reason))
        self.store.set_batch(info.id, info.status, ingested=True)

    async def _fail_unanswerable(self, ctx: _RunContext, waiting: Waiting) -> None:
        """Nothing left to poll but requests still wait (their batch failed to submit): say so on resume."""
        if self._cancel.is_set():
            return
        for key, (variant, _, items) in list(waiting.items()):
            for item in items:
                reason = "no batch holds this request; resume to submit it again"
                await ctx.queue.put(self._failed(ctx, variant, item, key, reason))
            waiting.pop(key)
