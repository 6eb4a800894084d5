"""The registry's busiest requests, answered in front of FastAPI: the two on every online
verification's path, ``GET /api/v1/certificates/{number}/record`` and ``POST …/{number}/confirm-holder``,
and the public query, ``POST /api/v1/certificates/query``.

FastAPI's layers (its entry, the middlewares, a router of a hundred routes, dependency solving, two
worker-thread hops for a plain ``def`` route and its response validation) cost several times the
look-ups themselves (docs/performance.md). This front answers them with the same look-ups
(``certificates.record``, ``query.confirm_holder``, ``query.answer``), the same checks in the same order and the same
JSON, and hands everything unusual to the whole app, which answers it as before: another method,
a body where none belongs or a body that is not plain JSON of a declared length within the limit,
a body that does not validate or holds what the database could not store (``json_body``), a path or
query with a NUL (``boundary``), a trailing slash. Confirm-holder and the query take their
rate-limit token here only for a valid body, as the routes do after validation.

On SQLite a look-up runs on the event loop: one indexed row from a local file, read in WAL mode,
where readers never wait for a writer, takes less CPU than handing it to a thread would. On
PostgreSQL it waits for the network, so it runs in a worker thread, one hop instead of FastAPI's two.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from anyio import to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from common.http import FastJSONResponse, replaying, whole_body
from registry import certificates, query
from registry.boundary import unstorable
from registry.deps import within_rate_limit
from registry.errors import RegistryError
from registry.http_errors import send_error
from registry.json_body import unstorable_error
from registry.models import ConfirmHolderIn, QueryIn
from registry.service import Registry

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
_QUERY = "/api/v1/certificates/query"
_RECORD = re.compile(r"/api/v1/certificates/([^/]+)/record")
_CONFIRM = re.compile(r"/api/v1/certificates/([^/]+)/confirm-holder")
_log = logging.getLogger("skillpass.registry")


class HotPaths:
    """ASGI front (``FrontedFastAPI.front``) for record look-ups, holder confirmations and public
    queries; ``app`` is the whole app, for everything else."""

    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self._app = app
        self._registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        record = _RECORD.fullmatch(path) if method == "GET" else None
        if record is not None and not _declared_body(scope) and not unstorable(scope):
            await self._record(scope, receive, send, record.group(1))
            return
        if method == "POST" and self._plain_json(scope) and not unstorable(scope):
            if path == _QUERY:
                await self._query(scope, receive, send)
                return
            confirm = _CONFIRM.fullmatch(path)
            if confirm is not None:
                await self._confirm(scope, receive, send, confirm.group(1))
                return
        await self._app(scope, receive, send)

    async def _record(self, scope: Scope, receive: Receive, send: Send, number: str) -> None:
        sha256 = _sha256(scope["query_string"])

        def look_up() -> dict[str, Any]:
            with self._registry.db.read() as conn:
                return certificates.record(conn, number, sha256)

        await self._answer(scope, receive, send, look_up)

    async def _confirm(self, scope: Scope, receive: Receive, send: Send, number: str) -> None:
        body = await self._rate_limited_body(scope, receive, send, ConfirmHolderIn)
        if body is None:
            return
        registry = self._registry

        def look_up() -> dict[str, Any]:
            with registry.db.read() as conn:
                match = query.confirm_holder(conn, number, body.holder_name, body.id_number, registry.digests)
            return {"match": match}

        await self._answer(scope, receive, send, look_up)

    async def _query(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._rate_limited_body(scope, receive, send, QueryIn)
        if body is None:
            return
        registry = self._registry
        await self._answer(scope, receive, send, lambda: query.answer(registry.db, body, registry.digests))

    async def _rate_limited_body(
        self, scope: Scope, receive: Receive, send: Send, model: type[M]
    ) -> M | None:
        """The body as ``model``, once a rate-limit token is taken for it; None when the request was
        answered instead: by the app for a body it refuses (it words the refusal, from the same
        bytes), or ``rate_limited``."""
        raw = await whole_body(receive)
        body = _valid_body(raw, model)
        if body is None:
            await self._app(scope, replaying(raw, receive), send)
            return None
        if not within_rate_limit(self._registry, Request(scope)):
            await send_error(send, scope, RegistryError("rate_limited"))
            return None
        return body

    async def _answer(self, scope: Scope, receive: Receive, send: Send, look_up: Callable[[], T]) -> None:
        """Run ``look_up`` (on the loop for SQLite, in a thread otherwise) and answer its JSON, or
        the error JSON the app's handlers would give."""
        try:
            answer = look_up() if self._registry.db.is_sqlite else await to_thread.run_sync(look_up)
        except RegistryError as e:
            await send_error(send, scope, e)
            return
        except Exception as e:  # a defect of ours: the same answer and log line as the app's handler
            _log.error("unexpected error", exc_info=e)
            await send_error(send, scope, RegistryError("internal_error"))
            return
        await FastJSONResponse(answer)(scope, receive, send)

    def _plain_json(self, scope: Scope) -> bool:
        """A body declared as JSON, of a declared length within the body limit, not chunked."""
        length, json_type = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"content-type":
                json_type = value.split(b";", 1)[0].strip().lower() == b"application/json"
            elif name == b"transfer-encoding":
                return False
        return json_type and length is not None and length <= self._registry.settings.max_body_bytes


def _valid_body(raw: bytes, model: type[M]) -> M | None:
    """The body as the route reads it (``json.loads``, the storable-strings check, then the model),
    or None for anything the route would refuse."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if unstorable_error(value) is not None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _sha256(query_string: bytes) -> str | None:
    """The ``sha256`` query parameter as the route reads it (the last one, decoded as Starlette does)."""
    value = None
    for name, item in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "sha256":
            value = item
    return value


def _declared_body(scope: Scope) -> bool:
    """Whether the request says it has a body (the body limit and its refusal are the app's)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False
