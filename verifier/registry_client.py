"""The verifier service's asynchronous client for the registry's per-certificate endpoints.

Online verification asks one registry two small things (``GET …/record``, ``POST …/confirm-holder``)
on every request, so the client's own cost sets the online rate as much as the registry does. A
general client pays for what these look-ups never use: aiohttp (before this module) spent about
0.26 ms of CPU per look-up on URL objects, header multidicts, cookie jars, redirects, tracing and
decompression, more than the registry's answer cost to produce (docs/performance.md).

This client speaks just enough HTTP/1.1 to one origin: keep-alive connections in a pool (at most
``pool_size``; more requests wait for one), requests written as bytes, answers parsed by httptools
(the C parser uvicorn uses: Content-Length and chunked bodies alike). TLS when the URL says https.
No redirects are followed and nothing is decompressed: the registry answers these JSON look-ups
itself, and anything else is an answer the verifier refuses (``_checked``), falling back offline.
A connection taken from the pool that turns out to have been closed by the server before answering
is replaced once; every other failure is ``OSError`` / ``TimeoutError`` / ``RegistryHttpError``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Final, cast
from urllib.parse import urlsplit

import httptools

__all__ = ["MAX_ANSWER_BYTES", "RegistryClient", "RegistryHttpError"]

_USER_AGENT: Final = b"skillpass-verifier"
#: The largest answer read: a record or a confirmation is a few hundred bytes, and a registry (or anything
#: posing as one) that sends more is cut off rather than held in memory until the timeout.
MAX_ANSWER_BYTES: Final = 64 * 1024


class RegistryHttpError(Exception):
    """The registry's answer was not HTTP we understand, or the connection ended mid-answer."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: writes a request, collects one answer at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self._size = 0
        self.received = False  # whether any byte of the current answer arrived
        self.reusable = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass of it

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._fail(RegistryHttpError(f"malformed HTTP answer: {e}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(ConnectionResetError("the registry closed the connection") if exc is None else exc)

    # httptools callbacks

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_ANSWER_BYTES:
            self._fail(RegistryHttpError(f"the answer is longer than {MAX_ANSWER_BYTES} bytes"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self._parser.should_keep_alive()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_result((self._parser.get_status_code(), b"".join(self._body)))

    # the client's side

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._body, self._size, self.received, self.reusable = [], 0, False, False
        self._transport.write(request)
        return await self._answer

    @property
    def open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: BaseException) -> None:
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(error)
        self.close()


class RegistryClient:
    """Pooled HTTP/1.1 requests to the one origin of ``base_url``, from one event loop."""

    def __init__(self, base_url: str, *, pool_size: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self._base = base_url.rstrip("/")
        self._path = parts.path.rstrip("/")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._host_header = parts.netloc.rpartition("@")[2].encode("idna")
        self._timeout = timeout
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(pool_size)

    async def request(self, method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
        """``method`` on ``url`` (under ``base_url``) with an optional JSON ``body``; status and body."""
        if not url.startswith(self._base + "/"):
            raise ValueError(f"{url} is not under {self._base}")
        message = self._message(method, self._path + url[len(self._base) :], body)
        async with asyncio.timeout(self._timeout), self._slots:
            connection = self._reused()
            if connection is not None:
                try:
                    return await self._exchange(connection, message)
                except (OSError, RegistryHttpError):
                    if connection.received:  # it answered something: that failure is real
                        raise
                    # the server had closed this idle connection: one fresh try
            return await self._exchange(await self._connect(), message)

    async def aclose(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()

    def _message(self, method: str, target: str, body: bytes | None) -> bytes:
        head = [
            f"{method} {target} HTTP/1.1".encode("ascii"),
            b"Host: " + self._host_header,
            b"User-Agent: " + _USER_AGENT,
            b"Accept: application/json",
        ]
        if body is not None:
            head += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
        return b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")

    def _reused(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.open:
                return connection
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._ssl is not None else None,
        )
        return connection

    async def _exchange(self, connection: _Connection, message: bytes) -> tuple[int, bytes]:
        """One request on ``connection``; it goes back to the pool only after a whole answer that
        lets it stay open (a timeout or cancellation midway closes it)."""
        try:
            answer = await connection.exchange(message)
        except BaseException:
            connection.close()
            raise
        if connection.reusable and connection.open:
            self._idle.append(connection)
        else:
            connection.close()
        return answer
