"""What goes into and comes out of Batch API files: the limits, input lines, chunks, output lines.

An output line (``parse_output``) is read in every documented shape: ``response`` null with
``error`` set, ``response.status_code`` other than 200 with an error body, and ``body`` an
object or the same JSON as text; a body that is text but not JSON fails its request with
that reason (a resume sends it again). Error lines with code ``batch_expired`` read as
``EXPIRED``: the runner sends those again rather than failing them at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.endpoints.client import ChatRequest, Completion

if TYPE_CHECKING:
    from workbench.core.runs.runner import Variant

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
ENDPOINTS = {"chat": "/v1/chat/completions", "completion": "/v1/completions"}
EXPIRED = "batch: not answered before the batch expired"  # an error line's reason for code batch_expired


@dataclass(frozen=True)
class BatchLimits:
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES
    first_poll_s: float = 5.0
    max_poll_s: float = 60.0
    outage_ceiling_s: float = 60.0  # while the API is down, the longest wait between two tries of a poll
    queue_refusals: int = 10  # token_limit_exceeded refusals of the same requests before they fail


def request_line(key: str, variant: Variant, request: ChatRequest) -> dict[str, Any]:
    """One line of a batch input file: the same body a live request sends."""
    return {"custom_id": key, "method": "POST", "url": ENDPOINTS[request.mode], "body": request.body(variant.profile)}


def chunks(
    lines: list[bytes], limits: BatchLimits, tokens: list[int] | None = None, max_tokens: int | None = None
) -> Iterator[list[bytes]]:
    """Consecutive groups within the limits and ``max_tokens`` of ``tokens`` (an oversize line still goes alone)."""
    group: list[bytes] = []
    size = held = 0
    for k, line in enumerate(lines):
        cost = tokens[k] if tokens else 0
        over_tokens = max_tokens is not None and held + cost > max_tokens
        if group and (len(group) >= limits.max_requests or size + len(line) > limits.max_bytes or over_tokens):
            yield group
            group, size, held = [], 0, 0
        group.append(line)
        size += len(line)
        held += cost
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
        response = response if isinstance(response, dict) else {}
        body = response.get("body") or {}
        if isinstance(body, str):  # some lines carry the body as JSON text
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                out[key] = (None, f"batch: the answer's body is not JSON ({body[:60]!r})")
                continue
        if not isinstance(body, dict):
            body = {}
        if isinstance(error, dict) and error.get("code") == "batch_expired":
            out[key] = (None, EXPIRED)
            continue
        if error or response.get("status_code") != 200:
            found = error if isinstance(error, dict) else body.get("error")
            detail = (
                found.get("message") if isinstance(found, dict) else None
            ) or f"HTTP {response.get('status_code')}"
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
