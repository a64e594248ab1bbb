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

Queue limits: the tokens of a profile's unfinished batches (estimated as live requests are:
characters / 4 plus the answer's allowance) stay within its ``batch_queue_tokens``; chunks
beyond it wait and are submitted as earlier batches finish. A batch the API refuses with
``token_limit_exceeded`` is submitted again once this run has no other batch enqueued there,
in halves if it was refused alone (the real limit is below the profile's budget); after
``BatchLimits.queue_refusals`` refusals its requests fail, and resume retries them.
A batch that fails late fails its requests with the API's message; one that expires has its
answered lines ingested and the rest submitted once more in the same run (a second expiry
fails them, and resume retries them); one that is ``cancelling`` is waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from workbench.core.data.dataset import Item
from workbench.core.endpoints.client import ChatRequest, Completion
from workbench.core.endpoints.connection import Patience
from workbench.core.endpoints.platform import BATCH_DONE, BatchInfo, PlatformClient, PlatformError
from workbench.core.retrieval.registry import recipe
from workbench.core.runs.batch_lines import ENDPOINTS, EXPIRED, BatchLimits, chunks, parse_output, request_line
from workbench.core.runs.events import BatchUpdate, ItemFailed
from workbench.core.runs.runner import Runner, Variant, _RunContext

ENDED = ("failed", "expired", "cancelled")  # batches that will answer nothing more
Waiting = dict[str, tuple[Variant, ChatRequest, list[Item]]]  # request hash -> who asked, what, for which items
QUEUE_FULL = "token_limit_exceeded"


@dataclass
class Pending:
    """A chunk of requests waiting to be submitted as one batch."""

    variant: Variant
    hashes: list[str]
    lines: list[bytes]
    tokens: int
    refused: int = 0  # token_limit_exceeded refusals so far; once refused, it waits for the queue to drain


class BatchRunner(Runner):
    def __init__(self, *args: Any, limits: BatchLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or BatchLimits()
        self.platform: dict[str, PlatformClient] = {}
        self._last_update: dict[str, BatchUpdate] = {}  # batch id -> what was last said of it
        self._polled: str | None = None  # the batch being looked at
        self._pending: list[Pending] = []  # chunks not yet submitted (over the queue budget, or refused)
        self._tokens: dict[str, int] = {}  # request hash -> its estimated tokens
        self._lines: dict[str, bytes] = {}  # request hash -> its input line
        self._expired_once: set[str] = set()  # requests submitted again after their batch expired
        self._submitted: dict[str, tuple[int, int]] = {}  # batch id -> (refusals before it, tokens then enqueued)

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
        """Queue every waiting request that no open batch of this run holds, in chunks; submit what fits."""
        held = {h for b in self._open(ctx) for h in self.store.batch_hashes(b["id"])}
        groups: dict[str, tuple[Variant, list[str]]] = {}  # profile and mode -> (a variant, request hashes)
        for key, (variant, request, _) in waiting.items():
            self._tokens[key] = request.estimated_tokens()
            self._lines[key] = json.dumps(request_line(key, variant, request), ensure_ascii=False).encode() + b"\n"
            if key not in held:
                groups.setdefault(f"{variant.profile.name}\t{request.mode}", (variant, []))[1].append(key)
        for variant, keys in groups.values():
            self._queue(variant, keys)
        await self._submit_queued(ctx)

    def _queue(self, variant: Variant, keys: list[str], refused: int = 0, max_tokens: int | None = None) -> None:
        """Queue ``keys`` in chunks within the limits and ``max_tokens`` (default: the profile's budget)."""
        lines = [self._lines[k] for k in keys]
        tokens = [self._tokens[k] for k in keys]
        offset = 0
        for part in chunks(lines, self.limits, tokens, max_tokens or variant.profile.batch_queue_tokens):
            hashes, offset = keys[offset : offset + len(part)], offset + len(part)  # consecutive: the same slice
            self._pending.append(Pending(variant, hashes, part, sum(self._tokens[h] for h in hashes), refused))

    def _enqueued(self, ctx: _RunContext, profile: str) -> int:
        """The estimated tokens of this run's unfinished batches on ``profile``."""
        open_batches = [b for b in self._open(ctx) if b["profile"] == profile]
        return sum(self._tokens.get(h, 0) for b in open_batches for h in self.store.batch_hashes(b["id"]))

    async def _submit_queued(self, ctx: _RunContext) -> None:
        """Submit the queued chunks that fit their profile's budget beside the batches already enqueued."""
        for pending in list(self._pending):
            if self._cancel.is_set():
                return
            profile = pending.variant.profile
            enqueued = self._enqueued(ctx, profile.name)
            if enqueued and (pending.refused or enqueued + pending.tokens > profile.batch_queue_tokens):
                continue  # it waits for earlier batches to finish
            client = self._client(ctx, pending.variant)
            file_id = await client.upload_bytes(f"{self.run_name}-batch.jsonl", b"".join(pending.lines), "batch")
            info = await client.create_batch(file_id, ENDPOINTS[pending.variant.mode], {"workbench_run": self.run_name})
            self.store.save_batch(info.id, ctx.run_id, profile.name, info.status, file_id, pending.hashes)
            self._pending.remove(pending)
            self._submitted[info.id] = (pending.refused, enqueued)
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
            if not open_batches and not self._pending:
                break
            changed = False
            for record in open_batches:
                client = self._client(ctx, profiles[record["profile"]])
                self._polled = record["id"]
                info = await client.retrieve_batch(record["id"])
                refused = info.status == "failed" and QUEUE_FULL in info.error_codes
                if refused:
                    await self._refused(ctx, info, waiting)
                elif info.status in BATCH_DONE:
                    await self._ingest(ctx, client, info, waiting)  # answers first, then the news
                if info.status != record["status"]:
                    changed = True
                    self.store.set_batch(info.id, info.status, ingested=info.status in BATCH_DONE)
                    update = self._update(ctx, info)
                    await ctx.queue.put(
                        dataclasses.replace(update, status=f"refused ({QUEUE_FULL})") if refused else update
                    )
            if self._pending:
                before = len(self._pending)
                await self._submit_queued(ctx)
                changed = changed or len(self._pending) != before
            delay = self.limits.first_poll_s if changed else min(self.limits.max_poll_s, delay * 1.5)
            if not self._cancel.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cancel.wait(), timeout=delay)
        await self._fail_unanswerable(ctx, waiting)

    async def _refused(self, ctx: _RunContext, info: BatchInfo, waiting: Waiting) -> None:
        """A batch refused for the queue limit: its requests queue again, unless refused too often."""
        keys = [h for h in self.store.batch_hashes(info.id) if h in waiting]
        before, enqueued = self._submitted.get(info.id, (0, 1))
        refused = before + 1
        if refused < self.limits.queue_refusals:
            # refused beside nothing of ours: the chunk alone is over the real limit, so it goes in halves
            alone = sum(self._tokens[k] for k in keys) // 2 if enqueued == 0 and len(keys) > 1 else None
            by_mode: dict[str, tuple[Variant, list[str]]] = {}  # a profile's chat and completion requests apart
            for key in keys:
                by_mode.setdefault(waiting[key][0].mode, (waiting[key][0], []))[1].append(key)
            for variant, group in by_mode.values():
                self._queue(variant, group, refused, alone)
            return
        reason = f"batch {info.id}: {info.errors or QUEUE_FULL} (refused {refused} times; resume to try again)"
        for key in keys:
            variant, _, items = waiting.pop(key)
            for item in items:
                await ctx.queue.put(self._failed(ctx, variant, item, key, reason))

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
        again: dict[str, tuple[Variant, list[str]]] = {}  # an expired batch's unanswered requests, to send again
        for key in self.store.batch_hashes(info.id):
            if key not in waiting:
                continue  # answered before a restart, or not this run's any more
            missing = default if info.status != "completed" else "missing from the batch output"
            answer, reason = results.get(key, (None, EXPIRED if info.status == "expired" else missing))
            if reason == EXPIRED and key not in self._expired_once:
                self._expired_once.add(key)
                variant = waiting[key][0]
                again.setdefault(f"{variant.profile.name}\t{variant.mode}", (variant, []))[1].append(key)
                continue
            variant, request, items = waiting.pop(key)
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
        for variant, keys in again.values():
            self._queue(variant, keys)
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
