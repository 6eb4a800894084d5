"""The appraisal centre's console (评价管理控制台) under ``/console/``: personal accounts, the review
queue, the directory and what each institution issued, server-rendered, zh-CN first.

``install(app)`` mounts every module in ``PAGE_MODULES`` (each has a ``router``) and the handlers
that turn a missing session into a redirect to the sign-in page and a refusal into a page. To add
pages, see ``registry/console/kit.py``: write a module with a ``router`` from ``console_router()``,
guard each page with ``Viewer(*roles)`` and each POST with ``Action(*roles)``, then list the module
here.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import Response

from registry.console.kit import RefusedError, SignInRequiredError, error_page, sign_in_redirect

PAGE_MODULES: Final = (
    "registry.console.auth",
    "registry.console.review",
    "registry.console.directory",
    "registry.console.tokens",
    "registry.console.complaints",
    "registry.console.supervision",
    "registry.console.signals",
)
_CSS = (Path(__file__).parent / "console.css").read_bytes()


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)
    return sign_in_redirect(request, exc.next_path)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RefusedError)
    return error_page(request, exc.session, exc.error, "/console/")


def _stylesheet() -> Response:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def install(app: FastAPI) -> None:
    """Mount the console on the registry app."""
    app.add_exception_handler(SignInRequiredError, _sign_in_required)
    app.add_exception_handler(RefusedError, _refused)
    app.add_api_route("/static/console.css", _stylesheet, methods=["GET"], include_in_schema=False)
    for name in PAGE_MODULES:
        app.include_router(import_module(name).router)
