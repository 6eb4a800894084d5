"""A fault-injecting HTTP proxy on loopback, to put between a client of ours and a real server of ours.

It STANDS IN FOR THE NETWORK AND THE LOAD BALANCER in front of the registry, which we do not own: in
production nginx (or a cloud balancer) answers 502/503 with an HTML page while the registry restarts,
a connection dies after the registry has done the work, a captive portal answers 200 with a web page.
Our own components stay real: by default every request is forwarded untouched to the real server, and
only where a test scripts a fault for a method and path does the proxy misbehave, one fault per
request, in order, then it forwards again. It counts the requests it received per method and path, so
a test can tell what a client retried and what it sent once, without any timing.

Responses are HTTP/1.0 style (the connection closes after each one), so a cut connection can never be
mistaken for a stale pooled one.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

__all__ = ["Answer", "Fault", "FaultyProxy", "LoseAnswer", "faulty_proxy", "nginx_error"]

# Per-connection headers a proxy must not pass on (RFC 9110, 7.6.1), plus those it writes itself.
_NOT_PASSED = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
    | {"host", "content-length", "content-encoding", "server", "date"}
)


@dataclass(frozen=True)
class Answer:
    """The proxy answers in the server's place: the server never sees the request."""

    status: int
    body: bytes
    content_type: str = "text/html"


@dataclass(frozen=True)
class LoseAnswer:
    """The request reaches the server, which handles it; the connection is then cut before any answer
    reaches the client, as when a link or a balancer dies at the wrong moment."""


Fault = Answer | LoseAnswer


def nginx_error(status: int) -> Answer:
    """The HTML page nginx's default configuration answers with when its upstream fails."""
    title = f"{status} {HTTPStatus(status).phrase}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Answer(status, page.encode())


class FaultyProxy:
    """The proxy's script and counters; ``url`` is where clients should connect."""

    def __init__(self, url: str, upstream: str) -> None:
        self.url = url
        self._upstream = httpx.Client(base_url=upstream, timeout=60.0)
        self._lock = threading.Lock()
        self._faults: defaultdict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self._received: Counter[tuple[str, str]] = Counter()

    def script(self, method: str, path: str, *faults: Fault) -> None:
        """Misbehave on the next requests to ``method path`` (path without query), one fault each."""
        with self._lock:
            self._faults[(method.upper(), path)].extend(faults)

    def received(self, method: str, path: str) -> int:
        """How many requests to ``method path`` reached the proxy (faulted or forwarded)."""
        with self._lock:
            return self._received[(method.upper(), path)]

    def pending(self) -> dict[tuple[str, str], list[Fault]]:
        """Scripted faults no request has met yet (a test that scripts one expects it to be met)."""
        with self._lock:
            return {key: list(faults) for key, faults in self._faults.items() if faults}

    def close(self) -> None:
        """Close the connections to the upstream server."""
        self._upstream.close()

    def next_fault(self, method: str, path: str) -> Fault | None:
        """Count a request and take the fault scripted for it, if any (for the request handler)."""
        with self._lock:
            self._received[(method, path)] += 1
            faults = self._faults.get((method, path))
            return faults.popleft() if faults else None

    def forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> httpx.Response:
        """Send a request on to the upstream server as received (for the request handler)."""
        kept = [(k, v) for k, v in headers if k.lower() not in _NOT_PASSED]
        return self._upstream.request(method, target, headers=kept, content=body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = FaultyProxy(f"http://127.0.0.1:{self.server_address[1]}", upstream)


class _Handler(BaseHTTPRequestHandler):
    """One request: count it, then forward it, answer in its place, or forward it and hang up."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the counters, not a log."""

    def _handle(self) -> None:
        assert isinstance(self.server, _Server)
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = proxy.next_fault(self.command, urlsplit(self.path).path)
        if isinstance(fault, Answer):
            self._reply(fault.status, [("Content-Type", fault.content_type)], fault.body)
            return
        answer = proxy.forward(self.command, self.path, list(self.headers.items()), body)
        if isinstance(fault, LoseAnswer):
            self.close_connection = True  # nothing written: the client sees the connection drop
            return
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _NOT_PASSED]
        self._reply(answer.status_code, kept, answer.content)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


@contextlib.contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    """Run a proxy to ``upstream`` (a base URL) on a free loopback port for the block's duration."""
    server = _Server(upstream)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.proxy
    finally:
        server.shutdown()
        server.server_close()
        server.proxy.close()
        thread.join()
