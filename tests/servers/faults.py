"""The test server's faults: what each kind answers, and faults injected on any route for a while.

Kinds the client should retry (``RETRIED``): "429" (a rate limit, with ``Retry-After`` and the
real service's ``x-ratelimit-*`` headers), "500", "503", "529" (overloaded), "hang",
"malformed" (half a JSON body), "drop" (a connection closed mid-body). Refusals no retry
changes (``REFUSALS``), each with the real service's error body
``{"error": {"message", "type", "param", "code"}}``: "insufficient_quota" (a 429),
"invalid_api_key" (401), "permission" (403), "model_not_found" (404),
"context_length_exceeded" and "invalid_param" (400). "lost_reply" (injections only) carries
the request out, then drops the connection before the answer: a create whose reply was lost.

An ``Injection`` makes the requests matching ``route`` (a regular expression searched in
"METHOD /path?query", e.g. ``r"GET /v1/batches/"``) answer ``kind``: the first ``times`` of them
(0: no limit), or all of them for ``for_s`` seconds from the first one; ``hits`` counts the
matching requests that reached the server, faulted or not.

``refused_param`` checks a chat body's parameters against its model's family as the real
service does: reasoning models (o1, o3, o4, gpt-5…) refuse ``max_tokens`` and any
temperature or top_p but the default (a 400 naming the ``param``).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

RETRIED = ("429", "500", "503", "529", "hang", "malformed", "drop")
REFUSALS = {  # kind -> (status, type, code, param, message)
    "insufficient_quota": (429, "insufficient_quota", "insufficient_quota", None,
                           "You exceeded your current quota, please check your plan and billing details."),
    "invalid_api_key": (401, "invalid_request_error", "invalid_api_key", None,
                        "Incorrect API key provided: sk-...abcd. You can find your API key at the dashboard."),
    "permission": (403, "invalid_request_error", None, None,
                   "You are not allowed to sample from this model"),
    "model_not_found": (404, "invalid_request_error", "model_not_found", "model",
                        "The model `gpt-nope` does not exist or you do not have access to it."),
    "context_length_exceeded": (400, "invalid_request_error", "context_length_exceeded", "messages",
                                "This model's maximum context length is 128000 tokens. However, your messages "
                                "resulted in 200000 tokens. Please reduce the length of the messages."),
    "invalid_param": (400, "invalid_request_error", "invalid_value", "temperature",
                      "Invalid value for 'temperature': expected a number between 0 and 2."),
}  # fmt: skip


def error_body(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The real service's error shape."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def rate_limit_headers(retry_after_s: float) -> dict[str, str]:
    """What the real service sends with a 429: the wait, and the state of both windows."""
    wait = f"{retry_after_s:g}s"
    return {
        "Retry-After": f"{retry_after_s:g}",
        "retry-after-ms": str(int(retry_after_s * 1000)),
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-limit-tokens": "200000",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-remaining-tokens": "199000",
        "x-ratelimit-reset-requests": wait,
        "x-ratelimit-reset-tokens": "0s",
    }


async def fault_response(request: web.Request, kind: str, retry_after_s: float, hang_s: float) -> web.StreamResponse:
    """The answer (or the lack of one) of a fault of ``kind``."""
    if kind in REFUSALS:
        status, error_type, code, param, message = REFUSALS[kind]
        return web.json_response(error_body(message, error_type, param, code), status=status)
    if kind == "429":
        body = error_body("Rate limit reached for requests", "requests", None, "rate_limit_exceeded")
        return web.json_response(body, status=429, headers=rate_limit_headers(retry_after_s))
    if kind in ("500", "503", "529"):
        message = "Overloaded" if kind == "529" else f"injected {kind}"
        return web.json_response(error_body(message, "server_error"), status=int(kind))
    if kind == "malformed":
        return web.Response(text='{"id": "chatcmpl-x", "choices": [', content_type="application/json")
    if kind == "hang":
        await asyncio.sleep(hang_s)
        if request.transport is None or request.transport.is_closing():
            raise asyncio.CancelledError  # the client gave up; there is no one to answer
    # "drop" (and a hang that outlived the client): promise a body, send part of it, hang up
    resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "4096"})
    await resp.prepare(request)
    await resp.write(b'{"id": "chatcmpl-dropped", "choi')
    if request.transport is not None:
        request.transport.close()
    return resp


_REASONING_MODEL = re.compile(r"^(ft:)?(o1|o3|o4|gpt-5)(?![0-9a-z])")


def refused_param(body: dict[str, Any]) -> web.Response | None:
    """The 400 the real service answers a body whose parameters its model's family refuses; None if it takes them."""
    if not _REASONING_MODEL.match(str(body.get("model", ""))):
        return None
    if "max_tokens" in body:
        message = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens'."
        return web.json_response(error_body(message, "invalid_request_error", "max_tokens", "unsupported_parameter"),
                                 status=400)  # fmt: skip
    for param in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        if param in body and body[param] != (1 if param in ("temperature", "top_p") else 0):
            message = f"Unsupported value: '{param}' does not support {body[param]!r} with this model."
            return web.json_response(error_body(message, "invalid_request_error", param, "unsupported_value"),
                                     status=400)  # fmt: skip
    return None


@dataclass
class Injection:
    route: str  # a regular expression searched in "METHOD /path?query"
    kind: str
    times: int = 0  # fault the first this many matching requests (0: no limit)
    for_s: float = 0.0  # or: fault every matching request for this long after the first
    hits: int = 0  # matching requests seen
    faulted: int = 0
    _since: float | None = None

    def matches(self, request: web.Request) -> bool:
        return re.search(self.route, f"{request.method} {request.path_qs}") is not None

    def fires(self) -> bool:
        """Count a matching request; whether it gets the fault."""
        self.hits += 1
        now = time.monotonic()
        if self._since is None:
            self._since = now
        within = now - self._since < self.for_s
        active = within if self.for_s else self.times == 0 or self.faulted < self.times
        self.faulted += active
        return active
