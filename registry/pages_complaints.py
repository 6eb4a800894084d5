"""The public complaint pages: ``GET /complaints`` (form), ``POST /complaints`` (file, then the receipt
with tracking number and secret), ``POST /complaints/track`` (state by tracking number and secret, by
POST so the secret stays out of URLs and logs). Same service functions, limits and rate limit as the
API; the page's challenge is a question because the pages run no script."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from registry import complaints
from registry.deps import RegistryDep
from registry.errors import RegistryError
from registry.pages import html_response
from registry.routes_supervision import complaint_allowed
from registry.service import Registry
from registry.templates import layout, views_complaints
from registry.templates.text import TEXT, Lang, lang_of

router = APIRouter(include_in_schema=False)
_TRACKING = re.compile(r"C[0-9A-F]{12}")
LangQuery = Annotated[str | None, Query()]


def _form_page(
    reg: Registry, lang: Lang, error: RegistryError | None = None, typed: dict[str, str] | None = None
) -> HTMLResponse:
    token, question_zh, question_en = reg.challenges.question(reg.now().unix)
    outcome = None
    if error is not None:
        message = error.message_zh if lang == "zh" else error.message_en
        outcome = layout.notice("error", TEXT[lang]["error_title"], message)
    question = question_zh if lang == "zh" else question_en
    text = views_complaints.complaint_page(lang, question, token, outcome, typed)
    return html_response(text, error.status if error else 200, private=True)


@router.get("/complaints", response_class=HTMLResponse)
def complaint_form(reg: RegistryDep, lang: LangQuery = None) -> HTMLResponse:
    """The filing form with a fresh question."""
    return _form_page(reg, lang_of(lang))


async def _read(upload: UploadFile) -> complaints.Evidence:
    data = await upload.read(complaints.EVIDENCE_BYTES_MAX + 1)
    return complaints.Evidence(upload.filename or "evidence", data)


@router.post("/complaints", response_class=HTMLResponse)
async def complaint_submit(
    reg: RegistryDep,
    request: Request,
    lang: LangQuery = None,
    institution_code: Annotated[str, Form(max_length=13)] = "",
    certificate_number: Annotated[str, Form(max_length=22)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    description: Annotated[str, Form(max_length=complaints.DESCRIPTION_MAX)] = "",
    contact: Annotated[str, Form(max_length=complaints.CONTACT_MAX)] = "",
    challenge: Annotated[str, Form(max_length=200)] = "",
    answer: Annotated[str, Form(max_length=8)] = "",
    evidence: Annotated[list[UploadFile] | None, Form()] = None,
) -> HTMLResponse:
    """File from the page; every failure is the form again with the reason."""
    page_lang = lang_of(lang)
    files = [await _read(f) for f in (evidence or []) if f.filename]
    try:
        complaint_allowed(reg, request)
        complaints.check_evidence(files)
        now = reg.now()
        reg.challenges.redeem(challenge, answer, now.unix)
        filing = complaints.Filing(
            category=category,
            description=description,
            institution_code=institution_code.strip().upper() or None,
            certificate_number=certificate_number.strip().upper() or None,
            contact=contact,
        )
        tracking, secret = reg.db.write(
            lambda conn: complaints.file_complaint(conn, filing, files, now, reg.digests)
        )
    except RegistryError as e:
        typed = {
            "institution_code": institution_code,
            "certificate_number": certificate_number,
            "category": category,
            "description": description,
            "contact": contact,
        }
        return _form_page(reg, page_lang, e, typed)
    return html_response(views_complaints.receipt_page(page_lang, tracking, secret), 201, private=True)


@router.post("/complaints/track", response_class=HTMLResponse)
def complaint_track(
    reg: RegistryDep,
    lang: LangQuery = None,
    tracking: Annotated[str, Form(max_length=13)] = "",
    secret: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """The state of one complaint for whoever has its secret."""
    page_lang = lang_of(lang)
    try:
        wanted = tracking.strip().upper()
        if not _TRACKING.fullmatch(wanted):
            raise RegistryError("complaint_unknown")
        with reg.db.read() as conn:
            view = complaints.public_view(conn, wanted, secret.strip())
    except RegistryError as e:
        return _form_page(reg, page_lang, e)
    return html_response(views_complaints.tracking_page(page_lang, view), private=True)
