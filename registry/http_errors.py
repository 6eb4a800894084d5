"""The one place where failures become HTTP answers: our errors, FastAPI's request validation,
Starlette's routing errors and oversized bodies all leave as the same error JSON, never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.http import FastJSONResponse
from registry.errors import RegistryError

_log = logging.getLogger("skillpass.registry")
_BY_STATUS = {
    400: "invalid_json",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _respond(error: RegistryError) -> FastJSONResponse:
    headers = {"Retry-After": "1"} if error.code in ("rate_limited", "too_busy") else None
    return FastJSONResponse(error.to_json(), status_code=error.status, headers=headers)


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = (
        [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path") else [str(p) for p in loc]
    )
    return "".join(f"/{p}" for p in parts)


async def _registry_error(_request: Request, exc: Exception) -> FastJSONResponse:
    assert isinstance(exc, RegistryError)
    return _respond(exc)


async def _validation_error(_request: Request, exc: Exception) -> FastJSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return _respond(RegistryError("invalid_json"))
    details = [
        {
            "pointer": _pointer(tuple(e.get("loc", ()))),
            "code": str(e.get("type")),
            "message_en": str(e.get("msg")),
        }
        for e in errors
    ]
    return _respond(RegistryError("invalid_request", details=details))


async def _http_error(_request: Request, exc: Exception) -> FastJSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, RegistryError):  # raised while FastAPI read the body (BodyLimit)
        return _respond(exc.__cause__)
    return _respond(RegistryError(_BY_STATUS.get(exc.status_code, "invalid_request")))


async def _unexpected(_request: Request, exc: Exception) -> FastJSONResponse:
    """A defect of ours: the caller gets the error JSON (never a traceback); the log gets the trace."""
    _log.error("unexpected error", exc_info=exc)
    return _respond(RegistryError("internal_error"))


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class _BodyTooLargeError(RegistryError):
    def __init__(self) -> None:
        super().__init__("body_too_large")


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with 413 ``body_too_large``,
    by the declared length before reading, or while reading a body sent without one."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._limit):
            await send_error(send, scope, RegistryError("body_too_large"))
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._limit:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await send_error(send, scope, RegistryError("body_too_large"))


async def send_error(send: Send, scope: Scope, error: RegistryError) -> None:
    """Answer ``error`` as the error JSON from inside an ASGI middleware (the body is not read)."""
    response = _respond(error)

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
