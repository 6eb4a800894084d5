"""Complaint handling in the console (投诉处理): the queue by state, one complaint in full (description,
contact details, evidence, every step with its reason, person and time) and the next step with its
reason and, for a final step, the public finding. Steps go through ``registry.complaints.take_step``,
the same code as the API, so an upheld finding enters the credit file the same way and every step is
audited under the person's name. Contact details and evidence appear only here, behind a session."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from registry import complaints
from registry.console import layout
from registry.console.accounts import ADMIN, REVIEWER, SUPERVISOR, principal
from registry.console.kit import (
    HEADERS,
    Action,
    NavItem,
    Viewer,
    act,
    add_nav,
    console_router,
    error_page,
    form,
    link,
    page_lang,
    registry_of,
    render,
)
from registry.console.review import day_of
from registry.console.sessions import Session
from registry.errors import RegistryError
from registry.templates.markup import Safe, fill, join
from registry.templates.views_complaints import WORDS as PUBLIC_WORDS

router = console_router()
READERS: Final = (ADMIN, REVIEWER, SUPERVISOR)
HANDLERS: Final = (ADMIN, REVIEWER)
FormText = Annotated[str, Form()]
_TRACKING = re.compile(r"C[0-9A-F]{12}")
add_nav(NavItem("/console/complaints", "投诉处理", "Complaints", READERS))

_TEXT: Final = {
    "zh": {
        "all": "全部",
        "open": "处理中",
        "tracking": "受理编号",
        "institution": "被投诉机构",
        "certificate": "证书编号",
        "category": "类别",
        "state": "状态",
        "filed": "提交时间",
        "view": "查看",
        "empty": "没有符合条件的投诉。",
        "description": "情况说明",
        "contact": "联系方式（仅工作人员可见）",
        "evidence": "证据材料（下载后查看）",
        "steps": "处理记录",
        "reason": "理由",
        "actor": "经办人",
        "at": "时间",
        "finding": "公开结论",
        "next": "下一步处理",
        "next_state": "处理为",
        "public_finding": "公开结论（办结时必填，将公开显示，勿含个人信息）",
        "take_step": "提交处理",
        "closed": "该投诉已办结。",
        "handlers_only": "只有管理员和审核员可以处理投诉。",
        "credit": "查看该机构的信用档案",
        "none": "无",
        "limit": "最多列出 500 件，最新的在前。",
    },
    "en": {
        "all": "all",
        "open": "open",
        "tracking": "Tracking number",
        "institution": "Institution",
        "certificate": "Certificate number",
        "category": "Category",
        "state": "State",
        "filed": "Filed",
        "view": "Open",
        "empty": "No complaint matches.",
        "description": "What happened",
        "contact": "Contact details (staff only)",
        "evidence": "Evidence (download to view)",
        "steps": "Steps",
        "reason": "Reason",
        "actor": "By",
        "at": "Time",
        "finding": "Public finding",
        "next": "Next step",
        "next_state": "Move to",
        "public_finding": "Public finding (required to close; shown publicly, no personal data)",
        "take_step": "Record the step",
        "closed": "This complaint is closed.",
        "handlers_only": "Only administrators and reviewers handle complaints.",
        "credit": "The institution's credit file",
        "none": "none",
        "limit": "At most 500 are listed, newest first.",
    },
}
_OPEN = (complaints.RECEIVED, complaints.ACCEPTED, complaints.INVESTIGATING)


def _words(request: Request) -> dict[str, str]:
    return _TEXT[page_lang(request)]


def state_badge(request: Request, state: str) -> Safe:
    """A complaint state in the reader's language."""
    shown = PUBLIC_WORDS[page_lang(request)].get(f"state_{state}", state)
    return fill('<span class="state complaint-{s}">{t}</span>', s=state, t=shown)


def _category(request: Request, code: str) -> str:
    zh, en = complaints.CATEGORIES.get(code, (code, code))
    return zh if page_lang(request) == "zh" else en


def _filters(request: Request, current: str) -> Safe:
    words = _words(request)
    choices = [("", words["all"]), ("open", words["open"])] + [
        (s, PUBLIC_WORDS[page_lang(request)][f"state_{s}"]) for s in complaints.STATES
    ]
    return fill(
        '<p class="filters">{links}</p>',
        links=join(
            fill(
                '<a href="{u}"{cur}>{t}</a> ',
                u=link(request, "/console/complaints", **({"state": s} if s else {})),
                cur=Safe(' aria-current="true"') if s == current else "",
                t=t,
            )
            for s, t in choices
        ),
    )


@router.get("/complaints")
def queue(request: Request, who: Annotated[Session, Viewer(*READERS)], state: str = "open") -> HTMLResponse:
    """The complaints, newest first, by state (open ones by default)."""
    words = _words(request)
    wanted = state if state in (*complaints.STATES, "open") else ""
    reg = registry_of(request)
    with reg.db.read() as conn:
        listed = complaints.staff_list(conn, None if wanted in ("", "open") else wanted)
    if wanted == "open":
        listed = [c for c in listed if c["state"] in _OPEN]
    table = layout.table(
        [words[k] for k in ("tracking", "institution", "category", "state", "filed")],
        [
            [
                fill(
                    '<a href="{u}">{t}</a>',
                    u=link(request, f"/console/complaints/{c['tracking']}"),
                    t=c["tracking"],
                ),
                c["institution_code"],
                _category(request, c["category"]),
                state_badge(request, c["state"]),
                day_of(c["filed_at"]),
            ]
            for c in listed
        ],
    )
    shown = table if listed else fill("<p>{t}</p>", t=words["empty"])
    note = fill("<p><small>{t}</small></p>", t=words["limit"])
    return render(request, who, "投诉处理", "Complaints", join([_filters(request, wanted), shown, note]))


def _facts(request: Request, found: dict[str, Any]) -> Safe:
    words = _words(request)
    code = found["institution_code"]
    facts = [
        (words["state"], state_badge(request, found["state"])),
        (
            words["institution"],
            fill(
                '{c} · <a href="{u}">{t}</a>',
                c=code,
                u=link(request, f"/console/supervision/{code}"),
                t=words["credit"],
            ),
        ),
        (words["certificate"], found["certificate_number"] or words["none"]),
        (words["category"], _category(request, found["category"])),
        (words["filed"], day_of(found["filed_at"])),
        (words["description"], found["description"]),
        (words["contact"], found["contact"] or words["none"]),
        (words["finding"], found["public_finding"] or words["none"]),
    ]
    rows = join(fill("<tr><th>{k}</th><td>{v}</td></tr>", k=k, v=v) for k, v in facts)
    return fill('<table class="fields">{rows}</table>', rows=rows)


def _evidence(request: Request, found: dict[str, Any]) -> Safe:
    words = _words(request)
    if not found["evidence"]:
        return fill("<p>{t}</p>", t=words["none"])
    items = join(
        fill(
            '<li><a href="{u}" download>{name}</a> · {type} · SHA-256 <code>{sha}</code></li>',
            u=link(request, f"/console/complaints/{found['tracking']}/evidence/{e['id']}"),
            name=e["filename"],
            type=e["media_type"],
            sha=e["sha256"][:16] + "…",
        )
        for e in found["evidence"]
    )
    return fill("<ul>{items}</ul>", items=items)


def _steps(request: Request, found: dict[str, Any]) -> Safe:
    words = _words(request)
    return layout.table(
        [words[k] for k in ("state", "reason", "actor", "at")],
        [
            [state_badge(request, s["state"]), s["reason"] or "—", s["actor"], day_of(s["at"])]
            for s in found["steps"]
        ],
    )


def _step_form(request: Request, who: Session, found: dict[str, Any]) -> Safe:
    words = _words(request)
    following = complaints.next_states(found["state"])
    if not following:
        return fill("<p>{t}</p>", t=words["closed"])
    if who.account.role not in HANDLERS:
        return fill("<p>{t}</p>", t=words["handlers_only"])
    options = join(
        fill('<option value="{s}">{t}</option>', s=s, t=PUBLIC_WORDS[page_lang(request)][f"state_{s}"])
        for s in following
    )
    fields = fill(
        """<label for="state">{ns}</label><select id="state" name="state">{options}</select>
<label for="reason">{rs}</label><textarea id="reason" name="reason" rows="3" maxlength="2000" required></textarea>
<label for="public_finding">{pf}</label><textarea id="public_finding" name="public_finding" rows="3" maxlength="2000"></textarea>""",
        ns=words["next_state"],
        options=options,
        rs=words["reason"],
        pf=words["public_finding"],
    )
    path = f"/console/complaints/{found['tracking']}/steps"
    return form(request, who, path, fields, words["take_step"], "stack")


def _tracking_or_error(request: Request, who: Session, tracking: str) -> str | HTMLResponse:
    if _TRACKING.fullmatch(tracking):
        return tracking
    return error_page(request, who, RegistryError("complaint_unknown"), "/console/complaints")


@router.get("/complaints/{tracking}")
def complaint_page(
    request: Request, who: Annotated[Session, Viewer(*READERS)], tracking: str
) -> HTMLResponse:
    """One complaint in full, and the form for its next step."""
    checked = _tracking_or_error(request, who, tracking)
    if isinstance(checked, HTMLResponse):
        return checked
    words = _words(request)
    reg = registry_of(request)
    try:
        with reg.db.read() as conn:
            found = complaints.staff_view(conn, checked)
    except RegistryError as e:
        return error_page(request, who, e, "/console/complaints")
    body = join(
        [
            _facts(request, found),
            fill("<h2>{t}</h2>", t=words["evidence"]),
            _evidence(request, found),
            fill("<h2>{t}</h2>", t=words["steps"]),
            _steps(request, found),
            fill("<h2>{t}</h2>", t=words["next"]),
            _step_form(request, who, found),
        ]
    )
    return render(request, who, f"投诉 {checked}", f"Complaint {checked}", body)


@router.get("/complaints/{tracking}/evidence/{evidence_id}")
def evidence_file(
    request: Request, who: Annotated[Session, Viewer(*READERS)], tracking: str, evidence_id: str
) -> Response:
    """One evidence file, as an attachment (never rendered inside the console)."""
    checked = _tracking_or_error(request, who, tracking)
    if isinstance(checked, HTMLResponse):
        return checked
    back = f"/console/complaints/{checked}"
    if not evidence_id.isdigit() or len(evidence_id) > 9:
        return error_page(request, who, RegistryError("not_found", "evidence"), back)
    reg = registry_of(request)
    try:
        with reg.db.read() as conn:
            media_type, data = complaints.evidence_file(conn, checked, int(evidence_id))
    except RegistryError as e:
        return error_page(request, who, e, back)
    headers = {**HEADERS, "Content-Disposition": "attachment"}
    return Response(data, media_type=media_type, headers=headers)


@router.post("/complaints/{tracking}/steps")
def take_step(
    request: Request,
    who: Annotated[Session, Action(*HANDLERS)],
    tracking: str,
    state: FormText = "",
    reason: FormText = "",
    public_finding: FormText = "",
) -> Response:
    """Record the next step; an upheld finding enters the institution's credit file."""
    checked = _tracking_or_error(request, who, tracking)
    if isinstance(checked, HTMLResponse):
        return checked
    page = f"/console/complaints/{checked}"
    if state not in complaints.STATES or not reason.strip():
        return error_page(request, who, RegistryError("complaint_invalid", "state and reason"), page)
    reg = registry_of(request)
    now = reg.now()
    caller = principal(who.account)
    return act(
        request,
        who,
        lambda conn: complaints.take_step(
            conn,
            checked,
            state,
            reason.strip()[:2000],
            public_finding.strip()[:2000],
            caller,
            now,
            reg.digests,
        ),
        then=page,
        back=page,
    )
