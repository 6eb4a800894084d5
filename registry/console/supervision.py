"""Credit files and quality supervision in the console (信用与督导): every institution with its credit
events and supervision records; per institution, the append-only credit file, the administrator's
sanctions (warning, suspension, removal naming the events it rests on), the supervisors' visit
records (against the institution or one of its batches) and the rule that a batch needs a visit
record before approval. Everything goes through ``registry.credit`` and ``registry.supervision``,
the same code as the API, and is audited under the person's name."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, func, select

from registry import credit, supervision
from registry import institutions as directory
from registry.console import layout
from registry.console.accounts import ADMIN, STAFF_ROLES, SUPERVISOR
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
from registry.schema import batches
from registry.schema_supervision import credit_events, supervision_records
from registry.templates.markup import Safe, fill, join
from registry.templates.text import TEXT

router = console_router()
READERS: Final = STAFF_ROLES  # every staff role reads these pages
VISITORS: Final = (ADMIN, SUPERVISOR)
FormText = Annotated[str, Form()]
_BATCHES_LISTED: Final = 200
add_nav(NavItem("/console/supervision", "信用与督导", "Credit and supervision", READERS))

_TEXT: Final = {
    "zh": {
        "intro": "各机构的信用档案记录与质量督导记录。信用档案只增不改；暂停和移出目录同时变更机构目录状态。",
        "name": "机构名称",
        "code": "机构代码",
        "status": "今日状态",
        "credit_events": "信用档案记录",
        "visits": "督导记录",
        "rule": "批次审核前须有督导记录",
        "yes": "是",
        "no": "否",
        "open": "详情",
        "credit": "信用档案",
        "kind": "类型",
        "day": "日期",
        "reason": "事由（公开）",
        "reference": "文号或依据",
        "links": "依据的记录",
        "none": "暂无",
        "sanction": "记录处理决定",
        "sanction_intro": "警告只记入信用档案；暂停和移出目录同时变更机构目录状态（默认今日起生效，填写更早日期则追溯）。移出目录须勾选其依据的信用档案记录。",
        "effective": "生效日期（可空，默认今日）",
        "record": "记录",
        "supervision": "质量督导记录",
        "batch": "批次（可空：针对机构）",
        "batch_none": "（不针对具体批次）",
        "visit_day": "督导日期",
        "site": "地点",
        "findings": "发现的情况",
        "rating": "评定",
        "actor": "督导人员",
        "record_visit": "记录督导",
        "rule_title": "审核规则",
        "rule_on": "该机构的批次须先有督导记录才能审核通过。",
        "rule_off": "该机构的批次无需督导记录即可审核。",
        "require": "要求督导记录",
        "release": "取消该要求",
        "active": "正常",
        "suspended": "暂停",
        "removed": "已移出目录",
        "issued": "机构管理页",
    },
    "en": {
        "intro": "Every institution's credit file and quality supervision records. The credit file is append-only; a suspension or removal also changes the institution's status in the directory.",
        "name": "Institution",
        "code": "Code",
        "status": "Status today",
        "credit_events": "Credit events",
        "visits": "Supervision records",
        "rule": "Batches need a supervision record",
        "yes": "yes",
        "no": "no",
        "open": "Open",
        "credit": "Credit file",
        "kind": "Kind",
        "day": "Day",
        "reason": "Reason (public)",
        "reference": "Reference",
        "links": "Rests on",
        "none": "none",
        "sanction": "Record a decision",
        "sanction_intro": "A warning only enters the credit file; a suspension or removal also changes the directory status (from today, or from an earlier day given here: retroactive). A removal must tick the credit events it rests on.",
        "effective": "Effective (optional, today when empty)",
        "record": "Record",
        "supervision": "Quality supervision records",
        "batch": "Batch (optional: the institution itself)",
        "batch_none": "(no particular batch)",
        "visit_day": "Day of the visit",
        "site": "Site",
        "findings": "Findings",
        "rating": "Rating",
        "actor": "Supervisor",
        "record_visit": "Record the visit",
        "rule_title": "Review rule",
        "rule_on": "This institution's batches need a supervision record before approval.",
        "rule_off": "This institution's batches may be approved without a supervision record.",
        "require": "Require a supervision record",
        "release": "Lift the requirement",
        "active": "active",
        "suspended": "suspended",
        "removed": "removed",
        "issued": "Directory page",
    },
}


def _words(request: Request) -> dict[str, str]:
    return _TEXT[page_lang(request)]


def _kind(request: Request, kind: str) -> str:
    return TEXT[page_lang(request)].get(f"credit_{kind}", kind)


def _rating(request: Request, rating: str) -> str:
    zh, en = supervision.RATINGS.get(rating, (rating, rating))
    return zh if page_lang(request) == "zh" else en


def _counts(conn: Connection, table: Any) -> dict[str, int]:
    found = conn.execute(
        select(table.c.institution_code, func.count()).group_by(table.c.institution_code)
    ).all()
    return {str(code): int(n) for code, n in found}


@router.get("/supervision")
def overview(request: Request, who: Annotated[Session, Viewer(*READERS)]) -> HTMLResponse:
    """Every institution with its status today and how many credit events and visits it has."""
    words = _words(request)
    reg = registry_of(request)
    today = reg.now().today
    with reg.db.read() as conn:
        listed = directory.load_institutions(conn)
        events = _counts(conn, credit_events)
        visits = _counts(conn, supervision_records)
        rules = {i.code: supervision.batch_needs_record(conn, i.code) for i in listed}
    table = layout.table(
        [words[k] for k in ("name", "code", "status", "credit_events", "visits", "rule")],
        [
            [
                fill('<a href="{u}">{n}</a>', u=link(request, f"/console/supervision/{i.code}"), n=i.name),
                i.code,
                words.get(i.status_on(today) or "", i.status_on(today) or "—"),
                str(events.get(i.code, 0)),
                str(visits.get(i.code, 0)),
                words["yes"] if rules[i.code] else words["no"],
            ]
            for i in listed
        ],
    )
    intro = fill("<p>{t}</p>", t=words["intro"])
    return render(request, who, "信用与督导", "Credit and supervision", join([intro, table]))


def _credit_table(request: Request, events: list[dict[str, Any]]) -> Safe:
    words = _words(request)
    if not events:
        return fill("<p>{t}</p>", t=words["none"])
    return layout.table(
        ["#", words["kind"], words["day"], words["reason"], words["reference"], words["links"]],
        [
            [
                str(e["id"]),
                _kind(request, e["kind"]),
                e["day"],
                e["reason"],
                e["reference"] or "—",
                "、".join(f"#{n}" for n in e["links"]) or "—",
            ]
            for e in events
        ],
    )


def _sanction_form(request: Request, who: Session, code: str, events: list[dict[str, Any]]) -> Safe:
    words = _words(request)
    if who.account.role != ADMIN:
        return Safe("")
    kinds = join(
        fill('<option value="{k}">{t}</option>', k=k, t=_kind(request, k)) for k in credit.MANUAL_KINDS
    )
    links = join(
        fill(
            '<label><input type="checkbox" name="links" value="{n}"> #{n} {kind} {day}</label>',
            n=e["id"],
            kind=_kind(request, e["kind"]),
            day=e["day"],
        )
        for e in events
    )
    fields = fill(
        """<label for="kind">{kl}</label><select id="kind" name="kind">{kinds}</select>
<label for="sanction_reason">{rl}</label><textarea id="sanction_reason" name="reason" rows="3" maxlength="2000" required></textarea>
<label for="reference">{fl}</label><input id="reference" name="reference" maxlength="200">
<label for="effective">{el}</label><input id="effective" name="effective" type="date">
<fieldset><legend>{ll}</legend>{links}</fieldset>""",
        kl=words["kind"],
        kinds=kinds,
        rl=words["reason"],
        fl=words["reference"],
        el=words["effective"],
        ll=words["links"],
        links=links if events else words["none"],
    )
    return join(
        [
            fill("<h2>{t}</h2><p>{i}</p>", t=words["sanction"], i=words["sanction_intro"]),
            form(request, who, f"/console/supervision/{code}/sanctions", fields, words["record"], "stack"),
        ]
    )


def _visits_table(request: Request, found: dict[str, Any]) -> Safe:
    words = _words(request)
    if not found["records"]:
        return fill("<p>{t}</p>", t=words["none"])
    return layout.table(
        [words[k] for k in ("visit_day", "batch", "site", "findings", "rating", "actor")],
        [
            [
                r["day"],
                r["batch_id"] or "—",
                r["site"],
                r["findings"],
                _rating(request, r["rating"]),
                r["actor"],
            ]
            for r in found["records"]
        ],
    )


def _batch_ids(conn: Connection, code: str) -> list[str]:
    return list(
        conn.execute(
            select(batches.c.batch_id)
            .where(batches.c.institution_code == code)
            .order_by(batches.c.id.desc())
            .limit(_BATCHES_LISTED)
        ).scalars()
    )


def _visit_form(request: Request, who: Session, code: str, batch_ids: list[str]) -> Safe:
    words = _words(request)
    if who.account.role not in VISITORS:
        return Safe("")
    options = join(
        [fill('<option value="">{t}</option>', t=words["batch_none"])]
        + [fill('<option value="{b}">{b}</option>', b=b) for b in batch_ids]
    )
    ratings = join(
        fill('<option value="{r}">{t}</option>', r=r, t=_rating(request, r)) for r in supervision.RATINGS
    )
    fields = fill(
        """<label for="batch_id">{bl}</label><select id="batch_id" name="batch_id">{options}</select>
<label for="day">{dl}</label><input id="day" name="day" type="date" required>
<label for="site">{sl}</label><input id="site" name="site" maxlength="200" required>
<label for="findings">{fl}</label><textarea id="findings" name="findings" rows="4" maxlength="4000" required></textarea>
<label for="rating">{rl}</label><select id="rating" name="rating">{ratings}</select>""",
        bl=words["batch"],
        options=options,
        dl=words["visit_day"],
        sl=words["site"],
        fl=words["findings"],
        rl=words["rating"],
        ratings=ratings,
    )
    return form(request, who, f"/console/supervision/{code}/visits", fields, words["record_visit"], "stack")


def _rule(request: Request, who: Session, code: str, required: bool) -> Safe:
    words = _words(request)
    state = fill("<p>{t}</p>", t=words["rule_on"] if required else words["rule_off"])
    if who.account.role != ADMIN:
        return state
    flip = fill('<input type="hidden" name="required" value="{v}">', v="no" if required else "yes")
    button = words["release"] if required else words["require"]
    return join([state, form(request, who, f"/console/supervision/{code}/rule", flip, button, "plain")])


@router.get("/supervision/{code}")
def institution_page(request: Request, who: Annotated[Session, Viewer(*READERS)], code: str) -> HTMLResponse:
    """One institution's credit file and supervision records, with the forms the person may use."""
    words = _words(request)
    reg = registry_of(request)
    try:
        with reg.db.read() as conn:
            institution = directory.load_institution(conn, code[:13])
            events = credit.credit_file(conn, institution.code)
            visits = supervision.records(conn, institution.code)
            batch_ids = _batch_ids(conn, institution.code)
    except RegistryError as e:
        return error_page(request, who, e, "/console/supervision")
    status = institution.status_on(reg.now().today) or ""
    body = join(
        [
            fill(
                '<p>{code} · {status} · <a href="{u}">{t}</a></p>',
                code=institution.code,
                status=words.get(status, status),
                u=link(request, f"/console/institutions/{institution.code}"),
                t=words["issued"],
            ),
            fill("<h2>{t}</h2>", t=words["credit"]),
            _credit_table(request, events),
            _sanction_form(request, who, institution.code, events),
            fill("<h2>{t}</h2>", t=words["supervision"]),
            _visits_table(request, visits),
            _visit_form(request, who, institution.code, batch_ids),
            fill("<h2>{t}</h2>", t=words["rule_title"]),
            _rule(request, who, institution.code, visits["batch_needs_record"]),
        ]
    )
    return render(request, who, institution.name, institution.name, body)


def _day(text: str, pointer: str) -> date | None:
    """An optional form date; ``invalid_request`` naming the field when it does not parse."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise RegistryError("invalid_request", f"{pointer}: YYYY-MM-DD", [{"pointer": pointer}]) from e


@router.post("/supervision/{code}/sanctions")
def sanction(
    request: Request,
    who: Annotated[Session, Action(ADMIN)],
    code: str,
    kind: FormText = "",
    reason: FormText = "",
    reference: FormText = "",
    effective: FormText = "",
    links: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """A warning, suspension or removal; the latter two change the directory status too."""
    page = f"/console/supervision/{code[:13]}"
    try:
        if kind not in credit.MANUAL_KINDS or not reason.strip():
            raise RegistryError("invalid_request", "kind and reason", [{"pointer": "/reason"}])
        named = [int(n) for n in links or [] if n.isdigit() and len(n) <= 9]
        body = {
            "kind": kind,
            "reason": reason.strip()[:2000],
            "reference": reference.strip()[:200],
            "links": named,
            "effective": _day(effective, "/effective"),
        }
    except RegistryError as e:
        return error_page(request, who, e, page)
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: credit.record_sanction(conn, code[:13], body, who.account.actor, now, reg.digests),
        then=page,
        back=page,
    )


@router.post("/supervision/{code}/visits")
def record_visit(
    request: Request,
    who: Annotated[Session, Action(*VISITORS)],
    code: str,
    batch_id: FormText = "",
    day: FormText = "",
    site: FormText = "",
    findings: FormText = "",
    rating: FormText = "",
) -> Response:
    """A supervision visit; an unsatisfactory rating enters the credit file."""
    page = f"/console/supervision/{code[:13]}"
    try:
        visit_day = _day(day, "/day")
        if visit_day is None or not site.strip() or not findings.strip() or rating not in supervision.RATINGS:
            raise RegistryError("supervision_invalid", "day, site, findings and rating are required")
    except RegistryError as e:
        return error_page(request, who, e, page)
    body = {
        "institution_code": code[:13],
        "batch_id": batch_id.strip()[:64] or None,
        "day": visit_day,
        "site": site.strip()[:200],
        "findings": findings.strip()[:4000],
        "rating": rating,
    }
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: supervision.record_visit(conn, body, who.account.actor, now, reg.digests),
        then=page,
        back=page,
    )


@router.post("/supervision/{code}/rule")
def set_rule(
    request: Request, who: Annotated[Session, Action(ADMIN)], code: str, required: FormText = ""
) -> Response:
    """Require (``yes``) or stop requiring (``no``) a supervision record before a batch is approved."""
    page = f"/console/supervision/{code[:13]}"
    if required not in ("yes", "no"):
        return error_page(request, who, RegistryError("invalid_request", "required: yes or no"), page)
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: supervision.set_rule(conn, code[:13], required == "yes", who.account.actor, now),
        then=page,
        back=page,
    )
