"""How a console page is built: the one place that checks the session, the role and the CSRF token.

To add pages (e.g. supervision), write a module with its own router and register it in
``registry/console/__init__.py`` (``PAGE_MODULES``)::

    from registry.console.kit import Action, NavItem, Viewer, add_nav, console_router, form, render
    from registry.console.accounts import ADMIN, SUPERVISOR

    router = console_router()
    add_nav(NavItem("/console/complaints", "投诉处理", "Complaints", (ADMIN, SUPERVISOR)))

    @router.get("/complaints")
    def complaints(request: Request, who: Annotated[Session, Viewer(ADMIN, SUPERVISOR)]) -> HTMLResponse:
        return render(request, who, "投诉处理", "Complaints", main)

    @router.post("/complaints/{n}/close")
    def close(request: Request, who: Annotated[Session, Action(ADMIN, SUPERVISOR)], n: int) -> Response:
        return act(request, lambda conn: ..., then="/console/complaints")

``Viewer(*roles)`` answers a page: no live session → 303 to ``/console/login``; another role → 403.
``Action(*roles)`` guards a POST: the same, and first the form's ``csrf_token`` must equal the
session's (else 403 ``csrf_failed``). ``form(request, who, path, body, button)`` writes a POST form
with that token. ``tests/test_console_security.py`` walks every ``/console`` route of the app, so a
page or action added without these guards fails the suite.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from registry.console import layout
from registry.console.sessions import Session, find, touch
from registry.deps import RegistryDep
from registry.errors import RegistryError
from registry.service import Registry
from registry.templates.markup import Safe, fill, href
from registry.templates.text import Lang, lang_of

T = TypeVar("T")
SESSION_COOKIE: Final = "skillpass_console"
PREFIX: Final = "/console"
HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the console's navigation, shown only to the roles that may open it."""

    path: str
    label_zh: str
    label_en: str
    roles: tuple[str, ...]


NAV: list[NavItem] = []


def add_nav(item: NavItem) -> None:
    """Add a navigation entry (once per path)."""
    if all(existing.path != item.path for existing in NAV):
        NAV.append(item)


class SignInRequiredError(Exception):
    """No live session: the handler answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class RefusedError(Exception):
    """A signed-in person may not do this (wrong role, or a missing or wrong CSRF token)."""

    def __init__(self, error: RegistryError, session: Session) -> None:
        super().__init__(error.code)
        self.error = error
        self.session = session


def console_router() -> APIRouter:
    """A router for console pages (under ``/console``, outside the OpenAPI document)."""
    return APIRouter(prefix=PREFIX, include_in_schema=False)


def page_lang(request: Request) -> Lang:
    """The reader's language (``?lang=en``, else Chinese)."""
    return lang_of(request.query_params.get("lang"))


def signed_in(request: Request, reg: RegistryDep) -> Session:
    """The live session behind the cookie, or ``SignInRequiredError``."""
    now = reg.now()
    with reg.db.read() as conn:
        session, stale = find(conn, request.cookies.get(SESSION_COOKIE), now)
    if session is None:
        raise SignInRequiredError(request.url.path)
    if stale:
        reg.db.write(lambda conn: touch(conn, session.digest, now))
    return session


def _require(session: Session, roles: tuple[str, ...]) -> Session:
    if session.account.role not in roles:
        raise RefusedError(RegistryError("forbidden", f"needs role {' or '.join(roles)}"), session)
    return session


def Viewer(*roles: str) -> Any:  # noqa: N802 (reads as a type in annotations)
    """Dependency: a signed-in person with one of ``roles``."""

    def check(session: Session = Depends(signed_in)) -> Session:  # noqa: B008
        return _require(session, roles)

    return Depends(check)


def Action(*roles: str) -> Any:  # noqa: N802
    """Dependency for a POST: a signed-in person with one of ``roles`` whose form carries the CSRF token."""

    async def check(request: Request, session: Session = Depends(signed_in)) -> Session:  # noqa: B008
        submitted = (await request.form()).get("csrf_token")
        if not isinstance(submitted, str) or not hmac.compare_digest(submitted, session.csrf_token):
            raise RefusedError(RegistryError("csrf_failed"), session)
        return _require(session, roles)

    return Depends(check)


def registry_of(request: Request) -> Registry:
    """The registry behind this app."""
    found: Registry = request.app.state.registry
    return found


def link(request: Request, path: str, **params: str | int) -> str:
    """A console URL keeping the reader's language."""
    return href(path, page_lang(request), **params)


def csrf_field(session: Session) -> Safe:
    """The hidden field every console form carries."""
    return fill('<input type="hidden" name="csrf_token" value="{token}">', token=session.csrf_token)


def form(
    request: Request, session: Session, path: str, body: Safe | str, button: str, kind: str = ""
) -> Safe:
    """A POST form to ``path`` with the CSRF token, ``body`` (fields) and one submit button."""
    return fill(
        '<form method="post" class="act {kind}" action="{action}">{csrf}{body}<button type="submit">{button}</button></form>',
        kind=kind,
        action=link(request, path),
        csrf=csrf_field(session),
        body=body if isinstance(body, Safe) else fill("{t}", t=body),
        button=button,
    )


def render(
    request: Request, session: Session, title_zh: str, title_en: str, main: Safe, status: int = 200
) -> HTMLResponse:
    """A console page in the reader's language, with the navigation this person may use."""
    lang = page_lang(request)
    title = title_zh if lang == "zh" else title_en
    items = [
        (n.path, n.label_zh if lang == "zh" else n.label_en) for n in NAV if session.account.role in n.roles
    ]
    sign_out = form(request, session, f"{PREFIX}/logout", "", layout.word(lang, "sign_out"), "inline")
    text = layout.console_page(lang, title, main, request.url.path, items, session.account, sign_out)
    return HTMLResponse(text, status, headers=HEADERS)


def redirect(request: Request, path: str, **params: str | int) -> RedirectResponse:
    """303 See Other to a console page (after a POST), keeping the language."""
    return RedirectResponse(link(request, path, **params), status_code=303, headers=HEADERS)


def error_page(request: Request, session: Session, error: RegistryError, back: str) -> HTMLResponse:
    """What went wrong, in the reader's language, with a way back."""
    lang = page_lang(request)
    message = error.message_zh if lang == "zh" else error.message_en
    key = "message_zh" if lang == "zh" else "message_en"
    details = [f"{d.get('pointer', '')} {d.get(key, d.get('code', ''))}".strip() for d in error.details]
    body = layout.notice_with_back(lang, message, link(request, back), details)
    return render(request, session, "未能完成", "Not done", body, error.status)


def act(
    request: Request, session: Session, work: Callable[[Connection], Any], then: str, back: str
) -> Response:
    """Run ``work`` in one write transaction and go to ``then``; a refusal shows its message instead."""
    reg = registry_of(request)
    try:
        reg.db.write(work)
    except RegistryError as e:
        return error_page(request, session, e, back)
    return redirect(request, then)


def sign_in_redirect(request: Request, next_path: str) -> RedirectResponse:
    """303 to the sign-in page, remembering where the person was going."""
    target = f"{PREFIX}/login?next={quote(next_path, safe='/')}"
    if page_lang(request) == "en":
        target += "&lang=en"
    return RedirectResponse(target, status_code=303, headers=HEADERS)
