"""The lean HTTP/1.1 transport under the SDK: real sockets, real servers, answers in every shape HTTP allows.

The shapes come from a small scripted TCP server here (each connection answers with the bytes
a test gives, split as the test says), the common path from the real OpenAI test server, and
TLS from a server with a certificate made for the test.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.endpoints import http_transport
from workbench.core.endpoints.client import ChatRequest, EndpointClient, RequestFailed
from workbench.core.endpoints.connection import open_sdk
from workbench.core.endpoints.http_transport import LeanTransport
from workbench.core.endpoints.lean_client import LeanClient, LeanOpenAI
from workbench.core.endpoints.profiles import EndpointProfile

BODY = json.dumps({"choices": [{"message": {"content": "SELECT 1"}}], "usage": {"prompt_tokens": 2}}).encode()
CLOSE = b"<close>"  # as an answer's last part: the server closes the connection after the others
Reply = Callable[[bytes, int], list[bytes] | None]  # (request bytes, the connection's request number) -> parts


class ScriptedServer:
    """A TCP server whose every answer is written by the test: a list of byte parts, sent with a pause between."""

    def __init__(self, reply: Reply, ssl_context: ssl.SSLContext | None = None) -> None:
        self.reply = reply
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                number += 1
                parts = self.reply(request, number)
                if parts is None:  # close without answering
                    break
                closing = parts[-1:] == [CLOSE]
                for part in parts[:-1] if closing else parts:
                    writer.write(part)
                    await writer.drain()
                    await asyncio.sleep(0.005)
                if closing or any(b"Connection: close" in p for p in parts):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def answer(body: bytes = BODY, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body


async def post(url: str, transport: LeanTransport, body: bytes = b'{"q": 1}', read_s: float = 5.0) -> httpx.Response:
    request = httpx.Request("POST", url + "/v1/chat/completions", content=body)
    request.extensions["timeout"] = {"connect": 5.0, "read": read_s, "write": 5.0, "pool": 5.0}
    return await transport.handle_async_request(request)


def test_keep_alive_reuses_one_connection_and_sends_the_request_as_given() -> None:
    async def go() -> None:
        async with ScriptedServer(lambda request, n: [answer()]) as server:
            transport = LeanTransport()
            for i in range(5):
                response = await post(server.url, transport, json.dumps({"i": i}).encode())
                assert response.status_code == 200 and response.content == BODY
            await transport.aclose()
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert b"\r\nContent-Length: 8\r\n" in first and first.endswith(b'\r\n\r\n{"i": 0}')
        assert b"Host: 127.0.0.1:" in first

    asyncio.run(go())


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param([answer()[:7], answer()[7:40], answer()[40:]], id="head-split-across-packets"),
        pytest.param(
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"5;ext=1\r\n" + BODY[:5] + b"\r\n",
                hex(len(BODY) - 5)[2:].encode() + b"\r\n" + BODY[5:] + b"\r\n",
                b"0\r\nX-Trailer: 1\r\n\r\n",
            ],
            id="chunked-with-extension-and-trailer",
        ),
        pytest.param([b"HTTP/1.1 100 Continue\r\n\r\n", answer()], id="interim-100-then-the-answer"),
        pytest.param([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY, CLOSE], id="read-to-close"),
    ],
)
def test_every_body_framing_gives_the_same_bytes(parts: list[bytes]) -> None:
    async def go() -> None:
        async with ScriptedServer(lambda request, n: parts) as server:
            transport = LeanTransport()
            response = await post(server.url, transport)
            assert response.status_code == 200
            assert response.content == BODY
            assert json.loads(response.content)["choices"][0]["message"]["content"] == "SELECT 1"
            reusable = sum(len(c) for c in transport._idle.values())
            assert reusable == (0 if parts[-1] == CLOSE else 1)  # a body read to the close ends its connection
            await transport.aclose()

    asyncio.run(go())


def test_a_stale_pooled_connection_is_retried_once_on_a_new_one() -> None:
    def reply(request: bytes, n: int) -> list[bytes] | None:
        return [answer()] if n == 1 else None  # the second request on a connection: closed unanswered

    async def go() -> None:
        async with ScriptedServer(reply) as server:
            transport = LeanTransport()
            await post(server.url, transport)
            await asyncio.sleep(0.05)
            response = await post(server.url, transport)  # the pooled one closes on it: a fresh one answers
            assert response.content == BODY
            assert server.connections == 2
            await transport.aclose()

    asyncio.run(go())


def test_connection_close_is_honoured_and_204_has_no_body() -> None:
    def reply(request: bytes, n: int) -> list[bytes]:
        return [b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"]

    async def go() -> None:
        async with ScriptedServer(reply) as server:
            transport = LeanTransport()
            for _ in range(3):
                response = await post(server.url, transport)
                assert response.status_code == 204 and response.content == b""
            assert server.connections == 3
            await transport.aclose()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        pytest.param([b"SSH-2.0-OpenSSH_9\r\n\r\n"], "not an HTTP/1.x answer", id="not-http"),
        pytest.param([b"HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n"], "malformed Content-Length", id="bad-length"),
        pytest.param([b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "malformed header line", id="bad-header"),
        pytest.param([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{", CLOSE], "mid-answer", id="cut-short"),
    ],
)
def test_broken_answers_are_protocol_errors(parts: list[bytes], words: str) -> None:
    async def go() -> None:
        async with ScriptedServer(lambda request, n: parts) as server:
            transport = LeanTransport()
            with pytest.raises(httpx.RemoteProtocolError, match=words):
                await post(server.url, transport)
            await transport.aclose()

    asyncio.run(go())


def test_a_silent_server_is_a_read_timeout_and_its_connection_is_not_reused() -> None:
    async def go() -> None:
        async with ScriptedServer(lambda r, n: [b"HTTP/1.1 200 OK\r\n"]) as server:  # a head that never ends
            transport = LeanTransport()
            with pytest.raises(httpx.ReadTimeout, match=r"no complete answer within 0\.2 s"):
                await post(server.url, transport, read_s=0.2)
            assert not any(transport._idle.values())
            await transport.aclose()

    asyncio.run(go())


def test_a_refused_connection_and_a_failed_request_reach_the_client_as_connection_failures() -> None:
    async def go() -> None:
        async with ScriptedServer(lambda r, n: None) as server:
            url = server.url
        transport = LeanTransport()
        with pytest.raises(httpx.ConnectError, match=r"cannot connect to 127\.0\.0\.1"):
            await post(url, transport)
        profile = EndpointProfile(name="gone", base_url=url + "/v1", model="m", max_attempts=1, timeout_s=5)
        async with EndpointClient(profile, api_key="sk-test") as client:
            with pytest.raises(RequestFailed) as failed:
                await client.complete(ChatRequest(({"role": "user", "content": "hi"},), {}))
        assert failed.value.kind == "connection"

    asyncio.run(go())


def test_a_redirect_is_followed_once_by_httpx_rules() -> None:
    def reply(request: bytes, n: int) -> list[bytes]:
        if request.startswith(b"POST /v1/chat/completions"):
            return [answer(b"", b"307 Temporary Redirect", b"Location: /v2/chat/completions\r\n")]
        if request.startswith(b"POST /v2/chat/completions"):
            return [answer(b"", b"303 See Other", b"Location: /v3/done\r\n")]
        return [answer()]

    async def go() -> None:
        async with ScriptedServer(reply) as server:
            sdk = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", http_client=LeanClient())
            response = await sdk.post("/chat/completions", cast_to=httpx.Response, content=b'{"q": 1}')
            assert response.content == BODY and len(response.history) == 2
            first, second, third = server.requests  # each answer once: the redirecting URL is not asked again
            assert first.startswith(b"POST /v1/chat/completions HTTP/1.1") and first.endswith(b'{"q": 1}')
            assert second.startswith(b"POST /v2/chat/completions HTTP/1.1") and second.endswith(b'{"q": 1}')
            assert b"authorization: Bearer sk-test" in second.lower().replace(b"bearer", b"Bearer")
            assert third.startswith(b"GET /v3/done HTTP/1.1") and b"content-length: 8" not in third.lower()
            await sdk.close()

    asyncio.run(go())


def test_a_redirect_loop_stops_at_httpx_limit() -> None:
    def reply(request: bytes, n: int) -> list[bytes]:
        return [answer(b"", b"307 Temporary Redirect", b"Location: /v1/chat/completions\r\n")]

    async def go() -> None:
        async with ScriptedServer(reply) as server:
            sdk = openai.AsyncOpenAI(
                base_url=server.url + "/v1", api_key="sk-test", max_retries=0, http_client=LeanClient()
            )
            with pytest.raises(openai.APIConnectionError):
                await sdk.post("/chat/completions", cast_to=httpx.Response, content=b"{}")
            assert len(server.requests) == 1 + httpx.AsyncClient().max_redirects
            await sdk.close()

    asyncio.run(go())


def test_the_sdk_merges_its_base_url_with_a_path_once_and_again_after_a_new_base_url() -> None:
    async def go() -> None:
        async with ScriptedServer(lambda request, n: [answer()]) as server:
            sdk = LeanOpenAI(base_url=server.url + "/v1", api_key="sk-test", http_client=LeanClient())
            first = sdk._prepare_url("/chat/completions")
            assert first is sdk._prepare_url("/chat/completions")
            await sdk.post("/chat/completions", cast_to=httpx.Response, content=b"{}")
            sdk.base_url = server.url + "/v2"  # type: ignore[assignment]
            await sdk.post("/chat/completions", cast_to=httpx.Response, content=b"{}")
            assert [r.split(b" ")[1] for r in server.requests] == [b"/v1/chat/completions", b"/v2/chat/completions"]
            await sdk.close()

    asyncio.run(go())


def test_many_requests_through_the_sdk_share_few_connections(openai_server: OpenAITestServer) -> None:
    profile = EndpointProfile(name="t", base_url=openai_server.base_url, model="gold", concurrency=8)

    async def go() -> list[str]:
        async with EndpointClient(profile) as client:
            requests = [ChatRequest(({"role": "user", "content": f"Question: q{i}"},), {}) for i in range(200)]
            answers = await asyncio.gather(*(client.complete(r) for r in requests))
            lean = client._sdk._client
            assert isinstance(lean, LeanClient)
            pooled = sum(len(c) for c in lean._lean._idle.values())
            assert 1 <= pooled <= 8  # never more connections than requests in flight
            return [a.text for a in answers]

    texts = asyncio.run(go())
    assert len(texts) == 200 and openai_server.stats.received == 200 and openai_server.stats.duplicates == 0


def test_a_proxy_in_the_environment_keeps_the_sdk_s_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = EndpointProfile(name="p", base_url="http://10.1.2.3:8000/v1", model="m")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert not isinstance(open_sdk(profile, api_key="sk-test", lean=True)._client, LeanClient)
    monkeypatch.setenv("NO_PROXY", "10.1.2.3")
    assert isinstance(open_sdk(profile, api_key="sk-test", lean=True)._client, LeanClient)


def test_https_with_a_certificate_the_client_trusts(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def go() -> None:
        async with ScriptedServer(lambda r, n: [answer()], server_context) as server:
            trusting = LeanTransport(ssl_context=lambda: ssl.create_default_context(cafile=str(cert)))
            assert (await post(server.url, trusting)).content == BODY
            assert (await post(server.url, trusting)).content == BODY
            assert server.connections == 1
            await trusting.aclose()
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await post(server.url, LeanTransport(ssl_context=http_transport.default_ssl_context))

    asyncio.run(go())


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made now (cryptography comes with keyring's SecretStorage)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_an_azure_style_profile_sends_its_query_and_key_header_through_the_lean_client() -> None:
    async def go() -> bytes:
        async with ScriptedServer(lambda request, n: [answer()]) as server:
            profile = EndpointProfile(
                name="az", base_url=server.url + "/openai/deployments/d1", model="m", api_version="2024-06-01"
            )
            async with EndpointClient(profile, api_key="sk-azure-test") as client:
                done = await client.complete(ChatRequest(({"role": "user", "content": "hi"},), {}))
            assert done.text == "SELECT 1"
            return server.requests[0]

    sent = asyncio.run(go())
    assert sent.startswith(b"POST /openai/deployments/d1/chat/completions?api-version=2024-06-01 HTTP/1.1\r\n")
    assert b"\r\napi-key: sk-azure-test\r\n" in sent
