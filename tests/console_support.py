"""Shared helpers for the console tests (no tests here): staff accounts on a test registry and an
HTTP client that signs in through the form and posts forms with their CSRF token, like a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from test_registry_support import Api

from registry.clock import Now
from registry.console import accounts
from registry.db import Database

PASSWORDS = {
    "admin": "admin-password-0001",
    "reviewer": "reviewer-password-01",
    "supervisor": "supervisor-pass-001",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_staff(api: Api, username: str, role: str, password: str | None = None) -> str:
    """Create a console account directly in the registry's database; returns its password."""
    assert api.settings is not None
    chosen = password or PASSWORDS[role]
    db = Database(api.settings.database_url)
    now = Now.read(api.clock)
    try:
        db.write(lambda conn: accounts.create_user(conn, username, role, chosen, now, "test"))
    finally:
        db.dispose()
    return chosen


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, html[:2000]
    return found.group(1)


@dataclass
class Console:
    """One person's browser-like session with the console (cookies kept, redirects not followed)."""

    api: Api
    client: httpx.Client = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.api.url, follow_redirects=False, timeout=30)

    def sign_in(self, username: str, password: str) -> httpx.Response:
        """Fill the sign-in form as a browser would; on success remember the session's CSRF token."""
        form = self.client.get("/console/login")
        response = self.client.post(
            "/console/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": csrf_of(form.text),
                "next": "/console/",
            },
        )
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/console/").text)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """POST a form with the session's CSRF token (``csrf=""`` leaves it out)."""
        body = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            body["csrf_token"] = token
        return self.client.post(path, data=body)

    def close(self) -> None:
        self.client.close()
