"""The one check every JSON request body passes before validation: no string the database cannot
store.

Python's JSON parser turns an escaped lone surrogate such as ``"\\ud800"`` into a ``str`` that
cannot be encoded as UTF-8, and PostgreSQL refuses a NUL character (``"\\u0000"``) in any text
value, while SQLite stores it; either would fail later, deep in a database driver, as a 500. Every
JSON route of the API uses ``CheckedJsonRoute``, which parses the body once (FastAPI reuses the
parsed value), walks it and refuses such a body: a lone surrogate is 400 ``invalid_json`` (the body
is not valid UTF-8 JSON), a NUL is 400 ``invalid_characters``. Paths and query strings get the same
NUL check in ``registry.boundary``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from registry.errors import RegistryError
from registry.gcpause import collector_paused

_SURROGATE = re.compile("[\ud800-\udfff]")
NUL = "\x00"
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")  # NUL, or a surrogate (paired or not)
LARGE_BODY = 256 * 1024  # bytes: some 800 roster rows


def _strings(value: object) -> list[str]:
    """Every string (member names included) anywhere in a parsed JSON value."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def unstorable_error(value: object) -> RegistryError | None:
    """The refusal for a parsed JSON value holding a string the database cannot store, or None."""
    strings = _strings(value)
    if any(_SURROGATE.search(s) for s in strings):
        return RegistryError("invalid_json", "lone UTF-16 surrogate in a string")
    if any(NUL in s for s in strings):
        return RegistryError("invalid_characters", "NUL (U+0000) in a string")
    return None


def _plainly_storable(body: bytes) -> bool:
    """Whether no string of this body can hold a NUL or a lone surrogate, seen from its bytes alone: in
    a UTF-8 body (no BOM: the parser would take UTF-16 or UTF-32 otherwise) either needs a ``\\u0000``
    or ``\\uD800``-``\\uDFFF`` escape, or the lead byte 0xED of a surrogate encoded as UTF-8 (which the
    parser lets through); a raw NUL is not JSON. Walking the parsed value of a 10,000-row batch cost
    ~0.1 s of CPU; this look costs a millisecond."""
    return json.detect_encoding(body) == "utf-8" and b"\xed" not in body and not _RISKY_ESCAPE.search(body)


def _is_large(request: Request) -> bool:
    """A body of a batch's size (by its declared length)."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) >= LARGE_BODY


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    return content_type is None or "json" in content_type.lower()


class CheckedJsonRoute(APIRoute):
    """An API route whose JSON body is refused when it holds a string the database cannot store."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the check."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if _is_large(request):
                with collector_paused():  # a batch's rows: parsed, checked and stored (registry.gcpause)
                    return await _checked(request)
            return await _checked(request)

        async def _checked(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH") and _is_json(request):
                await _check(request)
            return await handler(request)

        return checked


async def _check(request: Request) -> None:
    body = await request.body()
    if not body or _plainly_storable(body):
        return
    try:
        value = await request.json()  # cached on the request: FastAPI does not parse it again
    except (ValueError, RecursionError):
        return  # FastAPI reports a body that is not JSON in its own way (invalid_json)
    error = unstorable_error(value)
    if error is not None:
        raise error
