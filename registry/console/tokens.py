"""API tokens in the console (admin only): every token with its role, institution, expiry and
revocation; creating one (shown once, on the answer page only); revoking one by its id. The same
functions as the API and the CLI (``registry.tokens``), audited under the person's name."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from registry.console import layout
from registry.console.accounts import ADMIN
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
    page_lang,
    registry_of,
    render,
)
from registry.console.review import day_of
from registry.console.sessions import Session
from registry.errors import RegistryError
from registry.schema import token_revocations, tokens
from registry.templates.markup import Safe, fill, join
from registry.tokens import INSTITUTION, ROLES, issue_token, revoke_token, token_id

router = console_router()
FormText = Annotated[str, Form()]
add_nav(NavItem("/console/tokens", "接口令牌", "API tokens", (ADMIN,)))
_MAX_DAYS: Final = 3650

_TEXT: Final = {
    "zh": {
        "intro": "机构和系统通过接口令牌调用登记系统。令牌只在创建时显示一次；吊销后立即失效。",
        "id": "令牌编号",
        "role": "角色",
        "institution": "机构代码（机构令牌必填）",
        "created": "创建时间",
        "expires": "到期时间",
        "revoked": "吊销",
        "days": "有效天数（可空，表示不过期）",
        "create": "创建令牌",
        "revoke": "吊销",
        "reason": "吊销原因",
        "shown_once": "新令牌如下，只显示这一次，请立即妥善交给使用者：",
        "never": "不过期",
        "active": "有效",
    },
    "en": {
        "intro": "Institutions and systems call the registry with API tokens. A token is shown only when it is created; a revoked token stops working at once.",
        "id": "Token id",
        "role": "Role",
        "institution": "Institution code (institution tokens only)",
        "created": "Created",
        "expires": "Expires",
        "revoked": "Revoked",
        "days": "Valid for days (empty: no expiry)",
        "create": "Create token",
        "revoke": "Revoke",
        "reason": "Reason",
        "shown_once": "The new token, shown this once only; hand it to its user now:",
        "never": "never",
        "active": "active",
    },
}


def _listing(request: Request, who: Session) -> Safe:
    words = _TEXT[page_lang(request)]
    reg = registry_of(request)
    with reg.db.read() as conn:
        found = conn.execute(
            select(tokens, token_revocations.c.revoked_at)
            .outerjoin(token_revocations, token_revocations.c.digest == tokens.c.digest)
            .order_by(tokens.c.created_at)
        ).all()
    revoke_fields = fill(
        '<input name="reason" aria-label="{r}" placeholder="{r}" required maxlength="500">', r=words["reason"]
    )

    def revoke_form(digest: str) -> Safe:
        hidden = fill('<input type="hidden" name="id" value="{i}">', i=token_id(digest))
        return form(
            request, who, "/console/tokens/revoke", join([hidden, revoke_fields]), words["revoke"], "danger"
        )

    return layout.table(
        [
            words["id"],
            words["role"],
            words["institution"],
            words["created"],
            words["expires"],
            words["revoked"],
        ],
        [
            [
                fill("<code>{i}</code>", i=token_id(t.digest)),
                t.role,
                t.institution_code or "—",
                day_of(t.created_at),
                day_of(t.expires_at) if t.expires_at else words["never"],
                day_of(t.revoked_at) if t.revoked_at else revoke_form(t.digest),
            ]
            for t in found
        ],
    )


def _create_form(request: Request, who: Session) -> Safe:
    words = _TEXT[page_lang(request)]
    options = join(fill('<option value="{r}">{r}</option>', r=r) for r in ROLES)
    fields = fill(
        """<label for="role">{role}</label><select id="role" name="role">{options}</select>
<label for="institution_code">{inst}</label><input id="institution_code" name="institution_code" maxlength="13">
<label for="days">{days}</label><input id="days" name="days" type="number" min="1" max="3650">""",
        role=words["role"],
        options=options,
        inst=words["institution"],
        days=words["days"],
    )
    return form(request, who, "/console/tokens", fields, words["create"], "stack")


@router.get("/tokens")
def tokens_page(request: Request, who: Annotated[Session, Viewer(ADMIN)]) -> HTMLResponse:
    """Every token, the form to create one and a revoke button on each active one."""
    words = _TEXT[page_lang(request)]
    body = join([fill("<p>{t}</p>", t=words["intro"]), _create_form(request, who), _listing(request, who)])
    return render(request, who, "接口令牌", "API tokens", body)


@router.post("/tokens")
def create_token(
    request: Request,
    who: Annotated[Session, Action(ADMIN)],
    role: FormText = "",
    institution_code: FormText = "",
    days: FormText = "",
) -> Response:
    """Create a token and show it on this answer only (never stored, never redirected to)."""
    words = _TEXT[page_lang(request)]
    reg = registry_of(request)
    now = reg.now()
    code = institution_code.strip().upper() or None
    if role != INSTITUTION:
        code = None if not institution_code.strip() else code
    try:
        valid_days = int(days) if days.strip() else None
        if valid_days is not None and not 1 <= valid_days <= _MAX_DAYS:
            raise ValueError(days)
    except ValueError:
        return error_page(request, who, RegistryError("invalid_request", "days: 1-3650"), "/console/tokens")
    expires = None if valid_days is None else now.unix + valid_days * 86400
    try:
        token, made_id = reg.db.write(
            lambda conn: issue_token(
                conn,
                role=role,
                institution_code=code,
                now=now.unix,
                expires_at=expires,
                actor=who.account.actor,
            )
        )
    except RegistryError as e:
        return error_page(request, who, e, "/console/tokens")
    body = join(
        [
            layout.notice("ok", words["shown_once"]),
            fill(
                '<p class="secret" id="new-token">{t}</p><p><code>{i}</code> · {r} · {c}</p>',
                t=token,
                i=made_id,
                r=role,
                c=code or "—",
            ),
            _listing(request, who),
        ]
    )
    response = render(request, who, "接口令牌", "API tokens", body, 201)
    response.headers.update(HEADERS)
    return response


@router.post("/tokens/revoke")
def revoke(
    request: Request,
    who: Annotated[Session, Action(ADMIN)],
    id: FormText = "",
    reason: FormText = "",
) -> Response:
    """Revoke a token by its id, with a reason."""
    if not reason.strip():
        return error_page(
            request, who, RegistryError("invalid_request", "a reason is required"), "/console/tokens"
        )
    reg = registry_of(request)
    now = reg.now()
    return act(
        request,
        who,
        lambda conn: revoke_token(
            conn, id.strip(), reason.strip()[:500], now.unix, who.account.actor, reg.digests
        ),
        "/console/tokens",
        "/console/tokens",
    )
