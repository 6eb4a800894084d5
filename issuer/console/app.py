"""The console's ASGI app: its pages, the gate in front of them, and the few open paths."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from issuer.client import RegistryClient
from issuer.console import pages
from issuer.console.guard import COOKIE, Guard
from issuer.console.html import CSS, bi
from issuer.console.html import page as frame
from issuer.console.jobs import Jobs
from issuer.console.workspace import Workspace

_OPEN_PATHS = frozenset({"/open", "/healthz", "/console.css"})
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(
    client: RegistryClient, institution_code: str, key_path: Path, work_dir: Path, guard: Guard
) -> FastAPI:
    """The console for one institution (its registry client holds the institution's token)."""
    app = FastAPI(title="skillpass institution console", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = pages.ConsoleState(
        institution_code, client, key_path, Workspace(work_dir, institution_code), Jobs(), guard
    )
    app.include_router(pages.router)
    app.add_middleware(_Gate, guard=guard)

    @app.get("/open")
    def open_session(key: str = "") -> Response:
        """The printed link: the launch key buys a session cookie."""
        if not guard.opens(key):
            return _refused(403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, guard.session, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/console.css")
    def stylesheet() -> Response:
        return Response(CSS, media_type="text/css")

    @app.exception_handler(pages.CsrfRefusedError)
    def csrf_refused(_request: Request, _error: pages.CsrfRefusedError) -> Response:
        body = bi(
            "表单已失效，请返回刷新后重试（csrf_failed）", "The form has expired: go back, reload, retry"
        )
        return HTMLResponse(frame(bi("未能完成", "Not done"), institution_code, body), 403)

    return app


def _refused(status: int) -> HTMLResponse:
    body = bi(
        "请打开 skillpass issuer console 命令打印的链接（只在本机有效）。",
        "Open the link that skillpass issuer console printed (it works on this machine only).",
    )
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>机构发证台</title><p>{body}</p>", status)


class _Gate(BaseHTTPMiddleware):
    """Host check on every request; the session cookie on every page but the open ones (see ``guard``)."""

    def __init__(self, app: object, guard: Guard) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.guard = guard

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not self.guard.host_ok(request.headers.get("host")):
            return _refused(421)
        if request.url.path not in _OPEN_PATHS and not self.guard.has_session(request.cookies.get(COOKIE)):
            return _refused(403)
        response = await call_next(request)
        response.headers.update(_HEADERS)
        return response
