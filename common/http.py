"""What both HTTP services share about their transport: JSON answers encoded by orjson, and uvicorn
run on its C parser (httptools) and libuv loop (uvloop).

The standard encoder and the pure-Python parser each cost more per request than a whole offline
verification (docs/performance.md), so the services answer through ``FastJSONResponse`` and start
uvicorn with ``UVICORN_SPEED``. For the same reason each service answers its few hot requests in
front of FastAPI (``FrontedFastAPI``).
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

import orjson
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UVICORN_SPEED", "FastJSONResponse", "FrontedFastAPI", "json_bytes", "replaying", "whole_body"]


class _UvicornSpeed(TypedDict):
    http: Literal["httptools"]
    loop: Literal["uvloop"]


#: uvicorn options for both services: the compiled HTTP parser and event loop.
UVICORN_SPEED: Final[_UvicornSpeed] = {"http": "httptools", "loop": "uvloop"}


def json_bytes(content: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese stays readable, not ``\\u`` escaped), as Starlette writes it."""
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class FastJSONResponse(JSONResponse):
    """A ``JSONResponse`` encoded by orjson: the same bytes' meaning, several times faster."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class FrontedFastAPI(FastAPI):
    """A FastAPI app with a front: an ASGI callable that sees every HTTP request first, answers the
    few hot ones itself and hands the rest to ``layers`` (FastAPI with all its middleware).

    FastAPI's own entry (its telemetry check reads the environment on every request), Starlette's
    error and body-limit layers, the service's middlewares, the router and the endpoint machinery
    cost more than the hot requests themselves (docs/performance.md). A front must do itself what
    those layers would have done for the requests it answers (headers, limits, error shapes), and
    hand over anything unusual. Without a front the app is plain FastAPI.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def layers(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything behind the front: FastAPI with its middleware, handlers and routes."""
        await super().__call__(scope, receive, send)


async def whole_body(receive: Receive) -> bytes:
    """A request's body, read whole (a front reads it only when its declared length is within the limit)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body a front already read, then whatever the connection says next, so
    the request can still go to the whole app."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay
