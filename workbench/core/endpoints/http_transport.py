"""A lean HTTP/1.1 transport for the SDK's many small JSON calls: keep-alive connections over asyncio.

``openai.AsyncOpenAI`` stays the client (its auth, base URL, headers, timeouts and status
errors); this is only the ``httpx`` transport under it for chat and completion calls, which
are small requests with small answers sent by the thousand. httpx's default transport and
the aiohttp one spend most of a request's CPU in generic machinery (about 1.1 ms of 1.5 ms
per request in bench/client_throughput.py); here a request is one write of bytes and its
answer is parsed as it arrives (Content-Length, chunked, or read to close), on connections
kept per origin and reused newest first.

What it does not do, on purpose: proxies (``open_sdk`` keeps the aiohttp transport when the
environment names one), HTTP/2, streaming bodies (a streamed request or answer is read
whole). Failures are httpx's own exception types, which the SDK turns into its errors:
``ConnectError``/``ConnectTimeout`` before a byte is sent, ``ReadTimeout`` when no complete
answer came within the read timeout, ``RemoteProtocolError`` for a connection closed before
or during the answer, or an answer that is not HTTP/1.x. A connection that was idle in the
pool and turns out closed by the server before answering is retried once on a new one (the
server never saw the request).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable

import httpx

MAX_HEAD_BYTES = 64 * 1024  # an answer's status line and headers
NO_BODY_STATUSES = frozenset({204, 304})


class _Answer:
    """One HTTP answer, parsed incrementally from the bytes a connection receives."""

    def __init__(self, head_request: bool) -> None:
        self.head_request = head_request
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.keep_alive = True
        self._length: int | None = None  # Content-Length; None with chunked or read-to-close
        self._chunked = False
        self._to_close = False
        self._have_head = False

    def feed(self, buffer: bytearray) -> bool:
        """Consume what ``buffer`` holds of this answer; True once it is complete. Raises RemoteProtocolError."""
        if not self._have_head and not self._parse_head(buffer):
            return False
        if self._chunked:
            return self._feed_chunks(buffer)
        if self._to_close:
            self.body += buffer
            buffer.clear()
            return False
        need = (self._length or 0) - len(self.body)
        self.body += buffer[:need]
        del buffer[:need]
        return len(self.body) == (self._length or 0)

    def closed(self) -> bool:
        """The server closed the connection: True when that ends this answer (a read-to-close body)."""
        return self._have_head and self._to_close

    def _parse_head(self, buffer: bytearray) -> bool:
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise httpx.RemoteProtocolError("the answer's headers are too long")
                return False
            lines = bytes(buffer[:end]).split(b"\r\n")
            del buffer[: end + 4]
            version, _, rest = lines[0].partition(b" ")
            code = rest[:3]
            if not version.startswith(b"HTTP/1.") or not code.isdigit():
                raise httpx.RemoteProtocolError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
            status = int(code)
            if 100 <= status < 200:  # an interim answer: the real one follows
                continue
            break
        self.status = status
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise httpx.RemoteProtocolError(f"a malformed header line: {line[:80]!r}")
            headers.append((name.strip(), value.strip()))
        self.headers = headers
        self._have_head = True
        connection, encoding, length = b"", b"", None
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"transfer-encoding":
                encoding = value.lower()
            elif lowered == b"connection":
                connection = value.lower()
        self.keep_alive = connection != b"close" and (version == b"HTTP/1.1" or connection == b"keep-alive")
        if self.head_request or status in NO_BODY_STATUSES:
            self._length = 0
        elif b"chunked" in encoding:
            self._chunked = True
        elif length is not None:
            if not length.isdigit():
                raise httpx.RemoteProtocolError(f"a malformed Content-Length: {length[:40]!r}")
            self._length = int(length)
        else:
            self._to_close, self.keep_alive = True, False
        return True

    def _feed_chunks(self, buffer: bytearray) -> bool:
        while True:
            if self._length is None:  # at a chunk's size line
                end = buffer.find(b"\r\n")
                if end < 0:
                    return False
                size = bytes(buffer[:end]).split(b";", 1)[0].strip()
                try:
                    self._length = int(size, 16)
                except ValueError:
                    raise httpx.RemoteProtocolError(f"a malformed chunk size: {size[:40]!r}") from None
                del buffer[: end + 2]
            if self._length == 0:  # the last chunk: trailers end with an empty line
                end = buffer.find(b"\r\n")
                while end > 0:  # skip trailer lines
                    del buffer[: end + 2]
                    end = buffer.find(b"\r\n")
                if end < 0:
                    return False
                del buffer[:2]
                return True
            if len(buffer) < self._length + 2:
                return False
            self.body += buffer[: self._length]
            del buffer[: self._length + 2]
            self._length = None


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer: _Answer | None = None
        self.waiter: asyncio.Future[_Answer] | None = None
        self.received = False  # any byte of the current answer
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.buffer += data
        answer, waiter = self.answer, self.waiter
        if answer is None or waiter is None or waiter.done():
            return
        try:
            if answer.feed(self.buffer):
                waiter.set_result(answer)
        except httpx.RemoteProtocolError as exc:
            waiter.set_exception(exc)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiter, answer = self.waiter, self.answer
        if waiter is None or waiter.done():
            return
        if answer is not None and answer.closed():
            waiter.set_result(answer)
        else:
            why = "the server closed the connection before answering" if not self.received else "mid-answer"
            waiter.set_exception(httpx.RemoteProtocolError(f"{why}{f' ({exc})' if exc else ''}"))

    @property
    def usable(self) -> bool:
        return not self.lost and self.transport is not None and not self.transport.is_closing() and not self.buffer

    def send(self, data: bytes, answer: _Answer) -> asyncio.Future[_Answer]:
        assert self.transport is not None
        self.answer, self.received = answer, False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


Origin = tuple[bytes, str, int]


class LeanTransport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 for small JSON calls; see the module's docstring for what it leaves out."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext] | None = None, max_idle: int = 4096) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._ssl_context = ssl_context or default_ssl_context
        self._ssl: ssl.SSLContext | None = None
        self._max_idle = max_idle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.raw_scheme, url.host, url.port or (443 if url.raw_scheme == b"https" else 80))
        stream = request.stream  # bytes as they are (the lean client's way), else read whole
        body = b"".join(stream) if isinstance(stream, httpx.ByteStream) else await request.aread()
        data = _serialise(request, body)
        timeouts = request.extensions.get("timeout", {})
        head = request.method == "HEAD"
        while True:
            connection, reused = await self._connection(origin, timeouts.get("connect"))
            try:
                answer = await self._exchange(connection, data, _Answer(head), timeouts.get("read"))
            except httpx.RemoteProtocolError:
                connection.close()
                if reused and not connection.received:  # a stale pooled connection: the server never saw it
                    continue
                raise
            except BaseException:  # timeouts, cancellation: the connection's state is unknown
                connection.close()
                raise
            break
        if answer.keep_alive and connection.usable:
            self._release(origin, connection)
        else:
            connection.close()
        return httpx.Response(answer.status, headers=answer.headers, content=bytes(answer.body), request=request)

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _exchange(self, connection: _Connection, data: bytes, answer: _Answer, read_s: float | None) -> _Answer:
        waiter = connection.send(data, answer)
        if read_s is None:
            return await waiter
        loop = asyncio.get_running_loop()
        timer = loop.call_later(read_s, _expire, waiter, read_s)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def _connection(self, origin: Origin, connect_s: float | None) -> tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection, True
            connection.close()
        scheme, host, port = origin
        secure = scheme == b"https"
        if secure and self._ssl is None:
            self._ssl = self._ssl_context()
        loop = asyncio.get_running_loop()
        opening = loop.create_connection(
            _Connection, host, port, ssl=self._ssl if secure else None, server_hostname=host if secure else None
        )
        try:
            _, connection = await asyncio.wait_for(opening, connect_s)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host}:{port} within {connect_s:g} s") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        return connection, False

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= self._max_idle:
            connection.close()
        else:
            idle.append(connection)


def _expire(waiter: asyncio.Future[_Answer], read_s: float) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout(f"no complete answer within {read_s:g} s"))


def _serialise(request: httpx.Request, body: bytes) -> bytes:
    """The request as HTTP/1.1 bytes; the body goes whole, with its length (never chunked)."""
    url = request.url
    lines = [request.method.encode("ascii") + b" " + url.raw_path + b" HTTP/1.1"]
    has_host = False
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered in (b"content-length", b"transfer-encoding"):
            continue
        has_host = has_host or lowered == b"host"
        lines.append(name + b": " + value)
    if not has_host:
        lines.append(b"Host: " + url.netloc)
    if body or request.method not in ("GET", "HEAD"):
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def default_ssl_context() -> ssl.SSLContext:
    """Certificates as httpx finds them: SSL_CERT_FILE / SSL_CERT_DIR, else certifi's bundle."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if not cafile and not capath:
        import certifi

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)
