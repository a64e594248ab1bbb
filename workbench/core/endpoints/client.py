"""Async client for OpenAI-compatible chat endpoints (OpenAI, vLLM, llama.cpp, Azure-style).

Built on the SDK from ``connection.open_sdk`` and retried by ``connection.call_with_retries``
(429, 5xx, timeouts, dropped connections, unreadable answers, with backoff that honours the
server's headers). Per profile it enforces bounded (adaptive) concurrency and RPM/TPM windows
shared by everything in the process that uses the profile (each attempt waits for them: the
loop's ``Pacing``), and shares one call between identical concurrent requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from workbench.core import secrets
from workbench.core.endpoints.connection import (
    AttemptsExhausted,
    Failure,
    UnreadableAnswer,
    call_with_retries,
    open_sdk,
)
from workbench.core.endpoints.pacing import AdaptiveConcurrency, SlidingWindowLimiter
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.endpoints.sendlog import Budget, SendLog
from workbench.core.sandbox import lifeline

RATE_WINDOW_S = 60.0  # what a profile's rpm and tpm are per


@dataclass(frozen=True)
class ChatRequest:
    """Chat messages, or (mode "completion") one plain prompt in a single message."""

    messages: tuple[dict[str, str], ...]
    params: dict[str, Any]
    mode: str = "chat"

    def fingerprint(self, profile: EndpointProfile) -> str:
        """Identity of the request: endpoint, model, full messages, parameters as sent (and mode)."""
        body: dict[str, Any] = {
            "endpoint": profile.endpoint_id,
            "model": profile.model,
            "messages": list(self.messages),
            "params": self.sent_params(profile),
        }
        if self.mode != "chat":
            body["mode"] = self.mode
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def sent_params(self, profile: EndpointProfile) -> dict[str, Any]:
        """The parameters as ``profile``'s model takes them (its family's): what the request body carries."""
        return profile.accepted_params(self.params)

    def body(self, profile: EndpointProfile) -> dict[str, Any]:
        """The JSON body of the request to ``profile`` (chat, or completion with one plain prompt)."""
        params = self.sent_params(profile)
        if self.mode == "completion":
            return {"model": profile.model, "prompt": self.messages[0]["content"], **params}
        return {"model": profile.model, "messages": list(self.messages), **params}

    def estimated_tokens(self) -> int:
        prompt = sum(len(m.get("content", "")) for m in self.messages) // 4 + 1
        return prompt + int(self.params.get("max_tokens") or self.params.get("max_completion_tokens") or 256)


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    model: str


class RequestFailed(Exception):
    """A request that did not succeed within its attempts; ``kind`` names the last failure."""

    def __init__(self, kind: str, message: str, attempts: int) -> None:
        plural = "s" if attempts != 1 else ""
        super().__init__(secrets.mask(f"{kind}: {message} (after {attempts} attempt{plural})"))
        self.kind = kind
        self.attempts = attempts


class _ProfileLimits:
    """A profile's concurrency and rate windows in this process.

    The windows also count what others sharing the store sent (``sends``, the send log of
    the store of the clients using them), asked again at every check.
    """

    def __init__(self, profile: EndpointProfile) -> None:
        self.concurrency = AdaptiveConcurrency(profile.concurrency)
        self.window_key = f"{profile.name} {profile.endpoint_id}"
        self.owner = f"{lifeline.identity()}/{os.urandom(4).hex()}"  # these windows, in the send log
        self.sends: SendLog | None = None
        self.rpm = self._window(profile.rpm, tokens=False) if profile.rpm else None
        self.tpm = self._window(profile.tpm, tokens=True) if profile.tpm else None

    def _window(self, limit: int, tokens: bool) -> SlidingWindowLimiter:
        def others() -> list[tuple[float, float]]:
            if self.sends is None:
                return []
            offset = time.monotonic() - time.time()  # the store keeps wall-clock times
            logged = self.sends.recent(self.window_key, RATE_WINDOW_S, exclude=self.owner)
            return [(s.at + offset, float(s.tokens) if tokens else 1.0) for s in logged]

        return SlidingWindowLimiter(limit, window_s=RATE_WINDOW_S, others=others)


_LIMITS: dict[tuple[int, str], _ProfileLimits] = {}


def limits_for(profile: EndpointProfile) -> _ProfileLimits:
    """One set of limits per profile per event loop, shared by every run using it."""
    key = (id(asyncio.get_running_loop()), profile.name)
    if key not in _LIMITS:
        _LIMITS[key] = _ProfileLimits(profile)
    return _LIMITS[key]


class EndpointClient:
    def __init__(
        self,
        profile: EndpointProfile,
        api_key: str | None = None,
        seed: int | None = None,
        sends: SendLog | None = None,
    ) -> None:
        """``sends``: the store's send log, which a rate-limited profile's windows start from and write to."""
        self.profile = profile
        self.sends = sends
        self._sdk = open_sdk(profile, api_key, lean=True)
        self._rng = random.Random(seed)
        self._inflight: dict[str, asyncio.Future[Completion]] = {}

    async def aclose(self) -> None:
        await self._sdk.close()

    async def __aenter__(self) -> EndpointClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(self, request: ChatRequest, key: str | None = None) -> Completion:
        """Send ``request`` (or join an identical one in flight); raise RequestFailed."""
        key = key or request.fingerprint(self.profile)  # callers that already hashed it pass it in
        shared = self._inflight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._with_retries(request)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc if isinstance(exc, RequestFailed) else asyncio.CancelledError())
                future.exception()  # mark retrieved: a lone caller must not leave a warning behind
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def _with_retries(self, request: ChatRequest) -> Completion:
        limits = limits_for(self.profile)
        logged = self.sends if limits.rpm or limits.tpm else None
        if logged is not None:
            limits.sends = logged
        pacing = _RequestPacing(self.profile, limits, logged, request.estimated_tokens())
        try:
            return await call_with_retries(
                lambda attempt: self._attempt(request, attempt),
                self.profile.max_attempts,
                self.profile.timeout_s,
                self._rng,
                pacing,
            )
        except AttemptsExhausted as exc:
            raise RequestFailed(exc.failure.kind, exc.failure.message, exc.attempts) from None

    async def _attempt(self, request: ChatRequest, attempt: int) -> Completion:
        import httpx
        import openai

        start = time.perf_counter()
        try:  # the SDK's own errors (status, timeout, connection) go to the retry loop as they are
            # The SDK's documented low-level call: same auth, base URL, headers, timeouts and
            # status errors, without its per-request TypedDict transform and typed parse,
            # which cost more CPU than everything else on the path (see bench/client_throughput.py).
            # The body goes as bytes, serialised once here: the SDK then sends it as it is rather
            # than deep-copying the messages into its options and encoding them itself.
            body = json.dumps(request.body(self.profile), ensure_ascii=False).encode()
            path = "/completions" if request.mode == "completion" else "/chat/completions"
            response = await self._sdk.post(path, cast_to=httpx.Response, content=body)
            data = json.loads(response.content)
            choice = data["choices"][0]
            text = (choice.get("text") if request.mode == "completion" else choice["message"].get("content")) or ""
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, openai.APIResponseValidationError) as exc:
            raise UnreadableAnswer(f"{type(exc).__name__}: {exc}") from None
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_s=time.perf_counter() - start,
            attempts=attempt,
            model=str(data.get("model") or self.profile.model),
        )


class _RequestPacing:
    """One request's way through its profile's limits, at every attempt: a concurrency slot, the
    RPM/TPM windows and (for a rate-limited profile) a place in the store's send log."""

    def __init__(self, profile: EndpointProfile, limits: _ProfileLimits, logged: SendLog | None, tokens: int) -> None:
        self.profile = profile
        self.limits = limits
        self.logged = logged
        self.tokens = tokens

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        if not (self.limits.rpm or self.limits.tpm or self.logged is not None):
            return self.limits.concurrency  # the gate alone: no windows to enter, no log to write
        return self._windowed_slot()

    @contextlib.asynccontextmanager
    async def _windowed_slot(self) -> AsyncIterator[None]:
        limits, logged = self.limits, self.logged
        async with limits.concurrency, contextlib.AsyncExitStack() as budget:
            if limits.rpm:
                await budget.enter_async_context(limits.rpm.slot())
            if limits.tpm:
                await budget.enter_async_context(limits.tpm.slot(self.tokens))
            if logged is not None:
                sent = await self._claim(logged)
                budget.callback(logged.finished, sent)  # before the windows' own release: same moment
            yield

    def answered(self, failure: Failure | None) -> None:
        if failure is None:
            self.limits.concurrency.succeeded()
        elif failure.throttled:  # a quota refusal is final: no reason to slow the others down
            self.limits.concurrency.throttled()

    async def _claim(self, logged: SendLog) -> int:
        """Take a place in the store's send log; another process may have taken the last one first."""
        limits = self.limits
        window = limits.rpm or limits.tpm
        margin = window.margin_s if window is not None else 0.0
        budget = Budget(self.profile.rpm or None, self.profile.tpm or None, RATE_WINDOW_S, margin)
        while True:
            sent, wait = logged.claim(limits.window_key, limits.owner, self.tokens, self.profile.timeout_s, budget)
            if sent is not None:
                return sent
            await asyncio.sleep(wait)
