"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol.

For tests and benchmarks: configurable latency, fault injection (429 with Retry-After,
500/503, hanging requests, malformed JSON, connections dropped mid-body), its own RPM
limit, scripted answers, and counters at ``GET /stats``:
``received``, ``succeeded``, ``duplicates`` (successful answers to a request identical
to an earlier successfully answered one), ``rpm_violations``, ``faults``, ``max_in_flight``.

    python -m tests.servers.openai --port P [--latency S] [--fault-rate F] [--rpm N]
        [--answer gold|wrong|model] [--dataset DIR] [--require-key KEY]

``record_requests`` (a config field) keeps every chat request's JSON body, in the order they
arrived, in ``requests`` (for tests of the order a run asks in).

``embedding_faults`` (a config field) scripts faults for the first ``/v1/embeddings`` requests;
``injections`` (or ``inject``) fault any route, chat or platform, for a number of requests or a
while (``faults.Injection``; the kinds, with the real service's error bodies, are in ``faults``).

``--require-key`` answers every API call (chat and platform) presenting another key with a
401 that echoes the presented key, as some gateways do.

Answers: ``gold`` returns the gold SQL of the dataset question found in the prompt,
``wrong`` returns a query that is never right, ``model`` lets the request's model name
("gold" or "wrong", or a name ending in "-gold"/"-wrong") decide.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.servers.faults import Injection, error_body, fault_response, rate_limit_headers, refused_param
from tests.servers.platform import PlatformAPI, PlatformConfig

FAULT_KINDS = ("429", "500", "503", "hang", "malformed", "drop")  # drawn at --fault-rate (faults.py has more)
WRONG_SQL = "SELECT 'no such answer' FROM sqlite_master WHERE 1 = 0"
_QUESTION_LINE = re.compile(r"^Question:\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class ServerConfig:
    latency_s: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    rpm: int | None = None
    window_s: float = 60.0
    answer: str = "gold"
    retry_after_s: float = 0.05
    hang_s: float = 3.0
    seed: int = 1234
    answers: dict[str, str] = field(default_factory=dict)  # question -> SQL
    require_key: str | None = None  # other keys get a 401 that echoes them back
    embedding_faults: tuple[str, ...] = ()  # the first embeddings requests get these faults, in order
    platform: PlatformConfig = field(default_factory=PlatformConfig)  # files, fine-tuning, batches
    injections: list[Injection] = field(default_factory=list)  # faults on any route (see faults.py)
    record_requests: bool = False  # keep every chat request's body, in arrival order, in ``requests``


@dataclass
class ServerStats:
    received: int = 0
    succeeded: int = 0
    duplicates: int = 0
    rpm_violations: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)  # request fingerprint -> successes

    def to_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "succeeded": self.succeeded,
            "duplicates": self.duplicates,
            "rpm_violations": self.rpm_violations,
            "max_in_flight": self.max_in_flight,
            "faults": dict(self.faults),
        }


def load_answers(dataset: Path) -> dict[str, str]:
    """Question text -> gold SQL for every question file in a Spider-format (or BIRD) folder."""
    answers: dict[str, str] = {}
    for path in sorted(dataset.glob("*.json")):
        if path.name == "tables.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):
            answers.update(
                {
                    d["question"]: d.get("query", d.get("SQL", ""))
                    for d in data
                    if isinstance(d, dict) and "question" in d
                }
            )  # Spider's "query", BIRD's "SQL"
    return answers


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class OpenAITestServer:
    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.stats = ServerStats()
        self.rng = random.Random(self.config.seed)
        self.arrivals: deque[float] = deque()
        self.embedding_faults = deque(self.config.embedding_faults)
        self.last_request: dict[str, dict[str, str]] = {}
        self.requests: list[dict[str, Any]] = []  # chat request bodies in arrival order, with ``record_requests``
        self.injections = self.config.injections
        self.app = web.Application(middlewares=[self._check_key, self._injected])
        self.app.router.add_post("/v1/chat/completions", self.chat)
        self.app.router.add_get("/v1/models", self.models)
        self.app.router.add_post("/v1/embeddings", self.embeddings)
        self.app.router.add_get("/stats", self.get_stats)
        self.platform = PlatformAPI(self, self.config.platform)
        self.platform.attach(self.app)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------
    async def start(self, port: int = 0) -> int:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # a cluster-sized client connects 1,024 at once
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- handlers -----------------------------------------------------------
    @web.middleware
    async def _check_key(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """With ``require_key``: a 401 for any other key, echoing it as some gateways do."""
        wanted = self.config.require_key
        if wanted is None or not request.path.startswith("/v1/"):
            return await handler(request)
        presented = request.headers.get("api-key") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if presented == wanted:
            return await handler(request)
        self.stats.received += 1
        self.stats.faults["401"] += 1
        message = f"Incorrect API key provided: {presented}. Header was: Authorization: Bearer {presented}"
        return web.json_response(error_body(message, "invalid_request_error", None, "invalid_api_key"), status=401)

    @web.middleware
    async def _injected(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The first injection matching the request that fires answers it with its fault."""
        for injection in self.injections:
            if injection.matches(request) and injection.fires():
                if injection.kind == "lost_reply":  # the request is carried out; its answer never arrives
                    await handler(request)
                    return await self._fault(request, "drop")
                return await self._fault(request, injection.kind)
        return await handler(request)

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "tests"} for m in ("gold", "wrong", "test-model")],
            }
        )

    async def embeddings(self, request: web.Request) -> web.Response:
        """Deterministic bag-of-words vectors: texts that share words are close."""
        self.stats.received += 1
        if self.embedding_faults:
            return await self._fault(request, self.embedding_faults.popleft())
        body = await request.json()
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = []
        for k, text in enumerate(inputs):
            vector = [0.0] * 64
            for word in re.findall(r"[a-z0-9]+", str(text).lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
            data.append({"object": "embedding", "index": k, "embedding": vector})
        self.stats.succeeded += 1
        usage = {"prompt_tokens": sum(len(str(t)) // 4 + 1 for t in inputs)}
        usage["total_tokens"] = usage["prompt_tokens"]
        return web.json_response({"object": "list", "data": data, "model": body.get("model"), "usage": usage})

    async def get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.to_json() | {"platform": self.platform.stats()})

    def _over_rpm(self, now: float) -> bool:
        if self.config.rpm is None:
            return False
        while self.arrivals and self.arrivals[0] <= now - self.config.window_s:
            self.arrivals.popleft()
        if len(self.arrivals) >= self.config.rpm:
            return True
        self.arrivals.append(now)
        return False

    def answer_for(self, body: dict[str, Any]) -> str:
        mode = self.config.answer
        if mode == "model":
            model = str(body.get("model", ""))
            mode = "wrong" if model == "wrong" or model.endswith("-wrong") else "gold"
            if model.startswith("ft:"):
                mode = "gold"  # a fine-tuned model (tests/servers/platform.py) learned its lesson
        if mode == "wrong":
            return WRONG_SQL
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if isinstance(m, dict))
        for question in reversed(_QUESTION_LINE.findall(text)):
            if question in self.config.answers:
                return self.config.answers[question]
        for question, sql in self.config.answers.items():
            if question and question in text:
                return sql
        return WRONG_SQL

    async def chat(self, request: web.Request) -> web.StreamResponse:
        self.last_request = {"query": dict(request.query), "headers": dict(request.headers)}
        stats = self.stats
        stats.received += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            return await self._chat(request)
        finally:
            stats.in_flight -= 1

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self._over_rpm(time.monotonic()):
            self.stats.rpm_violations += 1
            body = error_body("rate limit exceeded", "requests", None, "rate_limit_exceeded")
            return web.json_response(body, status=429, headers=rate_limit_headers(self.config.window_s))
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response(
                {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}}, status=400
            )
        if self.config.record_requests:
            self.requests.append(body)
        refused = refused_param(body)
        if refused is not None:
            return refused
        if self.config.latency_s:
            await asyncio.sleep(self.config.latency_s)
        if self.config.fault_rate and self.rng.random() < self.config.fault_rate:
            return await self._fault(request, self.rng.choice(self.config.faults))
        content = self.answer_for(body)
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4 + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        key = fingerprint(body)
        if body.get("stream"):
            response = await self._stream(request, body, content, usage)
        else:
            response = web.json_response(
                {
                    "id": f"chatcmpl-{self.stats.received}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "test-model"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                    ],
                    "usage": usage,
                }
            )
        self.stats.succeeded += 1
        if self.stats.answered[key]:
            self.stats.duplicates += 1
        self.stats.answered[key] += 1
        return response

    async def _stream(
        self, request: web.Request, body: dict[str, Any], content: str, usage: dict[str, int]
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
        }
        pieces = [content[i : i + 16] for i in range(0, len(content), 16)] or [""]
        for k, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if k == 0 else {"content": piece}
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await resp.write(f"data: {json.dumps(final)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            await resp.write(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _fault(self, request: web.Request, kind: str) -> web.StreamResponse:
        self.stats.faults[kind] += 1
        return await fault_response(request, kind, self.config.retry_after_s, self.config.hang_s)

    def inject(self, injection: Injection) -> Injection:
        """Fault the requests ``injection`` matches from now on (see ``faults.Injection``)."""
        self.injections.append(injection)
        return injection


class ServerThread:
    """Runs a test server on its own event loop in a background thread (for tests)."""

    def __init__(self, config: ServerConfig | None = None) -> None:
        self.server = OpenAITestServer(config)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="openai-test-server", daemon=True)

    def __enter__(self) -> OpenAITestServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--faults", default=",".join(FAULT_KINDS), help="comma-separated fault kinds to draw from")
    ap.add_argument("--rpm", type=int, default=None)
    ap.add_argument("--window", type=float, default=60.0, help="the RPM window in seconds")
    ap.add_argument("--answer", choices=("gold", "wrong", "model"), default="gold")
    ap.add_argument("--dataset", type=Path, help="Spider-format folder whose gold SQL answers its questions")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--require-key", help="answer other keys with a 401 that echoes them")
    ap.add_argument("--phase-s", type=float, default=0.05, help="seconds per fine-tuning job / batch phase")
    ap.add_argument("--batch-fail-every", type=int, default=0, help="every Nth batch request fails (0: none)")
    ap.add_argument("--batch-queue-tokens", type=int, default=None, help="the enqueued-token limit (default none)")
    args = ap.parse_args()
    config = ServerConfig(
        latency_s=args.latency,
        fault_rate=args.fault_rate,
        faults=tuple(args.faults.split(",")),
        rpm=args.rpm,
        window_s=args.window,
        answer=args.answer,
        seed=args.seed,
        require_key=args.require_key,
        answers=load_answers(args.dataset) if args.dataset else {},
        platform=PlatformConfig(
            phase_s=args.phase_s, batch_fail_every=args.batch_fail_every, queue_tokens=args.batch_queue_tokens
        ),
    )
    server = OpenAITestServer(config)

    async def serve() -> None:
        port = await server.start(args.port)
        print(f"listening on http://127.0.0.1:{port}/v1", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
