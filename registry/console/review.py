"""The review queue (结果审核): submitted batches by institution and date, each batch's rows with
their validation results, and the reviewer's decisions: approve or reject a row with a reason, or
approve every valid row. Decisions go through ``approval.review_batch``, the same code as the API,
so certificate numbers are allocated on approval exactly as there."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, case, func, select

from credential.claims import MaskedId
from registry import approval
from registry.batches import INVALID, PENDING, SUBMITTED
from registry.clock import REGISTRY_TZ
from registry.console import layout
from registry.console.accounts import ADMIN, REVIEWER, SUPERVISOR, principal
from registry.console.kit import (
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
from registry.console.sessions import Session
from registry.errors import RegistryError
from registry.schema import batches, institutions, rows
from registry.templates.markup import Safe, fill, join
from schemas.vocabulary import LEVEL_NAMES, LEVEL_NAMES_EN

router = console_router()
REVIEWERS: Final = (ADMIN, REVIEWER)
READERS: Final = (ADMIN, REVIEWER, SUPERVISOR)
add_nav(NavItem("/console/review", "结果审核", "Review queue", READERS))

_TEXT: Final = {
    "zh": {
        "queue_intro": "待审核批次，按机构和提交日期排列。打开批次逐行审核。",
        "empty": "目前没有待审核的批次。",
        "institution": "评价机构",
        "submitted": "提交日期",
        "batch": "批次号",
        "rows": "行数",
        "pending": "待审核",
        "invalid": "校验未通过",
        "open": "审核",
        "row": "行",
        "holder": "姓名",
        "id": "证件号码",
        "occupation": "职业（工种）",
        "level": "等级",
        "assessed": "评价日期",
        "state": "状态",
        "findings": "校验结果 / 审核意见",
        "decision": "审核",
        "approve": "通过",
        "reject": "不通过",
        "reason": "不通过原因",
        "approve_all": "通过全部校验通过的待审核行",
        "ok": "校验通过",
        "state_pending": "待审核",
        "state_invalid": "校验未通过",
        "state_approved": "已通过",
        "state_rejected": "未通过",
        "state_published": "已发布",
        "batch_state_submitted": "审核中",
        "batch_state_reviewed": "审核完毕",
        "certificate": "证书编号",
        "all_batches": "查看全部批次",
    },
    "en": {
        "queue_intro": "Batches awaiting review, by institution and date of submission. Open a batch to review it row by row.",
        "empty": "No batch is awaiting review.",
        "institution": "Institution",
        "submitted": "Submitted",
        "batch": "Batch",
        "rows": "Rows",
        "pending": "Pending",
        "invalid": "Failed checks",
        "open": "Review",
        "row": "Row",
        "holder": "Name",
        "id": "ID number",
        "occupation": "Occupation",
        "level": "Level",
        "assessed": "Assessed",
        "state": "State",
        "findings": "Checks / decision",
        "decision": "Decision",
        "approve": "Approve",
        "reject": "Reject",
        "reason": "Reason for rejection",
        "approve_all": "Approve every pending row that passed the checks",
        "ok": "checks passed",
        "state_pending": "pending",
        "state_invalid": "failed checks",
        "state_approved": "approved",
        "state_rejected": "rejected",
        "state_published": "published",
        "batch_state_submitted": "in review",
        "batch_state_reviewed": "reviewed",
        "certificate": "Certificate number",
        "all_batches": "All batches",
    },
}


def day_of(unix: int) -> str:
    """A Unix time as the registry's calendar day and minute."""
    return datetime.fromtimestamp(unix, UTC).astimezone(REGISTRY_TZ).strftime("%Y-%m-%d %H:%M")


def batch_summaries(conn: Connection, where: list[Any], limit: int = 500) -> list[Any]:
    """Batches with their institution's name and counts of rows by state, newest institution groups first."""
    counts = (
        select(
            rows.c.batch_pk,
            func.count().label("total"),
            func.sum(case((rows.c.state == PENDING, 1), else_=0)).label("pending"),
            func.sum(case((rows.c.state == INVALID, 1), else_=0)).label("invalid"),
        )
        .group_by(rows.c.batch_pk)
        .subquery()
    )
    query = (
        select(batches, institutions.c.name, counts.c.total, counts.c.pending, counts.c.invalid)
        .join(institutions, institutions.c.code == batches.c.institution_code)
        .join(counts, counts.c.batch_pk == batches.c.id)
        .where(*where)
        .order_by(institutions.c.code, batches.c.submitted_at, batches.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).all())


def batch_table(request: Request, found: list[Any]) -> Safe:
    """The batches as a table with a link to each."""
    words = _TEXT[page_lang(request)]
    table_rows: list[list[Safe | str]] = [
        [
            fill("{name}<br><small>{code}</small>", name=b.name, code=b.institution_code),
            day_of(b.submitted_at),
            fill('<a href="{u}">{id}</a>', u=link(request, f"/console/review/{b.id}"), id=b.batch_id),
            str(b.total),
            str(b.pending or 0),
            str(b.invalid or 0),
            words[f"batch_state_{b.state}"],
        ]
        for b in found
    ]
    headers = [words[k] for k in ("institution", "submitted", "batch", "rows", "pending", "invalid", "state")]
    return layout.table(headers, table_rows)


@router.get("/review")
def queue(request: Request, who: Annotated[Session, Viewer(*READERS)], all: str = "") -> HTMLResponse:
    """Batches still in review (``?all=1``: every batch)."""
    words = _TEXT[page_lang(request)]
    reg = registry_of(request)
    with reg.db.read() as conn:
        found = batch_summaries(conn, [] if all else [batches.c.state == SUBMITTED])
    listing = batch_table(request, found) if found else layout.notice("info", words["empty"])
    more = fill(
        '<p><a href="{u}">{t}</a></p>', u=link(request, "/console/review", all=1), t=words["all_batches"]
    )
    body = join([fill("<p>{t}</p>", t=words["queue_intro"]), listing, more])
    return render(request, who, "结果审核", "Review queue", body)


def _findings(lang: str, row: Any) -> Safe:
    found = json.loads(row.problems)
    key = "message_zh" if lang == "zh" else "message_en"
    parts = [
        fill("<li>{m}</li>", m=p.get(key) or f"{p.get('pointer', '')} {p.get('code', '')}") for p in found
    ]
    if row.reason:
        parts.append(fill("<li>{r}</li>", r=row.reason))
    if not parts:
        return fill("<span>{t}</span>", t=_TEXT["zh" if lang == "zh" else "en"]["ok"])
    return fill('<ul class="problems">{items}</ul>', items=join(parts))


def _decision_forms(request: Request, who: Session, batch_pk: int, row: Any) -> Safe:
    words = _TEXT[page_lang(request)]
    if row.state != PENDING or who.account.role not in REVIEWERS:
        return Safe("")
    path = f"/console/review/{batch_pk}/rows/{row.row_no}"
    approve = form(
        request, who, path, Safe('<input type="hidden" name="decision" value="approve">'), words["approve"]
    )
    reject_fields = fill(
        '<input type="hidden" name="decision" value="reject"><input name="reason" aria-label="{l}" placeholder="{l}" required maxlength="500">',
        l=words["reason"],
    )
    reject = form(request, who, path, reject_fields, words["reject"], "danger")
    return join([approve, reject])


def _row_cells(request: Request, who: Session, batch_pk: int, row: Any) -> list[Safe | str]:
    lang = page_lang(request)
    words = _TEXT[lang]
    levels = LEVEL_NAMES if lang == "zh" else LEVEL_NAMES_EN
    occupation = row.occupation_name + ("" if row.work_type in ("", "--") else f"（{row.work_type}）")
    state = fill(
        '<span class="state state-{s}">{t}</span>', s=row.state, t=words.get(f"state_{row.state}", row.state)
    )
    if row.certificate_number:
        state = fill("{s}<br><small>{n}</small>", s=state, n=row.certificate_number)
    return [
        str(row.row_no),
        row.holder_name,
        MaskedId(row.id_length, row.id_suffix).display(),
        fill("{o}<br><small>{c}</small>", o=occupation, c=row.occupation_code),
        levels.get(row.level, str(row.level)),
        row.assessment_date.isoformat() if row.assessment_date else "",
        state,
        _findings(lang, row),
        _decision_forms(request, who, batch_pk, row),
    ]


@router.get("/review/{batch_pk}")
def batch_page(request: Request, who: Annotated[Session, Viewer(*READERS)], batch_pk: int) -> HTMLResponse:
    """One batch: every row with its checks, and the decisions still open."""
    words = _TEXT[page_lang(request)]
    reg = registry_of(request)
    with reg.db.read() as conn:
        summary = batch_summaries(conn, [batches.c.id == batch_pk], 1)
        found = conn.execute(select(rows).where(rows.c.batch_pk == batch_pk).order_by(rows.c.row_no)).all()
    if not summary:
        return render(
            request,
            who,
            "未找到",
            "Not found",
            layout.notice("error", RegistryError("not_found").message_zh),
            404,
        )
    batch = summary[0]
    head = batch_table(request, summary)
    approve_all = Safe("")
    if batch.pending and who.account.role in REVIEWERS:
        approve_all = form(
            request, who, f"/console/review/{batch_pk}/approve-all", "", words["approve_all"], "plain"
        )
    headers = [
        words[k]
        for k in ("row", "holder", "id", "occupation", "level", "assessed", "state", "findings", "decision")
    ]
    table = layout.table(headers, [_row_cells(request, who, batch_pk, r) for r in found], "rows")
    return render(
        request,
        who,
        f"批次 {batch.batch_id}",
        f"Batch {batch.batch_id}",
        join([head, approve_all, table, approve_all]),
    )


def _review(request: Request, who: Session, batch_pk: int, body: dict[str, Any]) -> Response:
    reg = registry_of(request)
    now = reg.now()
    caller = principal(who.account)

    def work(conn: Connection) -> None:
        batch = conn.execute(select(batches).where(batches.c.id == batch_pk)).first()
        if batch is None:
            raise RegistryError("not_found", "batch")
        approval.review_batch(conn, batch, body, caller, reg.settings, now)

    page = f"/console/review/{batch_pk}"
    return act(request, who, work, then=page, back=page)


@router.post("/review/{batch_pk}/rows/{row_no}")
def decide_row(
    request: Request,
    who: Annotated[Session, Action(*REVIEWERS)],
    batch_pk: int,
    row_no: int,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject one row (a rejection needs a reason)."""
    if decision not in ("approve", "reject") or (decision == "reject" and not reason.strip()):
        return error_page(
            request,
            who,
            RegistryError("invalid_request", "a rejection needs a reason"),
            f"/console/review/{batch_pk}",
        )
    body = {"decisions": [{"row": row_no, "approve": decision == "approve", "reason": reason.strip()[:500]}]}
    return _review(request, who, batch_pk, body)


@router.post("/review/{batch_pk}/approve-all")
def approve_all(request: Request, who: Annotated[Session, Action(*REVIEWERS)], batch_pk: int) -> Response:
    """Approve every pending row of the batch (each is re-checked as of today)."""
    return _review(request, who, batch_pk, {"approve_all_valid": True})
