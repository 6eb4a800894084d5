"""The directory in the console (机构管理): institutions with their scopes, status history and keys;
filing an institution, adding a scope with its window, a status change with its effective day and
reason, and what each institution issued. Every change goes through ``registry.institutions``, the
same functions as the API, and is audited under the person's name. The directory is append-only:
"editing" an institution means adding a scope or a status change, never rewriting one."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from credential.claims import MaskedId
from credential.directory import Institution
from registry import credit
from registry import institutions as directory
from registry.console import layout
from registry.console.accounts import ADMIN, STAFF_ROLES
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
from registry.console.review import batch_summaries, batch_table
from registry.console.sessions import Session
from registry.errors import RegistryError
from registry.issued import issued_rows
from registry.schema import batches
from registry.templates.markup import Safe, fill, join
from schemas.vocabulary import LEVEL_NAMES, LEVEL_NAMES_EN

router = console_router()
READERS: Final = STAFF_ROLES  # every staff role reads these pages
FormText = Annotated[str, Form()]
_LIST_LIMIT: Final = 500
add_nav(NavItem("/console/institutions", "机构管理", "Institutions", READERS))

_TEXT: Final = {
    "zh": {
        "name": "机构名称（与备案一致）",
        "code": "机构代码",
        "uscc": "统一社会信用代码",
        "category": "类别",
        "category_Y": "Y 用人单位",
        "category_S": "S 社会培训评价组织",
        "national_code": "全国机构代码（4 位，省级备案填 0000）",
        "province": "省份代码（2 位）",
        "site": "站点代码（6 位）",
        "status": "今日状态",
        "status_entry": "状态",
        "scopes": "评价范围",
        "occupation_code": "职业编码（d-dd-dd-dd）",
        "occupation_name": "职业名称",
        "levels": "等级",
        "work_types": "工种/职业方向（以逗号分隔，无则填 --）",
        "valid_from": "起始日期",
        "valid_until": "截止日期（可空）",
        "new": "备案新机构",
        "create": "备案",
        "add_scope": "增加评价范围",
        "history": "状态记录",
        "effective": "生效日期",
        "recorded": "记录时间",
        "reason": "原因",
        "change_status": "变更机构状态",
        "keys": "公钥",
        "kid": "密钥标识",
        "issued": "发证情况",
        "batches": "批次",
        "certificates": "证书",
        "number": "证书编号",
        "holder": "姓名",
        "id": "证件号码",
        "occupation": "职业",
        "level": "等级",
        "issue_date": "发证日期",
        "state": "审核状态",
        "cert_status": "证书状态",
        "none": "暂无",
        "open": "详情",
        "filter": "按名称或代码筛选",
        "limit": "只列出前 500 条。",
        "active": "正常",
        "suspended": "暂停",
        "removed": "注销",
        "valid": "有效",
        "approved": "已审核待发布",
        "published": "已发布",
        "confirm": "确认",
        "sanctions": "暂停、解除暂停和移出目录作为处理决定记入信用档案，请在“信用与督导”页记录（移出目录须列明依据）；此处的状态变更只用于更正。",
    },
    "en": {
        "name": "Name (exactly as filed)",
        "code": "Code",
        "uscc": "Unified social credit code",
        "category": "Category",
        "category_Y": "Y employer",
        "category_S": "S training and evaluation organisation",
        "national_code": "National code (4 digits, 0000 when filed with a province)",
        "province": "Province code (2 digits)",
        "site": "Site code (6 digits)",
        "status": "Status today",
        "status_entry": "Status",
        "scopes": "Scope",
        "occupation_code": "Occupation code (d-dd-dd-dd)",
        "occupation_name": "Occupation name",
        "levels": "Levels",
        "work_types": "Work types (comma-separated, -- for none)",
        "valid_from": "From",
        "valid_until": "Until (optional)",
        "new": "File an institution",
        "create": "File",
        "add_scope": "Add a scope entry",
        "history": "Status history",
        "effective": "Effective",
        "recorded": "Recorded",
        "reason": "Reason",
        "change_status": "Change the institution's status",
        "keys": "Public keys",
        "kid": "Key id",
        "issued": "Issued",
        "batches": "Batches",
        "certificates": "Certificates",
        "number": "Certificate number",
        "holder": "Name",
        "id": "ID number",
        "occupation": "Occupation",
        "level": "Level",
        "issue_date": "Issued",
        "state": "Review state",
        "cert_status": "Status",
        "none": "none",
        "open": "Open",
        "filter": "Filter by name or code",
        "limit": "Only the first 500 are listed.",
        "active": "active",
        "suspended": "suspended",
        "removed": "removed",
        "valid": "valid",
        "approved": "approved, not yet published",
        "published": "published",
        "confirm": "Confirm",
        "sanctions": "Suspensions, reinstatements and removals are decisions recorded in the credit file: record them on the credit and supervision page (a removal names its grounds). The status change here is for corrections.",
    },
}


def _words(request: Request) -> dict[str, str]:
    return _TEXT[page_lang(request)]


def _status_badge(request: Request, status: str | None) -> Safe:
    shown = status or "none"
    return fill('<span class="status inst-{s}">{t}</span>', s=shown, t=_words(request).get(shown, shown))


@router.get("/institutions")
def institutions_page(
    request: Request, who: Annotated[Session, Viewer(*READERS)], q: str = ""
) -> HTMLResponse:
    """Every institution with its status today; the admin files new ones from here."""
    words = _words(request)
    reg = registry_of(request)
    today = reg.now().today
    with reg.db.read() as conn:
        listed = directory.load_institutions(conn)
    needle = q.strip()[:60].casefold()
    shown = [i for i in listed if needle in i.name.casefold() or needle in i.code.casefold()]
    filter_form = fill(
        '<form method="get" class="filter" action="/console/institutions"><label for="q">{l}</label>'
        '<input id="q" name="q" value="{q}"><button type="submit">{l}</button></form>',
        l=words["filter"],
        q=q[:60],
    )
    table = layout.table(
        [words["name"], words["code"], words["status"], words["scopes"]],
        [
            [
                fill('<a href="{u}">{n}</a>', u=link(request, f"/console/institutions/{i.code}"), n=i.name),
                i.code,
                _status_badge(request, i.status_on(today)),
                str(len(i.scopes)),
            ]
            for i in shown
        ],
    )
    new = Safe("")
    if who.account.role == ADMIN:
        new = fill(
            '<p><a href="{u}">{t}</a></p>', u=link(request, "/console/institutions/new"), t=words["new"]
        )
    return render(request, who, "机构管理", "Institutions", join([new, filter_form, table]))


def _scope_fields(words: dict[str, str]) -> Safe:
    levels = join(
        fill('<label><input type="checkbox" name="levels" value="{n}"> {n}</label>', n=n) for n in range(1, 6)
    )
    return fill(
        """<label for="occupation_code">{oc}</label><input id="occupation_code" name="occupation_code" required>
<label for="occupation_name">{on}</label><input id="occupation_name" name="occupation_name" required>
<fieldset><legend>{lv}</legend>{levels}</fieldset>
<label for="work_types">{wt}</label><input id="work_types" name="work_types" value="--">
<label for="valid_from">{vf}</label><input id="valid_from" name="valid_from" type="date" required>
<label for="valid_until">{vu}</label><input id="valid_until" name="valid_until" type="date">""",
        oc=words["occupation_code"],
        on=words["occupation_name"],
        lv=words["levels"],
        levels=levels,
        wt=words["work_types"],
        vf=words["valid_from"],
        vu=words["valid_until"],
    )


@router.get("/institutions/new")
def new_institution(request: Request, who: Annotated[Session, Viewer(ADMIN)]) -> HTMLResponse:
    """The filing form: the institution and its first scope entry."""
    words = _words(request)
    fields = fill(
        """<label for="name">{name}</label><input id="name" name="name" required>
<label for="uscc">{uscc}</label><input id="uscc" name="uscc" maxlength="18" required>
<label for="category">{category}</label><select id="category" name="category"><option value="Y">{y}</option><option value="S">{s}</option></select>
<label for="national_code">{nc}</label><input id="national_code" name="national_code" maxlength="4" required>
<label for="province">{pv}</label><input id="province" name="province" maxlength="2" required>
<label for="site">{site}</label><input id="site" name="site" maxlength="6" required>
<h2>{scopes}</h2>{scope}""",
        name=words["name"],
        uscc=words["uscc"],
        category=words["category"],
        y=words["category_Y"],
        s=words["category_S"],
        nc=words["national_code"],
        pv=words["province"],
        site=words["site"],
        scopes=words["scopes"],
        scope=_scope_fields(words),
    )
    body = form(request, who, "/console/institutions", fields, words["create"], "stack")
    return render(request, who, "备案新机构", "File an institution", body)


def _scope_record(fields: ScopeForm) -> dict[str, Any]:
    """A scope entry as the institution schema wants it, from the form's fields."""
    work_types = [w.strip() for w in (fields.work_types or "--").replace("，", ",").split(",")]
    scope: dict[str, Any] = {
        "occupation_code": fields.occupation_code.strip(),
        "occupation_name": fields.occupation_name.strip(),
        "levels": [int(v) for v in fields.levels if v.isdigit() and len(v) == 1],
        "work_types": [w for w in work_types if w] or ["--"],
        "valid_from": fields.valid_from,
    }
    if fields.valid_until:
        scope["valid_until"] = fields.valid_until
    return scope


class ScopeForm(BaseModel):
    """The scope fields of the filing and add-scope forms (all optional here: the schema judges)."""

    occupation_code: str = ""
    occupation_name: str = ""
    levels: list[str] = []
    work_types: str = "--"
    valid_from: str = ""
    valid_until: str = ""


class FilingForm(ScopeForm):
    """The filing form: the institution and its first scope entry."""

    name: str = ""
    uscc: str = ""
    category: str = ""
    national_code: str = ""
    province: str = ""
    site: str = ""


@router.post("/institutions")
def create_institution(
    request: Request, who: Annotated[Session, Action(ADMIN)], fields: Annotated[FilingForm, Form()]
) -> Response:
    """File an institution (the code is its category, national code, province and site)."""
    text = {
        k: str(getattr(fields, k)).strip()
        for k in ("name", "uscc", "category", "national_code", "province", "site")
    }
    record: dict[str, Any] = {
        "code": text["category"] + text["national_code"] + text["province"] + text["site"],
        **text,
        "scopes": [_scope_record(fields)],
    }
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: directory.create_institution(conn, record, now, who.account.actor),
        then=f"/console/institutions/{record['code']}",
        back="/console/institutions/new",
    )


@router.post("/institutions/{code}/scopes")
def add_scope(
    request: Request, who: Annotated[Session, Action(ADMIN)], code: str, fields: Annotated[ScopeForm, Form()]
) -> Response:
    """Add a scope entry with its window."""
    scope = _scope_record(fields)
    reg = registry_of(request)
    now = reg.now()
    page = f"/console/institutions/{code}"
    return act(
        request, who, lambda conn: directory.add_scope(conn, code, scope, now, who.account.actor), page, page
    )


@router.post("/institutions/{code}/status")
def set_status(
    request: Request,
    who: Annotated[Session, Action(ADMIN)],
    code: str,
    status: FormText = "",
    effective: FormText = "",
    reason: FormText = "",
) -> Response:
    """Append a status change with its effective day (today when left empty) and reason."""
    page = f"/console/institutions/{code}"
    try:
        day = date.fromisoformat(effective) if effective else None
    except ValueError:
        return error_page(request, who, RegistryError("status_invalid", "effective: YYYY-MM-DD"), page)
    if not reason.strip():
        return error_page(request, who, RegistryError("status_invalid", "a reason is required"), page)
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: credit.change_status(
            conn, code, status, day, reason.strip()[:500], who.account.actor, now, reg.digests
        ),
        page,
        page,
    )


def _scopes_table(request: Request, institution: Institution) -> Safe:
    words = _words(request)
    return layout.table(
        [
            words["occupation_code"],
            words["occupation_name"],
            words["levels"],
            words["work_types"],
            words["valid_from"],
            words["valid_until"],
        ],
        [
            [
                s.occupation_code,
                s.occupation_name,
                "、".join(str(n) for n in s.levels),
                "、".join(s.work_types),
                s.valid_from.isoformat(),
                s.valid_until.isoformat() if s.valid_until else "—",
            ]
            for s in institution.scopes
        ],
    )


def _history_table(request: Request, institution: Institution) -> Safe:
    from registry.console.review import day_of

    words = _words(request)
    return layout.table(
        [words["status_entry"], words["effective"], words["recorded"], words["reason"]],
        [
            [_status_badge(request, s.status), s.effective.isoformat(), day_of(s.recorded), s.reason]
            for s in institution.statuses
        ],
    )


def _keys_table(request: Request, institution: Institution) -> Safe:
    from keys.recipes import b64url

    words = _words(request)
    return layout.table(
        [words["kid"], words["valid_from"], words["valid_until"], "retired / revoked"],
        [
            [
                b64url(k.kid),
                k.valid_from.isoformat(),
                k.valid_until.isoformat() if k.valid_until else "—",
                f"{k.retired or '—'} / {k.revoked or '—'}",
            ]
            for k in institution.keys
        ],
    )


def _admin_forms(request: Request, who: Session, code: str) -> Safe:
    words = _words(request)
    if who.account.role != ADMIN:
        return Safe("")
    statuses = join(
        fill('<option value="{s}">{t}</option>', s=s, t=words[s]) for s in ("active", "suspended", "removed")
    )
    status_fields = fill(
        """<label for="status">{st}</label><select id="status" name="status">{options}</select>
<label for="effective">{ef}</label><input id="effective" name="effective" type="date">
<label for="reason">{rs}</label><input id="reason" name="reason" required maxlength="500">""",
        st=words["status_entry"],
        options=statuses,
        ef=words["effective"],
        rs=words["reason"],
    )
    return join(
        [
            fill("<h2>{t}</h2>", t=words["change_status"]),
            fill(
                '<p><a href="{u}">{t}</a></p>',
                u=link(request, f"/console/supervision/{code}"),
                t=words["sanctions"],
            ),
            form(
                request,
                who,
                f"/console/institutions/{code}/status",
                status_fields,
                words["change_status"],
                "stack",
            ),
            fill("<h2>{t}</h2>", t=words["add_scope"]),
            form(
                request,
                who,
                f"/console/institutions/{code}/scopes",
                _scope_fields(words),
                words["add_scope"],
                "stack",
            ),
        ]
    )


@router.get("/institutions/{code}")
def institution_page(request: Request, who: Annotated[Session, Viewer(*READERS)], code: str) -> HTMLResponse:
    """One institution: status, history, scope and keys; the admin's forms to change them."""
    words = _words(request)
    reg = registry_of(request)
    today = reg.now().today
    with reg.db.read() as conn:
        found = directory.load_institutions(conn, code[:13])
    if not found:
        return error_page(
            request, who, RegistryError("institution_unknown", code[:13]), "/console/institutions"
        )
    institution = found[0]
    body = join(
        [
            fill(
                '<p>{code} · {badge} · <a href="{issued}">{issued_label}</a> · <a href="{tokens}">API</a></p>',
                code=institution.code,
                badge=_status_badge(request, institution.status_on(today)),
                issued=link(request, f"/console/institutions/{code}/issued"),
                issued_label=words["issued"],
                tokens=link(request, "/console/tokens"),
            ),
            fill("<h2>{t}</h2>", t=words["scopes"]),
            _scopes_table(request, institution),
            fill("<h2>{t}</h2>", t=words["history"]),
            _history_table(request, institution),
            fill("<h2>{t}</h2>", t=words["keys"]),
            _keys_table(request, institution) if institution.keys else fill("<p>{t}</p>", t=words["none"]),
            _admin_forms(request, who, code),
        ]
    )
    return render(request, who, institution.name, institution.name, body)


@router.get("/institutions/{code}/issued")
def issued_page(request: Request, who: Annotated[Session, Viewer(*READERS)], code: str) -> HTMLResponse:
    """What one institution submitted and issued: its batches and its certificates with their status."""
    words = _words(request)
    lang = page_lang(request)
    levels = LEVEL_NAMES if lang == "zh" else LEVEL_NAMES_EN
    reg = registry_of(request)
    with reg.db.read() as conn:
        found = directory.load_institutions(conn, code[:13])
        summaries = batch_summaries(conn, [batches.c.institution_code == code[:13]], _LIST_LIMIT)
        certificates = issued_rows(conn, code[:13], _LIST_LIMIT)
    if not found:
        return error_page(
            request, who, RegistryError("institution_unknown", code[:13]), "/console/institutions"
        )
    table = layout.table(
        [
            words[k]
            for k in ("number", "holder", "id", "occupation", "level", "issue_date", "state", "cert_status")
        ],
        [
            [
                r.certificate_number,
                r.holder_name,
                MaskedId(r.id_length, r.id_suffix).display(),
                r.occupation_name,
                levels.get(r.level, str(r.level)),
                r.issue_date.isoformat() if r.issue_date else "",
                words.get(r.state, r.state),
                fill(
                    '<span class="status status-{s}">{t}</span>', s=r.status, t=words.get(r.status, r.status)
                ),
            ]
            for r in certificates
        ],
    )
    body = join(
        [
            fill("<h2>{t}</h2>", t=words["batches"]),
            batch_table(request, summaries) if summaries else fill("<p>{t}</p>", t=words["none"]),
            fill("<h2>{t}</h2>", t=words["certificates"]),
            table if certificates else fill("<p>{t}</p>", t=words["none"]),
            fill("<p><small>{t}</small></p>", t=words["limit"])
            if len(certificates) >= _LIST_LIMIT
            else Safe(""),
        ]
    )
    name = found[0].name
    return render(request, who, f"{name} · 发证情况", f"{name} · issued", body)
