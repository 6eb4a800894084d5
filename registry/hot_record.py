"""``GET /api/v1/certificates/{number}/record``, answered in front of FastAPI.

Every online verification asks for a record, and FastAPI's layers (its entry, the middlewares, a
router of a hundred routes, dependency solving, two worker-thread hops for a plain ``def`` route
and its response validation) cost several times the look-up itself (docs/performance.md). This
front answers that one request with the same look-up (``certificates.record``), the same JSON and
the same error answers, and hands everything unusual to the whole app: another method, a request
with a body, a path or query the database could not store (``boundary``), a trailing slash.

On SQLite the look-up runs on the event loop: one indexed row from a local file, read in WAL mode,
where readers never wait for a writer, takes less CPU than handing it to a thread would. On
PostgreSQL it waits for the network, so it runs in a worker thread, one hop instead of FastAPI's two.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from common.http import FastJSONResponse
from registry import certificates
from registry.boundary import unstorable
from registry.errors import RegistryError
from registry.http_errors import send_error
from registry.service import Registry

_RECORD = re.compile(r"/api/v1/certificates/([^/]+)/record")
_log = logging.getLogger("skillpass.registry")


class HotRecord:
    """ASGI front (``FrontedFastAPI.front``) answering plain record look-ups; ``app`` is the rest."""

    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self._app = app
        self._registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _RECORD.fullmatch(scope["path"]) if scope["method"] == "GET" else None
        if found is None or _has_body(scope) or unstorable(scope):
            await self._app(scope, receive, send)
            return
        number, sha256 = found.group(1), _sha256(scope["query_string"])
        try:
            if self._registry.db.is_sqlite:
                answer = self._look_up(number, sha256)
            else:
                answer = await to_thread.run_sync(self._look_up, number, sha256)
        except RegistryError as e:
            await send_error(send, scope, e)
            return
        except Exception as e:  # a defect of ours: the same answer and log line as the app's handler
            _log.error("unexpected error", exc_info=e)
            await send_error(send, scope, RegistryError("internal_error"))
            return
        await FastJSONResponse(answer)(scope, receive, send)

    def _look_up(self, number: str, sha256: str | None) -> dict[str, Any]:
        with self._registry.db.read() as conn:
            return certificates.record(conn, number, sha256)


def _sha256(query_string: bytes) -> str | None:
    """The ``sha256`` query parameter as the route reads it (the last one, decoded as Starlette does)."""
    value = None
    for name, item in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "sha256":
            value = item
    return value


def _has_body(scope: Scope) -> bool:
    """Whether the request says it has a body (the body limit and its refusal are the app's)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False
