"""The registry's public web pages (全国联网查询): certificate query, institution directory and the
audit log's latest checkpoint, rendered on the server in Chinese (``?lang=en`` for English).

The pages call the same service functions as the JSON API (``query.by_number``,
``load_institutions``, ``AuditLog.checkpoint``) and share its per-client query rate limit. Every
failure becomes a page in the reader's language, never a stack trace; no page runs a script,
and the Content-Security-Policy forbids them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from credential.errors import CredentialError
from credential.signed_document import TYP_CHECKPOINT, open_document
from keys import PublicKey
from keys.recipes import b64url_decode
from registry import query
from registry.credit import credit_file
from registry.deps import RegistryDep, within_rate_limit
from registry.errors import RegistryError
from registry.institutions import load_institution, load_institutions
from registry.templates import layout, views_audit, views_certificates, views_directory
from registry.templates.text import TEXT, Lang, lang_of

router = APIRouter(include_in_schema=False)

_CSS = (Path(__file__).parent / "templates" / "registry.css").read_bytes()
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_NUMBER = re.compile(r"[YS][0-9]{21}")
_INSTITUTION_CODE = re.compile(r"[YS][0-9]{12}")
_NAME_MAX = 64  # what the JSON query accepts (models.QueryIn)
_ECHO_MAX = 64  # never echo more than this of what was typed
_FILTER_MAX = 60

LangQuery = Annotated[str | None, Query()]


def html_response(text: str, status: int = 200, *, private: bool = False, **headers: str) -> HTMLResponse:
    cache = "no-store" if private else "no-cache"
    return HTMLResponse(text, status, headers={**_HEADERS, "Cache-Control": cache, **headers})


def guarded(lang: Lang, path: str, build: Callable[[], HTMLResponse]) -> HTMLResponse:
    """``build()``, or the registry error it raised as a page in the reader's language."""
    try:
        return build()
    except RegistryError as e:
        message = e.message_zh if lang == "zh" else e.message_en
        title = TEXT[lang]["error_title"]
        return html_response(layout.error_page(lang, title, message, path), e.status, private=True)


@router.get("/static/registry.css")
def stylesheet() -> Response:
    """The pages' only stylesheet (served here: no third-party CDN)."""
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/", response_class=HTMLResponse)
def landing(lang: LangQuery = None) -> HTMLResponse:
    """Home page with the certificate query form."""
    return html_response(views_certificates.landing_page(lang_of(lang)))


@router.get("/certificates", response_class=HTMLResponse)
def certificates_get(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    number: Annotated[str | None, Query()] = None,
    name: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The query form, or its answer when a number or a name is given (links and bookmarks)."""
    page_lang = lang_of(lang)
    if number is None and name is None:
        return html_response(views_certificates.certificates_page(page_lang, views_certificates.QueryForm()))
    return guarded(
        page_lang, "/certificates", lambda: _answer(reg, request, page_lang, number or "", name or "")
    )


@router.post("/certificates", response_class=HTMLResponse)
def certificates_post(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    number: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The form's own submission: a POST keeps the holder's name out of URLs and access logs."""
    page_lang = lang_of(lang)
    return guarded(page_lang, "/certificates", lambda: _answer(reg, request, page_lang, number, name))


def _read_form(number: str, name: str) -> views_certificates.QueryForm:
    """Normalise what was typed (full-width characters, spaces, case) and list what is wrong."""
    clean_number = "".join(unicodedata.normalize("NFKC", number).split()).upper()
    clean_name = name.strip()
    errors: list[str] = []
    if not clean_number:
        errors.append("error_number_missing")
    elif not _NUMBER.fullmatch(clean_number):
        errors.append("error_number_format")
    if not clean_name:
        errors.append("error_name_missing")
    elif len(clean_name) > _NAME_MAX:
        errors.append("error_name_long")
    return views_certificates.QueryForm(clean_number[:_ECHO_MAX], clean_name[:_ECHO_MAX], tuple(errors))


def _answer(reg: RegistryDep, request: Request, lang: Lang, number: str, name: str) -> HTMLResponse:
    empty = views_certificates.QueryForm()
    if not within_rate_limit(reg, request):
        error = RegistryError("rate_limited")
        message = error.message_zh if lang == "zh" else error.message_en
        outcome = layout.notice("error", TEXT[lang]["rate_limited_title"], message)
        page = views_certificates.certificates_page(lang, empty, outcome)
        return html_response(page, error.status, private=True, **{"Retry-After": "1"})
    form = _read_form(number, name)
    if form.errors:
        outcome = views_certificates.form_errors(lang, form.errors)
        return html_response(views_certificates.certificates_page(lang, form, outcome), 422, private=True)
    try:
        with reg.db.read() as conn:
            found: dict[str, Any] = query.by_number(conn, form.number, form.name)
    except RegistryError as e:
        if e.code != "not_found":
            raise
        page = views_certificates.certificates_page(lang, empty, views_certificates.not_found(lang))
        return html_response(page, 404, private=True)
    outcome = views_certificates.results(lang, found["certificates"])
    return html_response(views_certificates.certificates_page(lang, empty, outcome), private=True)


@router.get("/institutions", response_class=HTMLResponse)
def institutions(reg: RegistryDep, lang: LangQuery = None, q: Annotated[str, Query()] = "") -> HTMLResponse:
    """The directory, filtered by a part of an institution's name or code."""
    page_lang = lang_of(lang)
    wanted = q.strip()[:_FILTER_MAX]

    def build() -> HTMLResponse:
        today = reg.now().today
        with reg.db.read() as conn:
            listed = load_institutions(conn)
        needle = wanted.casefold()
        shown = [i for i in listed if needle in i.name.casefold() or needle in i.code.casefold()]
        return html_response(views_directory.institutions_page(page_lang, shown, today, wanted))

    return guarded(page_lang, "/institutions", build)


@router.get("/institutions/{code}", response_class=HTMLResponse)
def institution(reg: RegistryDep, code: str, lang: LangQuery = None) -> HTMLResponse:
    """One institution: scope, status history and keys."""
    page_lang = lang_of(lang)

    def build() -> HTMLResponse:
        if not _INSTITUTION_CODE.fullmatch(code):
            raise RegistryError("institution_unknown", code[:_ECHO_MAX])
        today = reg.now().today
        with reg.db.read() as conn:
            found = load_institution(conn, code)
            events = credit_file(conn, code)
        return html_response(views_directory.institution_page(page_lang, found, today, events))

    return guarded(page_lang, "/institutions", build)


@router.get("/audit", response_class=HTMLResponse)
def audit(reg: RegistryDep, lang: LangQuery = None) -> HTMLResponse:
    """The latest signed checkpoint of the audit log (signing a new one if the log grew)."""
    page_lang = lang_of(lang)

    def build() -> HTMLResponse:
        checkpoint = reg.audit.checkpoint(reg.now().unix)
        key = reg.settings.signer.public_key
        view = views_audit.CheckpointView(
            size=checkpoint["size"],
            root_hex=checkpoint["root"],
            time=checkpoint["time"],
            signature_ok=_signature_ok(checkpoint, key),
            registry_kid=key.kid_b64,
        )
        return html_response(views_audit.audit_page(page_lang, view))

    return guarded(page_lang, "/audit", build)


def _signature_ok(checkpoint: dict[str, Any], key: PublicKey) -> bool:
    """Whether the stored signature covers exactly the size, root and time shown."""
    try:
        signed = open_document(b64url_decode(checkpoint["signature"]), key, TYP_CHECKPOINT)
    except (CredentialError, ValueError):
        return False
    shown = (checkpoint["size"], checkpoint["root"], checkpoint["time"])
    return (signed.get("size"), bytes(signed.get("root", b"")).hex(), signed.get("time")) == shown
