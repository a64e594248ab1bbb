"""Run variants over a dataset split and stream typed events.

A run is a pure function of its inputs plus the store: every answer and every score is
written as it arrives, so a run killed at any moment continues with ``resume=True``;
pairs already scored are skipped and answers already stored are never requested again.
Failed items (after the client's retries) are recorded with their reason and tried
again on resume. Rate-limited endpoints log each attempt's send time in the store too, and
the RPM/TPM windows count what others logged there: a resumed run continues where the
killed one left its windows. A profile that reuses the prompt prefix (the local model) gets
its items in shared-prefix order and its variants one after another (``ask_order``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from workbench.core.data.dataset import Dataset, Item
from workbench.core.endpoints.client import ChatRequest, Completion, EndpointClient, RequestFailed
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.endpoints.sendlog import SendLog
from workbench.core.prompts.context import ContextBuilder
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.runs.ask_order import in_turn, to_ask
from workbench.core.runs.collector import run_collector
from workbench.core.runs.events import Event, ItemFailed, ItemScored, RequestSent, RunFinished, RunStarted
from workbench.core.sandbox import lifeline
from workbench.core.sandbox.bounded_pool import BoundedPool, WorkerKilled
from workbench.core.sandbox.watchdog import ExecLimits
from workbench.core.scoring.extract import extract_sql
from workbench.core.scoring.scorer import Verdict, killed_verdict, score_one, with_given_hardness
from workbench.core.store import LIVE_STATES, ScoreRow, Store, StoreError


@dataclass(frozen=True)
class Variant:
    """What a run executes for one variant; made by ``variant_builder.build_variants`` from a ``VariantSpec``."""

    name: str
    profile: EndpointProfile
    context: ContextBuilder  # the template, retrieval and schema linking of every prompt
    params: dict[str, Any] = field(default_factory=dict)
    mode: str = "chat"  # or "completion": the context renders one message holding the whole prompt
    answer_prefix: str = ""  # text the prompt ends with that belongs to the answer (e.g. "SELECT")

    def messages(self, item: Item, draft: str | None = None) -> list[dict[str, str]]:
        return self.context.build(item, draft).messages

    @property
    def retrieval(self) -> str:
        return self.context.retrieval

    @property
    def prompt_version(self) -> int | None:
        return self.context.template_version

    @property
    def request_params(self) -> dict[str, Any]:
        return {**self.profile.params, **self.params}


def scoring_pool(workers: int | None = None, limits: ExecLimits | None = None) -> BoundedPool:
    """Worker processes for execution and scoring, each statement bounded in time and memory from outside.

    Forkserver: safe beside threads. The workers and the forkserver end with this process,
    even when it is SIGKILLed.
    """
    return BoundedPool(workers or os.cpu_count() or 1, limits, context="forkserver")


@dataclass
class _RunContext:
    """What every worker of one run shares."""

    run_id: int
    variant_ids: dict[str, int]
    pool: Executor
    queue: asyncio.Queue[Event | None]
    clients: dict[str, EndpointClient] = field(default_factory=dict)


class Runner:
    def __init__(
        self,
        store: Store,
        dataset: Dataset,
        split: str,
        variants: list[Variant],
        run_name: str,
        limit: int | None = None,
        resume: bool = False,
        executor: Executor | None = None,
        api_keys: dict[str, str] | None = None,
        exec_limits: ExecLimits | None = None,
        again: Collection[int] = (),
    ) -> None:
        """``again``: item indices to ask once more, past the response cache, replacing their rows in the
        (existing) run; nothing else is asked, and the run keeps its state unless that makes it complete."""
        if not variants:
            raise ValueError("a run needs at least one variant")
        if len({v.name for v in variants}) != len(variants):
            raise ValueError("variant names must be unique within a run")
        self.store = store
        self.dataset = dataset
        self.split_name = split
        self.variants = variants
        self.run_name = run_name
        self.limit = limit
        self.resume = resume
        self.executor = executor
        self.exec_limits = exec_limits  # for the run's own pool (an ``executor`` given has its own)
        self.again = frozenset(again)
        self.api_keys = api_keys or {}
        self._cancel = asyncio.Event()
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._checked = False

    def cancel(self) -> None:
        """Stop sending; requests in flight are abandoned and nothing half-done is recorded."""
        self._cancel.set()
        self._unpaused.set()  # paused workers wake up to see the cancel

    def pause(self) -> None:
        """Send nothing new; requests in flight finish and are scored."""
        self._unpaused.clear()

    def unpause(self) -> None:
        self._unpaused.set()

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    # --- setup ------------------------------------------------------------------
    def preflight(self) -> None:
        """Render every variant's prompts for the first question, sending nothing.

        A template that cannot render (an error, or a bound it passes) raises ``TemplateProblem``
        here, so the run is refused before it exists instead of failing once it has started.
        """
        if self._checked:
            return
        items = self.dataset.load_split(self.split_name).items
        if items:
            item = items[0]
            for v in self.variants:
                if v.context.needs_draft:
                    v.context.draft_messages(item)
                v.messages(item)
        self._checked = True

    def _open_run(self) -> tuple[int, dict[str, int]]:
        dataset_id = self.store.dataset_id(self.dataset.identity[0], self.dataset.name)
        ids = {
            v.name: self.store.variant_id(
                v.name, v.profile.endpoint_id, v.profile.model, v.request_params, v.retrieval, v.prompt_version
            )
            for v in self.variants
        }
        if not self.resume:
            return self.store.create_run(
                self.run_name, dataset_id, self.split_name, self.limit, list(ids.values()), self.dataset.identity[1]
            ), ids
        run = self.store.run(self.run_name)
        if run.state in LIVE_STATES and run.owner != lifeline.identity():
            pid = (run.owner or "?").split(":", 1)[0]
            raise StoreError(f"run {self.run_name!r} is still {run.state} in process {pid}; stop that one first")
        root, questions = self.dataset.identity
        here = (root, self.split_name, questions)
        if (run.dataset_root, run.split, run.questions) != here:
            was = " / ".join(p for p in (run.dataset_root, run.split, run.questions) if p)
            raise StoreError(f"run {self.run_name!r} was on {was}, not {' / '.join(p for p in here if p)}")
        theirs = set(self.store.variant_names(run.id))
        if (not set(ids.values()) <= theirs) if self.again else theirs != set(ids.values()):  # again: some of them
            raise StoreError(
                f"run {self.run_name!r} has other variants: {', '.join(self.store.variant_names(run.id).values())}"
            )
        self.store.set_state(run.id, "running")
        return run.id, ids

    # --- the run ----------------------------------------------------------------
    async def events(self) -> AsyncIterator[Event]:
        await asyncio.to_thread(self.preflight)  # its first render fits retrievers: seconds the loop must not stall
        split = await asyncio.to_thread(self.dataset.load_split, self.split_name)  # 100,000 items: 0.4 s
        items = split.items[: self.limit] if self.limit else split.items
        previous = self.store.run(self.run_name).state if self.again else ""
        run_id, ids = self._open_run()
        todo = await asyncio.to_thread(self._to_ask, items, ids, self.store.done_items(run_id))
        total = len(items) * len(self.variants)
        names = [v.name for v in self.variants]
        models = {v.name: v.profile.model for v in self.variants}
        yield RunStarted(run_id, self.run_name, total, total - sum(map(len, todo.values())), names, models)
        pool = self.executor or scoring_pool(limits=self.exec_limits)
        ctx = _RunContext(run_id, ids, pool, asyncio.Queue(maxsize=1024))
        counts = {ItemScored: 0, ItemFailed: 0}
        state = "interrupted"
        work: asyncio.Task[None] | None = None
        try:
            for v in self.variants:
                if v.profile.name not in ctx.clients:
                    key = self.api_keys.get(v.profile.name)
                    # built in a thread: the SDK loads TLS certificates (tens of ms) and the loop must not stall
                    client = await asyncio.to_thread(EndpointClient, v.profile, key, None, SendLog(self.store))
                    ctx.clients[v.profile.name] = client
            work = asyncio.create_task(self._work(ctx, todo))
            while (event := await ctx.queue.get()) is not None:
                if type(event) in counts:
                    counts[type(event)] += 1
                yield event
            await work  # re-raise a crash of the work itself
            state = "cancelled" if self._cancel.is_set() else "completed"
            whole = len(items) * len(self.store.variant_names(run_id))  # every variant of the run, not only these
            if self.again and state == "completed" and len(self.store.done_items(run_id)) < whole:
                state = previous  # asked again within an unfinished run: it stays as it was
        finally:
            if work is not None and not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            for client in ctx.clients.values():
                await client.aclose()
            if self.executor is None:
                ctx.pool.shutdown(wait=False, cancel_futures=True)
            await self.store.finish_run(run_id, state, self.dataset.hardness_levels)
        yield RunFinished(run_id, state, counts[ItemScored], counts[ItemFailed])

    def _to_ask(self, items: list[Item], ids: dict[str, int], done: set[tuple[int, int]]) -> dict[str, list[Item]]:
        """Each variant's items still to ask, in its profile's order (shared prefixes one after another)."""
        out = {}
        for v in self.variants:
            skip = {i.index for i in items} - self.again if self.again else {i for n, i in done if n == ids[v.name]}
            out[v.name] = to_ask(items, skip, v.context.prefix_path if v.profile.reuses_prompt_prefix else None)
        return out

    async def _work(self, ctx: _RunContext, todo: dict[str, list[Item]]) -> None:
        workers = asyncio.create_task(self._run_workers(ctx, todo))
        cancelled = asyncio.create_task(self._cancel.wait())
        try:
            await asyncio.wait({workers, cancelled}, return_when=asyncio.FIRST_COMPLETED)
            if not workers.done():
                workers.cancel()  # the task group cancels every worker and waits for them
            await asyncio.gather(workers, return_exceptions=self._cancel.is_set())
        finally:
            for task in (workers, cancelled):
                task.cancel()
            await asyncio.gather(workers, cancelled, return_exceptions=True)
            await ctx.queue.put(None)

    async def _run_workers(self, ctx: _RunContext, todo: dict[str, list[Item]]) -> None:
        lanes = in_turn(self.variants, lambda v: v.profile.base_url if v.profile.reuses_prompt_prefix else None)
        with run_collector(sum({v.profile.name: v.profile.concurrency for v in self.variants}.values())):
            async with asyncio.TaskGroup() as group:
                for lane in lanes:
                    group.create_task(self._run_in_turn(ctx, lane, todo))

    async def _run_in_turn(self, ctx: _RunContext, variants: list[Variant], todo: dict[str, list[Item]]) -> None:
        for v in variants:  # one after another: a server reusing the prompt prefix gets one template at a time
            source = iter(todo[v.name])
            async with asyncio.TaskGroup() as group:
                for _ in range(min(v.profile.concurrency, len(todo[v.name]))):
                    group.create_task(self._worker(ctx, v, source))

    async def _worker(self, ctx: _RunContext, variant: Variant, source: Iterator[Item]) -> None:
        for item in source:
            await self._unpaused.wait()
            if self._cancel.is_set():
                return
            await ctx.queue.put(await self._process(ctx, variant, item))

    async def _process(self, ctx: _RunContext, variant: Variant, item: Item) -> Event:
        draft = None
        if variant.context.needs_draft:
            # HyDE: ask for a draft first, retrieve examples whose SQL looks like it, then ask again
            first = await self._render(ctx, variant, item, variant.context.draft_messages)
            drafted = first if isinstance(first, ItemFailed) else await self._answer(ctx, variant, item, first)
            if isinstance(drafted, ItemFailed):
                return drafted
            draft = extract_sql(_join_prefix(variant.answer_prefix, drafted[0].text), self.dataset.engine).sql
        prompt = await self._render(ctx, variant, item, lambda i: variant.messages(i, draft))
        answered = prompt if isinstance(prompt, ItemFailed) else await self._answer(ctx, variant, item, prompt)
        if isinstance(answered, ItemFailed):
            return answered
        answer, key, cached = answered
        return await self._score(ctx, variant, item, key, answer, cached=cached)

    async def _answer(
        self, ctx: _RunContext, variant: Variant, item: Item, messages: list[dict[str, str]]
    ) -> tuple[Completion, str, bool] | ItemFailed:
        """The stored answer to these messages, or a fresh one (recorded), or the failure (recorded)."""
        request = ChatRequest(tuple(messages), variant.request_params, variant.mode)
        key = request.fingerprint(variant.profile)
        cached = None if item.index in self.again else self._cached(variant, key)
        if cached is not None:
            return cached, key, True
        await ctx.queue.put(RequestSent(variant.name, item.index))
        outcome = await self._ask(ctx, variant, request, key)
        if isinstance(outcome, RequestFailed):
            return self._failed(ctx, variant, item, key, str(outcome))
        return outcome, key, False

    async def _render(
        self, ctx: _RunContext, variant: Variant, item: Item, render: Callable[[Item], list[dict[str, str]]]
    ) -> list[dict[str, str]] | ItemFailed:
        """The prompt for ``item``, or the failure recorded (its template fails on this question).

        Rendered in a worker thread: building a context may fit a retriever or wait for an
        embeddings endpoint, and the event loop must stay free for the run and the GUI.
        """
        try:
            return await asyncio.to_thread(render, item)
        except TemplateProblem as exc:
            return self._failed(ctx, variant, item, "", f"template {exc}")

    def _cached(self, variant: Variant, key: str) -> Completion | None:
        row = self.store.cached_response(key)
        if row is None:
            return None
        text, p_tok, c_tok, latency_ms = row
        return Completion(text, p_tok or 0, c_tok or 0, (latency_ms or 0.0) / 1000, 0, variant.profile.model)

    def _failed(self, ctx: _RunContext, variant: Variant, item: Item, key: str, reason: str) -> ItemFailed:
        """Record that ``item`` got no answer (it is tried again on resume)."""
        row = ScoreRow(variant_id=ctx.variant_ids[variant.name], item_index=item.index, db_id=item.db_id,
                       status="failed", reason=reason, request_hash=key)  # fmt: skip
        self.store.save_score(ctx.run_id, row)
        return ItemFailed(variant=variant.name, row=row)

    async def _ask(
        self, ctx: _RunContext, variant: Variant, request: ChatRequest, key: str
    ) -> Completion | RequestFailed:
        """Send the request and record its outcome (an answer, or the reason there is none)."""
        profile = variant.profile
        try:
            answer = await ctx.clients[profile.name].complete(request, key)
        except RequestFailed as exc:
            outcome: Completion | RequestFailed = exc
            record = {"ok": False, "text": None, "attempts": exc.attempts, "error": str(exc)}
        else:
            outcome = answer
            useful = bool(answer.text.strip())  # only non-empty answers are served from the cache
            record = {
                "ok": useful,
                "text": answer.text,
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
                "latency_ms": answer.latency_s * 1000,
                "attempts": answer.attempts,
                "error": None if useful else "empty answer",
            }
        self.store.save_response(key, profile.base_url, profile.model, list(request.messages), request.params, **record)  # type: ignore[arg-type]
        return outcome

    async def _score(
        self, ctx: _RunContext, variant: Variant, item: Item, key: str, answer: Completion, cached: bool
    ) -> Event:
        extraction = extract_sql(_join_prefix(variant.answer_prefix, answer.text), self.dataset.engine)
        loop = asyncio.get_running_loop()
        root, privileged = self.dataset.location, self.dataset.allow_privileged_role
        try:
            verdict: Verdict = await loop.run_in_executor(
                ctx.pool, score_one, root, item.db_id, item.index, item.query, extraction.sql, privileged
            )
        except WorkerKilled as killed:  # a statement passed a bound: its worker was stopped and replaced
            verdict = await asyncio.to_thread(
                killed_verdict, root, item.db_id, item.index, item.query, killed, privileged
            )
        verdict = with_given_hardness(verdict, item)
        reason = verdict.reason if extraction.found else f"no SQL found in the answer; {verdict.reason}"
        cost = 0.0 if cached else variant.profile.cost(answer.prompt_tokens, answer.completion_tokens)
        row = ScoreRow(
            variant_id=ctx.variant_ids[variant.name],
            item_index=item.index,
            db_id=item.db_id,
            status=verdict.status,
            reason=reason,
            hardness=verdict.hardness,
            exec_match=verdict.exec_match,
            exact_match=verdict.exact_match,
            ts_match=verdict.ts_match,
            soft_f1=verdict.soft_f1,
            predicted_sql=extraction.sql,
            request_hash=key,
            cost=cost,
            cached=cached,
            latency_ms=answer.latency_s * 1000,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )
        self.store.save_score(ctx.run_id, row)
        return ItemScored(variant=variant.name, model=answer.model, row=row)


def _join_prefix(prefix: str, text: str) -> str:
    if not prefix or not text or text[0].isspace():
        return prefix + text
    return f"{prefix} {text}"
