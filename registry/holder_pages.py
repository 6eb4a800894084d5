"""The holder's public pages: ``/holder`` (我的证书) and share links under ``/s/``.

Every request here takes from the per-client query rate limit, like the public query; the proof of
holdership arrives only in POST bodies. Pages run no script; the full-screen QR is an inline PNG
(``data:`` image, allowed by this router's Content-Security-Policy and nothing else).
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, Final, NamedTuple

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from common.qrimage import render_png
from credential.qr_text import to_qr_text
from registry import holder, query
from registry.deps import RegistryDep, within_rate_limit
from registry.errors import RegistryError
from registry.service import Registry
from registry.templates import views_holder
from registry.templates.text import Lang, lang_of

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
LangQuery = Annotated[str | None, Query()]
_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
_QR_SCALE: Final = 10


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status, headers=_HEADERS)


def _clean_id(id_number: str) -> str:
    return "".join(unicodedata.normalize("NFKC", id_number).split()).upper()[:32]


def _clean_number(number: str) -> str:
    return "".join(unicodedata.normalize("NFKC", number).split()).upper()[:22]


class _Claim(NamedTuple):
    """What a holder types to prove a certificate is theirs, cleaned once for every route."""

    number: str
    name: str
    id_number: str


def _claim(number: str, name: str, id_number: str) -> _Claim:
    return _Claim(_clean_number(number), name[:64], _clean_id(id_number))


def _limited(reg: Registry, request: Request, lang: Lang) -> HTMLResponse | None:
    if within_rate_limit(reg, request):
        return None
    page = views_holder.find_page(lang, views_holder.message(lang, "rate_limited"))
    response = _html(page, 429)
    response.headers["Retry-After"] = "1"
    return response


def _guarded(reg: Registry, request: Request, lang: Lang, build: Callable[[], Response]) -> Response:
    """Rate limit, then ``build()``; a not-found of any kind is the one not-found page."""
    limited = _limited(reg, request, lang)
    if limited is not None:
        return limited
    try:
        return build()
    except RegistryError as e:
        if e.code == "not_found":
            return _html(views_holder.find_page(lang, views_holder.not_found(lang)), 404)
        if e.code == "share_days_invalid":
            return _html(views_holder.find_page(lang, views_holder.message(lang, "days_invalid")), 422)
        raise


@router.get("/holder", response_class=HTMLResponse)
def holder_form(lang: LangQuery = None) -> HTMLResponse:
    """The find form."""
    return _html(views_holder.find_page(lang_of(lang)))


def _certificates(reg: Registry, lang: Lang, name: str, id_number: str) -> HTMLResponse:
    if not name.strip() or not id_number:
        return _html(views_holder.find_page(lang, views_holder.message(lang, "form_error")), 422)
    now = reg.now()
    with reg.db.read() as conn:
        found: dict[str, Any] = query.by_holder(conn, name[:64], id_number, reg.digests)
        numbers = [a["certificate"]["certificate_number"] for a in found["certificates"]]
        links = {n: holder.links_of(conn, n) for n in numbers}
    page = views_holder.certificates_page(
        lang, name.strip()[:64], id_number, found["certificates"], links, now.unix
    )
    return _html(page)


@router.post("/holder", response_class=HTMLResponse)
def holder_find(
    reg: RegistryDep, request: Request, lang: LangQuery = None, name: FormText = "", id_number: FormText = ""
) -> Response:
    """The holder's published certificates (the same not-found answer for any mismatch)."""
    page_lang = lang_of(lang)
    return _guarded(
        reg, request, page_lang, lambda: _certificates(reg, page_lang, name, _clean_id(id_number))
    )


def _qr_text(reg: Registry, claim: _Claim) -> str:
    with reg.db.read() as conn:
        cose = holder.credential_of(conn, *claim, reg.digests)
    return to_qr_text(cose)


@router.post("/holder/qr", response_class=HTMLResponse)
def holder_qr(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    name: FormText = "",
    id_number: FormText = "",
    number: FormText = "",
) -> Response:
    """The certificate's QR alone on the screen, large, for showing on a phone."""
    page_lang = lang_of(lang)

    claim = _claim(number, name, id_number)

    def build() -> Response:
        png = render_png(_qr_text(reg, claim), scale=_QR_SCALE)
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return _html(views_holder.qr_page(page_lang, claim.number, claim.name.strip(), claim.id_number, uri))

    return _guarded(reg, request, page_lang, build)


@router.post("/holder/qr.png")
def holder_qr_png(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    name: FormText = "",
    id_number: FormText = "",
    number: FormText = "",
) -> Response:
    """The certificate's QR as a PNG file to save."""
    page_lang = lang_of(lang)

    claim = _claim(number, name, id_number)

    def build() -> Response:
        png = render_png(_qr_text(reg, claim), scale=_QR_SCALE)
        filename = f"{claim.number}.png"
        headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(png, media_type="image/png", headers=headers)

    return _guarded(reg, request, page_lang, build)


@router.post("/holder/share", response_class=HTMLResponse)
def holder_share(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    name: FormText = "",
    id_number: FormText = "",
    number: FormText = "",
    days: FormText = "",
) -> Response:
    """Make a share link (the token is shown on this answer only)."""
    page_lang = lang_of(lang)

    claim = _claim(number, name, id_number)

    def build() -> Response:
        chosen = int(days) if days.strip().isdigit() and len(days.strip()) <= 3 else 0
        now = reg.now()
        token, link = reg.db.write(lambda conn: holder.create_link(conn, *claim, chosen, reg.digests, now))
        url = f"{reg.settings.base_url}/s/{token}"
        return _html(views_holder.created_page(page_lang, url, link.expires_at), 201)

    return _guarded(reg, request, page_lang, build)


@router.post("/holder/share/revoke", response_class=HTMLResponse)
def holder_share_revoke(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    name: FormText = "",
    id_number: FormText = "",
    number: FormText = "",
    link_id: FormText = "",
) -> Response:
    """End one of the certificate's share links."""
    page_lang = lang_of(lang)

    claim = _claim(number, name, id_number)

    def build() -> Response:
        now = reg.now()
        reg.db.write(lambda conn: holder.revoke_link(conn, *claim, link_id.strip()[:12], reg.digests, now))
        return _html(views_holder.revoked_page(page_lang))

    return _guarded(reg, request, page_lang, build)


@router.get("/s/{token}", response_class=HTMLResponse)
def shared(reg: RegistryDep, request: Request, token: str, lang: LangQuery = None) -> Response:
    """What a share link shows: the certificate (ID masked) and its live status, or that it is gone."""
    page_lang = lang_of(lang)
    limited = _limited(reg, request, page_lang)
    if limited is not None:
        return limited
    try:
        with reg.db.read() as conn:
            answer = holder.open_link(conn, token, reg.now())
    except RegistryError as e:
        if e.code != "share_link_gone":
            raise
        return _html(views_holder.gone_page(page_lang), 404)
    return _html(views_holder.share_page(page_lang, answer, f"/s/{token}"))
