"""Paths and query strings the database could not store are refused before any route sees them.

PostgreSQL refuses a NUL character in a text value, so ``GET /api/v1/institutions/a%00b`` would
reach the database and fail there as a 500, while SQLite quietly answers 404. The same request must
get the same answer on both: this ASGI middleware answers 400 ``invalid_characters`` to any request
whose decoded path or query string holds a NUL. (JSON bodies get the same check, and the lone
surrogate check, in ``registry.json_body``; form fields only ever meet Python comparisons.)
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from registry.errors import RegistryError
from registry.http_errors import send_error


def unstorable(scope: Scope) -> bool:
    """Whether the request's path or query string, once percent-decoded, holds a NUL."""
    path = scope.get("path", "")
    raw_path = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return "\x00" in path or b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query)


class RefuseUnstorable:
    """ASGI middleware: 400 ``invalid_characters`` for a NUL anywhere in the path or query string."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and unstorable(scope):
            await send_error(send, scope, RegistryError("invalid_characters", "NUL (U+0000) in the URL"))
            return
        await self._app(scope, receive, send)
