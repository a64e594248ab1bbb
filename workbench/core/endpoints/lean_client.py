"""The SDK on the lean transport: ``LeanClient`` (an httpx client) and ``LeanOpenAI`` (the SDK's client).

``openai.AsyncOpenAI`` stays the client: its auth, base URL, headers, timeouts and status
errors are used as they are. What is taken out is the generic work each request repeats and
these calls never need (measured with a sampling profiler in bench/client_throughput.py's
cluster phase): httpx's send path (auth flows, cookie jars, event hooks), its request build
(a second URL parse, two header copies, the body's encoding into a stream), and the SDK's
merge of the base URL with the same path on every call.
"""

from __future__ import annotations

import urllib.request

import httpx
import openai

from workbench.core.endpoints.http_transport import LeanTransport


class LeanClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` on a ``LeanTransport`` whose ``send`` goes straight to it.

    The SDK sets auth in headers and needs none of httpx's send machinery. Redirects are
    followed here, each answer once: the next request is built by httpx's own redirect rules
    (method, headers and body as httpx would send them) and sent on the lean transport.
    """

    def __init__(self) -> None:
        self._lean = LeanTransport()
        super().__init__(transport=self._lean, follow_redirects=True)

    def build_request(  # type: ignore[override]
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: bytes | None = None,
        params: object = None,
        headers: httpx.Headers | None = None,
        timeout: object = httpx.USE_CLIENT_DEFAULT,
        extensions: dict[str, object] | None = None,
        **others: object,
    ) -> httpx.Request:
        """The SDK's request as it built it: this client adds no base URL, headers, cookies or query.

        The body goes as a stream of its bytes, so httpx neither encodes it again nor adds
        headers (the transport writes Host and Content-Length itself). Anything beyond bytes
        and headers (form data, files, JSON, query, cookies) goes through httpx's own build.
        """
        if params or any(value is not None for value in others.values()) or not isinstance(content, bytes | None):
            return super().build_request(
                method, url, content=content, params=params, headers=headers, timeout=timeout,  # type: ignore[arg-type]
                extensions=extensions, **others,  # type: ignore[arg-type]
            )  # fmt: skip
        limits = self.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)  # type: ignore[arg-type]
        extras = {**(extensions or {}), "timeout": limits.as_dict()}
        return httpx.Request(method, url, headers=headers, stream=httpx.ByteStream(content or b""), extensions=extras)

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: object) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if "timeout" not in request.extensions:
            request.extensions["timeout"] = self.timeout.as_dict()
        response = await self._lean.handle_async_request(request)
        history: list[httpx.Response] = []
        while response.is_redirect and self.follow_redirects:
            if len(history) >= self.max_redirects:
                raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)
            history.append(response)
            request = self._build_redirect_request(request, response)
            response = await self._lean.handle_async_request(request)
        response.history = history
        return response


class LeanOpenAI(openai.AsyncOpenAI):
    """``openai.AsyncOpenAI`` that merges its base URL with each path once, not on every request.

    The merged URL (an immutable ``httpx.URL``) is kept per path for as long as the base URL
    is the same object; setting ``base_url`` starts afresh.
    """

    _merged: dict[str, tuple[httpx.URL, httpx.URL]]

    def _prepare_url(self, url: str) -> httpx.URL:
        merged = self.__dict__.setdefault("_merged", {})
        known = merged.get(url)
        if known is not None and known[0] is self._base_url:
            return known[1]
        prepared = super()._prepare_url(url)
        merged[url] = (self._base_url, prepared)
        return prepared


def uses_proxy(base_url: str) -> bool:
    """Whether the environment routes ``base_url`` through a proxy (then the lean transport is not used)."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(url.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(url.host)
