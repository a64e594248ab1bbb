"""Test connection: is the endpoint reachable, what HTTP status does it give, is the model listed, does it answer?

Each step is tried even when an earlier one fails where that still tells the user something:
the URL is tried without a key (a missing key is reported beside what the server said), and
every failure is said in plain words (refused, unknown host, TLS, timeout, HTTP status), never
as a transport library's own text.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from workbench.core.endpoints.profiles import NO_KEY, EndpointProfile, ProfileError
from workbench.core.secrets import mask

MODELS_SHOWN = 5  # models named when the profile's is not among them


@dataclass
class ProbeReport:
    """What a connection test found, one plain line per step (✓/✗ first)."""

    url: str
    reachable: bool = False
    http_status: int | None = None
    model_listed: bool | None = None  # None: the server gave no model list
    key_problem: str = ""  # why no key was found ("" when one was)
    answered: bool = False
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reachable and not self.key_problem and self.answered

    def say(self, ok: bool, text: str) -> None:
        self.lines.append(("✓ " if ok else "✗ ") + mask(text))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _where(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from, innermost last (transport libraries wrap the OS error twice)."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def transport_failure(url: str, exc: BaseException, timeout_s: float) -> str:
    """A transport error as a user reads it: what failed, where, and what to check."""
    import httpx

    chain = _causes(exc)
    where, text = _where(url), " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        return f"no answer from {where} within {timeout_s:g} s (is the server up, and the address right?)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return f"nothing is listening at {where} (connection refused)"
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text:
        return f"the host name {urlsplit(url).hostname!r} does not resolve (check the base URL)"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "certificate" in text:
        if urlsplit(url).scheme == "http":
            return f"{where} spoke TLS to a plain http:// URL: use https://"
        return f"the TLS handshake with {where} failed (certificate or protocol): {type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} answered something that is not HTTP (is this the right port?)"
    return f"could not connect to {where} ({type(exc).__name__})"


def _status_line(status: int, url: str) -> str:
    if status in (401, 403):
        return f"reachable, but HTTP {status} at {url}: the server refused the key"
    if status == 404:
        return f"reachable, but HTTP 404 at {url}: check the base URL (OpenAI-style URLs usually end in /v1)"
    return f"reachable, but HTTP {status} at {url}"


def _key(profile: EndpointProfile, report: ProbeReport) -> str | None:
    from workbench.core.endpoints.connection import resolve_api_key

    try:
        key = resolve_api_key(profile)
    except ProfileError as exc:
        report.key_problem = str(exc)
        return None
    return None if key == NO_KEY else key


def _headers(profile: EndpointProfile, key: str | None) -> dict[str, str]:
    if key is None:
        return {}
    return {"api-key": key} if profile.api_version else {"Authorization": f"Bearer {key}"}


async def _list_models(profile: EndpointProfile, key: str | None, report: ProbeReport, timeout_s: float) -> None:
    import httpx

    params = {"api-version": profile.api_version} if profile.api_version else None
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as http:
            reply = await http.get(report.url, headers=_headers(profile, key), params=params)
    except httpx.HTTPError as exc:
        report.say(False, transport_failure(report.url, exc, timeout_s))
        return
    report.reachable, report.http_status = True, reply.status_code
    if reply.status_code != 200:
        report.say(False, _status_line(reply.status_code, report.url))
        return
    report.say(True, f"reachable: HTTP 200 from {report.url}")
    try:
        ids = [str(m.get("id")) for m in reply.json().get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        report.say(False, "the server's model list is not OpenAI-style JSON")
        return
    report.model_listed = profile.model in ids
    if report.model_listed:
        report.say(True, f"model {profile.model!r} is listed")
    else:
        shown = ", ".join(ids[:MODELS_SHOWN]) + (" …" if len(ids) > MODELS_SHOWN else "")
        report.say(False, f"model {profile.model!r} is not listed (the server lists: {shown or 'nothing'})")


async def _ask(profile: EndpointProfile, report: ProbeReport, timeout_s: float) -> None:
    from workbench.core.endpoints.client import ChatRequest, EndpointClient, RequestFailed

    ping = ChatRequest(({"role": "user", "content": "Reply with the word OK."},), {"max_tokens": 5, "temperature": 0})
    probe = EndpointProfile.from_json(profile.to_json() | {"max_attempts": 1, "timeout_s": timeout_s})
    client = EndpointClient(probe)
    start = time.monotonic()
    try:
        answer = await client.complete(ping)
        report.answered = True
        report.say(True, f"answered {answer.text.strip()[:40]!r} in {time.monotonic() - start:.2f} s")
    except RequestFailed as exc:
        report.say(False, f"a test request failed: {exc}")
    finally:
        await client.aclose()


async def probe_endpoint(profile: EndpointProfile, timeout_s: float = 10.0) -> ProbeReport:
    """Try ``profile``'s endpoint step by step: the model list (with the key when there is one), then one request."""
    report = ProbeReport(url=profile.base_url.rstrip("/") + "/models")
    if not profile.base_url.startswith(("http://", "https://")):
        report.say(False, f"the base URL {profile.base_url!r} must start with http:// or https://")
        return report
    key = _key(profile, report)
    await _list_models(profile, key, report, timeout_s)
    if report.key_problem:
        report.say(False, f"no key: {report.key_problem}")
    elif report.reachable and report.http_status not in (401, 403):  # some gateways list no models: still ask
        await _ask(profile, report, timeout_s)
    return report
