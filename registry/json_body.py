"""The one check every JSON request body passes before validation: no lone UTF-16 surrogates.

Python's JSON parser turns an escaped lone surrogate such as ``"\\ud800"`` into a ``str`` that
cannot be encoded as UTF-8, so it would fail later, deep in a database driver, as a 500. Every
JSON route of the API uses ``CheckedJsonRoute``, which parses the body once (FastAPI reuses the
parsed value), walks it and refuses such a body with 400 ``invalid_json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from registry.errors import RegistryError

_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(value: object) -> bool:
    """Whether any string (member names included) anywhere in a parsed JSON value holds a surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    return content_type is None or "json" in content_type.lower()


class CheckedJsonRoute(APIRoute):
    """An API route whose JSON body is refused when it holds a lone surrogate."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the surrogate check."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH") and _is_json(request):
                await _check(request)
            return await handler(request)

        return checked


async def _check(request: Request) -> None:
    if not await request.body():
        return
    try:
        value = await request.json()  # cached on the request: FastAPI does not parse it again
    except (ValueError, RecursionError):
        return  # FastAPI reports a body that is not JSON in its own way (invalid_json)
    if has_lone_surrogate(value):
        raise RegistryError("invalid_json", "lone UTF-16 surrogate in a string")
