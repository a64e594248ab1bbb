"""The one way to an endpoint: the key a profile sends, the SDK object, and the only retry loop.

Everything that talks to an endpoint (chat and completions in ``client``, files, jobs and
batches in ``platform``, vectors in ``embeddings``) builds its ``openai.AsyncOpenAI`` with
``open_sdk`` (the SDK's own retries always off) and sends each call through
``call_with_retries``: 429, 5xx, timeouts, dropped connections and unreadable answers are
retried with ``pacing.backoff_delay`` (which honours the server's headers), while refusals that
no retry can change (no quota left, a refused key, no permission, an unknown model, a prompt
too long, invalid parameters) end the call at once with a plain one-line message; where a caller
gives a ``Pacing`` (chat: concurrency, rate windows, the store's send log) every attempt
waits for its slot first. A long wait (a job watched, a batch polled) gives its reads a
``Patience``: retryable failures are then retried however long the outage lasts, backing
off to its ceiling and saying "service unavailable since 10:42, retrying". Keys come from
``resolve_api_key`` alone and are masked in every message from the moment they are
resolved (see ``core.secrets``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from workbench.core import secrets
from workbench.core.endpoints.pacing import backoff_delay
from workbench.core.endpoints.profiles import KEYRING_SERVICE, NO_KEY, EndpointProfile, ProfileError

if TYPE_CHECKING:
    import httpx
    import openai

T = TypeVar("T")
RETRY_STATUSES = {408, 409, 429}  # and every 5xx (500, 502, 503, 504, 529 overloaded, …)
FINAL_CODES = {  # error codes (or types) that no retry changes, whatever their status, in plain words
    "insufficient_quota": "no quota left on this account (check its plan and billing)",
    "invalid_api_key": "the API key was refused",
    "context_length_exceeded": "the prompt is too long for the model",
    "model_not_found": "the model does not exist or this key has no access to it",
}
STATUS_WORDS = {
    401: "the API key was refused",
    403: "this key has no permission for that",
    404: "not found (an unknown model or path)",
}


# --- keys --------------------------------------------------------------------------------
def resolve_api_key(profile: EndpointProfile) -> str:
    """The key for ``profile``: its environment variable first, then the keyring (masked in all output from now)."""
    key = _lookup_api_key(profile)
    if key != NO_KEY:
        secrets.remember(key)
    return key


def require_keys(profiles: Iterable[EndpointProfile]) -> None:
    """Raise ProfileError now, saying which key is missing, rather than on a run's first request."""
    for profile in profiles:
        resolve_api_key(profile)


def _lookup_api_key(profile: EndpointProfile) -> str:
    if profile.api_key_env:
        value = os.environ.get(profile.api_key_env)
        if value:
            return value
        if not profile.api_key_keyring:
            raise ProfileError(f"profile {profile.name!r}: environment variable {profile.api_key_env} is not set")
    if profile.api_key_keyring:
        import keyring  # ~0.2 s to import: only for a profile whose key is in the keyring
        import keyring.errors

        try:
            value = keyring.get_password(KEYRING_SERVICE, profile.api_key_from or profile.name)
        except keyring.errors.KeyringError as exc:
            raise ProfileError(
                f"profile {profile.name!r}: no usable OS keyring ({type(exc).__name__}); "
                f"set {profile.api_key_env or 'an environment variable'} instead"
            ) from None
        if value:
            return value
        raise ProfileError(f"profile {profile.name!r}: no key stored in the keyring")
    return NO_KEY


# --- the SDK -----------------------------------------------------------------------------
def open_sdk(
    profile: EndpointProfile, api_key: str | None = None, timeout_s: float | None = None, lean: bool = False
) -> openai.AsyncOpenAI:
    """The SDK for ``profile`` with its retries off; ``api_key`` (default: the profile's) is masked from now on.

    ``timeout_s`` defaults to the profile's; ``lean`` (for many small JSON calls: chat and
    completions) makes it ``lean_client.LeanOpenAI`` on ``http_transport.LeanTransport``, or, where
    the environment routes the endpoint through a proxy, on the SDK's aiohttp transport when its
    extra is installed.
    Azure-style profiles send their ``api-version`` and the key in an ``api-key`` header.
    """
    import openai  # the SDK loads lazily (0.7 s): the window opens without it

    key = api_key or resolve_api_key(profile)
    secrets.remember(key if key != NO_KEY else None)
    azure = {"default_query": {"api-version": profile.api_version}, "default_headers": {"api-key": key}}
    sdk = openai.AsyncOpenAI
    if lean:
        from workbench.core.endpoints.lean_client import LeanOpenAI

        sdk = LeanOpenAI
    return sdk(
        base_url=profile.base_url,
        api_key=key,
        max_retries=0,  # this module's loop is the only one that retries
        timeout=profile.timeout_s if timeout_s is None else timeout_s,
        http_client=_lean_client(profile.base_url) if lean else None,
        **(azure if profile.api_version else {}),  # type: ignore[arg-type]
    )


def _lean_client(base_url: str) -> httpx.AsyncClient | None:
    import openai

    from workbench.core.endpoints.lean_client import LeanClient, uses_proxy

    if not uses_proxy(base_url):
        return LeanClient()
    try:
        return openai.DefaultAioHttpClient()
    except RuntimeError:  # the aiohttp extra is not installed: the default transport works too
        return None


# --- failures and the retry loop ---------------------------------------------------------
@dataclass(frozen=True)
class Failure:
    """One attempt that did not succeed: ``kind`` is "http 429", "timeout", "connection" or "bad response".

    ``code`` is the API's error code (or type) where its answer had one, e.g. "insufficient_quota".
    """

    kind: str
    message: str  # one short line, keys masked
    error: BaseException  # what was raised (each caller words its own error from it)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None

    @property
    def retryable(self) -> bool:
        """Rate limits, overload, 5xx and transport failures; never a refusal in FINAL_CODES."""
        if self.status is None:
            return True
        if self.code in FINAL_CODES:
            return False
        return self.status in RETRY_STATUSES or self.status >= 500

    @property
    def throttled(self) -> bool:
        """A rate limit (a 429 that waiting can cure), which should slow the sender down."""
        return self.status == 429 and self.retryable


class UnreadableAnswer(Exception):
    """Raised by an attempt whose answer arrived but could not be read; retried as a "bad response"."""


class AttemptsExhausted(Exception):
    """A call that did not succeed: its last failure was not worth retrying, or no attempts were left."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        super().__init__(f"{failure.kind}: {failure.message}")
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True)
class Patience:
    """How a wait that must outlast outages retries: without an attempt limit, backing off to ``ceiling_s``.

    ``on_outage`` hears "service unavailable since HH:MM, retrying" before every retry.
    """

    ceiling_s: float = 60.0
    on_outage: Callable[[str], None] | None = None


class Pacing(Protocol):
    """What each attempt of a call waits for (a concurrency slot, rate windows) and is told how it went."""

    def slot(self) -> AbstractAsyncContextManager[None]: ...

    def answered(self, failure: Failure | None) -> None:
        """After the slot is released: None on success, else the attempt's failure."""


def failure_of(exc: BaseException, timeout_s: float) -> Failure | None:
    """``exc`` as a Failure when it is the SDK's (or an UnreadableAnswer); None for anything else."""
    import openai

    if isinstance(exc, UnreadableAnswer):
        return Failure("bad response", short(str(exc)), exc)
    if isinstance(exc, openai.APIStatusError):
        status, code = exc.status_code, error_code(exc)
        param = exc.param if isinstance(exc.param, str) else None
        message = short(plain_refusal(status, code, api_message(exc), param))
        return Failure(f"http {status}", message, exc, status, dict(exc.response.headers), code)
    if isinstance(exc, openai.APITimeoutError):
        cause = str(exc.__cause__ or "")
        if "Cannot connect" in cause or "Connect call failed" in cause:  # aiohttp reports refusals as timeouts
            return Failure("connection", short(cause), exc)
        return Failure("timeout", f"no answer within {timeout_s:g} s", exc)
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection", short(str(exc.__cause__ or exc)), exc)
    return None


async def call_with_retries(
    attempt: Callable[[int], Awaitable[T]],
    attempts: int,
    timeout_s: float,
    rng: random.Random,
    pacing: Pacing | None = None,
    patience: Patience | None = None,
) -> T:
    """``attempt(n)`` (n = 1, 2, …) until it succeeds; raise AttemptsExhausted with the last failure.

    A failure is retried when it is retryable and attempts are left (with ``patience``: always),
    after ``backoff_delay`` (outside the pacing slot); anything that is not a Failure propagates at once.
    """
    number = 0
    since: float | None = None
    while True:
        number += 1
        async with pacing.slot() if pacing is not None else contextlib.nullcontext():
            try:
                result = await attempt(number)
                failure = None
            except Exception as exc:
                failure = failure_of(exc, timeout_s)
                if failure is None:
                    raise
        if pacing is not None:
            pacing.answered(failure)
        if failure is None:
            return result
        if not failure.retryable or (number >= attempts and patience is None):
            raise AttemptsExhausted(failure, number)
        ceiling = None if patience is None else patience.ceiling_s
        if patience is not None and patience.on_outage is not None:
            since = time.time() if since is None else since
            patience.on_outage(f"service unavailable since {time.strftime('%H:%M', time.localtime(since))}, retrying")
        delay = backoff_delay(number, failure.status, failure.headers, time.time(), rng.random(), ceiling)
        await asyncio.sleep(delay)


def error_code(exc: openai.APIStatusError) -> str | None:
    """The API's error code, else its error type when that names a final refusal (older answers put it there)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    for value in (body.get("code"), body.get("type")):
        if isinstance(value, str) and value and (value in FINAL_CODES or value == body.get("code")):
            return value
    return None


def api_message(exc: BaseException) -> str:
    """The message of the API's error body (masked); the SDK's own words where the body has none."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return secrets.mask(body["message"])
    return secrets.mask(str(getattr(exc, "message", exc)))


def plain_refusal(status: int, code: str | None, message: str, param: str | None = None) -> str:
    """One line saying what a refusal means, then what the API said (``message``) and, for a 400, which parameter."""
    words = FINAL_CODES.get(code or "") or STATUS_WORDS.get(status)
    text = f"{words}: {message}" if words and message else words or message
    return f"{text} (parameter {param!r})" if param and status == 400 and code not in FINAL_CODES else text


def short(text: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters, keys masked first (a key cut short would escape the mask)."""
    text = secrets.mask(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
