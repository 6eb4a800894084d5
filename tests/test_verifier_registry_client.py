"""The verifier's pooled registry client (``verifier.registry_client``) against HTTP servers that
misbehave in the ways real servers and proxies do: keep-alive and ``Connection: close``, chunked
bodies, an idle connection the server closed, an answer cut short, garbage, silence, and more
requests at once than the pool holds.

The servers here are scripted asyncio servers on loopback, not our registry: they stand for the
arbitrary HTTP servers and proxies that may sit where the registry is configured, whose edge cases
the registry itself never produces. Online verification through this client against a registry
app over real HTTP runs in test_verifier_trust.py.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from verifier.registry_client import RegistryClient, RegistryHttpError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


class Server:
    """A loopback server running ``handler`` per connection; counts connections and requests."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.open_now = 0
        self.most_open = 0

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        port = self._server.sockets[0].getsockname()[1]
        return f"https://localhost:{port}" if self.tls else f"http://127.0.0.1:{port}"

    async def __aexit__(self, *_: Any) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            await self.handler(reader, writer, self)
        finally:
            self.open_now -= 1
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request's head and body (by Content-Length); None when the client closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        request = head + (await reader.readexactly(length) if length else b"")
        self.requests.append(request)
        return request


def _answer(body: bytes, status: int = 200, extra: bytes = b"") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


async def _keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    while await server.read_request(reader) is not None:
        await asyncio.sleep(0.01)  # long enough for concurrent requests to need connections of their own
        writer.write(_answer(b"{}"))
        await writer.drain()


def _run(coroutine: Awaitable[Any]) -> Any:
    # A thread of its own: in a worker where Playwright ran, this thread already has a running loop.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()  # type: ignore[arg-type]


def test_requests_reuse_connections_and_the_pool_bounds_them() -> None:
    server = Server(_keep_alive)

    async def run() -> None:
        async with server as url:
            client = RegistryClient(url, pool_size=3, timeout=10)
            answers = await asyncio.gather(*(client.request("GET", f"{url}/r?{i}") for i in range(12)))
            assert all(status == 200 for status, _ in answers)
            for _ in range(5):
                assert await client.request("GET", f"{url}/r") == (200, b"{}")
            await client.aclose()

    _run(run())
    assert len(server.requests) == 17
    assert server.most_open <= 3 and server.connections <= 3  # kept alive, never more than the pool
    first = server.requests[0].split(b"\r\n")
    assert first[0] == b"GET /r?0 HTTP/1.1" and first[1].startswith(b"Host: 127.0.0.1:")


def test_a_base_path_and_a_json_body_are_sent_as_given() -> None:
    server = Server(_keep_alive)

    async def run() -> tuple[int, bytes]:
        async with server as url:
            client = RegistryClient(url + "/registry/", pool_size=1, timeout=10)
            answer = await client.request("POST", f"{url}/registry/api/x", b'{"a":"\xe5\xbc\xa0"}')
            with pytest.raises(ValueError, match="not under"):
                await client.request("GET", "http://elsewhere.test/api/x")
            await client.aclose()
            return answer

    status, _ = _run(run())
    assert status == 200
    [request] = server.requests
    assert request.startswith(b"POST /registry/api/x HTTP/1.1\r\n")
    assert b"Content-Type: application/json\r\n" in request and b"Content-Length: 11\r\n" in request
    assert request.endswith(b'\r\n\r\n{"a":"\xe5\xbc\xa0"}')


def test_chunked_answers_and_connection_close_are_understood() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await server.read_request(reader)
        writer.write(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b'5\r\n{"cod\r\nf\r\ne":"not_found"}\r\n0\r\n\r\n'
        )
        await writer.drain()
        await reader.read()  # the client closes it, as it was told

    server = Server(handler)

    async def run() -> list[tuple[int, bytes]]:
        async with server as url:
            client = RegistryClient(url, pool_size=4, timeout=10)
            answers = [await client.request("GET", f"{url}/r") for _ in range(2)]
            await client.aclose()
            return answers

    assert _run(run()) == [(404, b'{"code":"not_found"}')] * 2
    assert server.connections == 2  # "Connection: close" is not reused


def test_an_idle_connection_the_server_closed_is_replaced_once() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await server.read_request(reader)
        writer.write(_answer(b"{}"))  # keep-alive promised, then the connection is dropped unannounced
        await writer.drain()
        if server.connections == 1:
            await server.read_request(reader)  # the second request arrives and is dropped unanswered

    server = Server(handler)

    async def run() -> list[int]:
        async with server as url:
            client = RegistryClient(url, pool_size=1, timeout=10)
            statuses = [(await client.request("GET", f"{url}/r"))[0] for _ in range(2)]
            await client.aclose()
            return statuses

    assert _run(run()) == [200, 200]
    assert server.connections == 2 and len(server.requests) == 3


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut', ConnectionResetError),  # cut short
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n" + b" " * 100_000,
            RegistryHttpError,
        ),  # too long
        (b"SMTP ready\r\n\r\n", RegistryHttpError),  # not HTTP at all
        (b"", TimeoutError),  # never answers
    ],
)
def test_a_broken_answer_is_an_error_not_a_retry(reply: bytes, error: type[Exception]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await server.read_request(reader)
        writer.write(reply)
        await writer.drain()
        if reply.startswith(b"HTTP"):
            return  # closes mid-answer
        await asyncio.sleep(5)

    server = Server(handler)

    async def run() -> None:
        async with server as url:
            client = RegistryClient(url, pool_size=2, timeout=0.5)
            with pytest.raises(error):
                await client.request("GET", f"{url}/r")
            await client.aclose()

    _run(run())
    assert server.connections == 1 and len(server.requests) == 1


def test_an_unreachable_registry_is_an_os_error() -> None:
    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = RegistryClient(f"http://127.0.0.1:{port}", pool_size=1, timeout=5)
        with pytest.raises(OSError):
            await client.request("GET", f"http://127.0.0.1:{port}/r")

    _run(run())


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        RegistryClient("ftp://registry.test", pool_size=1, timeout=1)


def test_a_redirect_is_an_answer_not_followed() -> None:
    """The registry never redirects its look-ups; a redirect is answered as it is (the verifier then
    falls back offline) rather than followed to wherever it points."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        while await server.read_request(reader) is not None:
            writer.write(_answer(b"", 301, b"Location: http://elsewhere.test/r\r\n"))
            await writer.drain()

    server = Server(handler)

    async def run() -> tuple[int, bytes]:
        async with server as url:
            client = RegistryClient(url, pool_size=1, timeout=5)
            answer = await client.request("GET", f"{url}/r")
            await client.aclose()
            return answer

    assert _run(run()) == (301, b"")
    assert len(server.requests) == 1


def test_https_checks_the_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An https registry URL is spoken to over TLS, its certificate verified against the system's
    trust store (here a test CA named by SSL_CERT_FILE, as an operator adds a private CA); a
    certificate the store does not trust is an error, never a plaintext or unverified fallback."""
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    server = Server(_keep_alive, served)

    async def run() -> None:
        async with server as url:
            with pytest.raises(ssl.SSLCertVerificationError):
                await RegistryClient(url, pool_size=1, timeout=5).request("GET", f"{url}/r")
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))
            client = RegistryClient(url, pool_size=1, timeout=5)
            assert await client.request("GET", f"{url}/r") == (200, b"{}")
            await client.aclose()

    _run(run())
    assert len(server.requests) == 1 and server.requests[0].split(b"\r\n")[1].startswith(b"Host: localhost:")
