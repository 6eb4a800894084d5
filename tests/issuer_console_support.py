"""Shared helpers for the institution console's tests (no tests here): a console app for an institution
of a running registry world, served on loopback on the port its guard names."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from harness.ports import free_port
from harness.servers import serve_app
from test_issuer_run_support import World

from issuer.client import RegistryClient
from issuer.console.app import create_app
from issuer.console.guard import COOKIE, Guard


@dataclass
class RunningConsole:
    """A console served on loopback: its URL, guard and work folder."""

    url: str
    guard: Guard
    work_dir: Path
    app: FastAPI

    def signed_in(self) -> httpx.Client:
        """An HTTP client that opened the printed link (it holds the session cookie)."""
        client = httpx.Client(base_url=self.url, timeout=60)
        opened = client.get(f"/open?key={self.guard.launch_key}")
        assert opened.status_code == 303, opened.text
        assert COOKIE in client.cookies
        return client


@contextlib.contextmanager
def running_console(world: World, work_dir: Path, code: str, token: str) -> Iterator[RunningConsole]:
    """The console of institution ``code`` (acting with ``token``) for the registry of ``world``."""
    port = free_port()
    guard = Guard("127.0.0.1", port)
    with RegistryClient(world.url, token) as client:
        app = create_app(client, code, world.key, work_dir, guard)
        with serve_app(app, port=port) as url:
            yield RunningConsole(url, guard, work_dir, app)
