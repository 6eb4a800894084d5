"""Running the demo's two services: the registry in a background thread, the verifier in front."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from common.errors import SkillpassError


class DemoError(SkillpassError):
    """A demo step that failed in a way a person can fix (a busy port, say)."""


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread, started and stopped explicitly."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.host, self.port = host, port
        require_free_port(host, port)
        # No proxy in the demo: uvicorn must not take a client's X-Forwarded-For for its address.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"server-{port}", daemon=True)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start serving and wait until it accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise DemoError(
                    "server_failed", f"服务未能启动：{self.url}", f"the server did not start: {self.url}"
                )
            time.sleep(0.05)

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the server to end (it ends only when stopped)."""
        self._thread.join(timeout)

    def stop(self, grace: float = 10.0) -> None:
        """Ask uvicorn to finish; after ``grace`` seconds (a client holding a connection open, say)
        force it, so that stopping the demo never waits on a client."""
        self._server.should_exit = True
        self._thread.join(timeout=grace)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=grace)


def require_free_port(host: str, port: int) -> None:
    """A clear error before uvicorn would exit on a port that is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise DemoError(
                "port_in_use",
                f"端口 {host}:{port} 已被占用，请用 --registry-port / --verifier-port 换一个",
                f"port {host}:{port} is in use; choose another with --registry-port / --verifier-port",
            ) from e
