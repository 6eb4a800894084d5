"""Real HTTP servers on loopback for integration and browser tests.

Tests talk to our services the way users do - over TCP - instead of through in-process test clients,
so that routing, headers, streaming and the CLI's own `serve` commands are exercised for real.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import httpx
import uvicorn

from harness.ports import free_port

__all__ = ["ServerError", "free_port", "run_process_server", "serve_app"]

_STARTUP_SECONDS = 30.0
_STOP_SECONDS = 10.0
_POLL_SECONDS = 0.05


class ServerError(RuntimeError):
    """A test server did not come up or did not go down; the message carries its output."""


@contextlib.contextmanager
def serve_app(app: Any, port: int = 0, **uvicorn_options: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread; yield its base URL "http://127.0.0.1:PORT"
    (``port`` 0: any free port; an app that must know its own port is given one from ``free_port``).

    We bind the socket ourselves and hand it to uvicorn, so there is no window in which another
    process could take the port. It must name IPPROTO_TCP: asyncio turns Nagle's algorithm off
    (TCP_NODELAY) only on connections whose socket says so, and without that every response waits
    about 40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    # proxy_headers off, as both services' serve() runs: they decide who the client is themselves
    # (common.clients), so uvicorn must not rewrite the peer from X-Forwarded-For first.
    options: dict[str, Any] = {
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
    }
    config = uvicorn.Config(app, **(options | uvicorn_options))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started, lambda: not thread.is_alive(), "uvicorn app")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_STOP_SECONDS)
        sock.close()
        if thread.is_alive():
            raise ServerError(f"uvicorn on port {port} did not stop within {_STOP_SECONDS} s")


@contextlib.contextmanager
def run_process_server(
    argv: list[str], url_for_health: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `argv` as a real process, wait until `url_for_health` answers 2xx, yield it, then kill it.

    `env` is added to the current environment. The process gets its own process group so that
    whatever it spawns dies with it. On a failed start the error includes its output.
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            try:
                _wait_until(lambda: _healthy(url_for_health), lambda: process.poll() is not None, argv[0])
            except ServerError as e:
                raise ServerError(f"{e}\n{argv!r} said:\n{_read_all(output)}") from e
            yield process
        finally:
            _stop_group(process)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).is_success
    except httpx.HTTPError:
        return False


def _wait_until(ready: Callable[[], bool], dead: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while not ready():
        if dead():
            raise ServerError(f"{what} exited before it was ready")
        if time.monotonic() > deadline:
            raise ServerError(f"{what} was not ready after {_STARTUP_SECONDS} s")
        time.sleep(_POLL_SECONDS)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first so servers can flush; SIGKILL whatever is left of the group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_all(output: IO[bytes]) -> str:
    output.seek(0)
    text: str = output.read().decode(errors="replace")
    return text[-4000:]
