"""Authenticated directory endpoints: institutions, scopes and status (admin), keys (the institution
itself or the admin), and API tokens (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from registry import credit
from registry import institutions as directory
from registry.deps import CallerDep, RegistryDep, require_institution, require_role
from registry.json_body import CheckedJsonRoute
from registry.models import (
    InstitutionStatusIn,
    KeyIn,
    RetireIn,
    RevocationCorrectionIn,
    RevokeIn,
    TokenIn,
    TokenRevokeIn,
)
from registry.tokens import ADMIN, issue_token, revoke_token

router = APIRouter(prefix="/api/v1", route_class=CheckedJsonRoute)


def _record(reg: RegistryDep, code: str) -> dict[str, Any]:
    with reg.db.read() as conn:
        return directory.institution_json(directory.load_institution(conn, code), reg.now().today)


@router.post("/institutions", status_code=201)
def create_institution(reg: RegistryDep, who: CallerDep, body: dict[str, Any]) -> dict[str, Any]:
    """File an institution with its scopes (admin)."""
    require_role(who, ADMIN)
    now = reg.now()
    code = reg.db.write(lambda conn: directory.create_institution(conn, body, now, who.actor))
    return _record(reg, code)


@router.post("/institutions/{code}/scopes", status_code=201)
def add_scope(reg: RegistryDep, who: CallerDep, code: str, body: dict[str, Any]) -> dict[str, Any]:
    """Add a scope entry (admin)."""
    require_role(who, ADMIN)
    now = reg.now()
    reg.db.write(lambda conn: directory.add_scope(conn, code, body, now, who.actor))
    return _record(reg, code)


@router.post("/institutions/{code}/status", status_code=201)
def set_status(reg: RegistryDep, who: CallerDep, code: str, body: InstitutionStatusIn) -> dict[str, Any]:
    """Append a status change (admin); effective today unless a day is given."""
    require_role(who, ADMIN)
    now = reg.now()
    reg.db.write(
        lambda conn: credit.change_status(
            conn, code, body.status, body.effective, body.reason, who.actor, now, reg.digests
        )
    )
    return _record(reg, code)


@router.post("/institutions/{code}/keys", status_code=201)
def register_key(reg: RegistryDep, who: CallerDep, code: str, body: KeyIn) -> dict[str, Any]:
    """Register a public key of the institution."""
    require_institution(who, code)
    now = reg.now()
    kid = reg.db.write(
        lambda conn: directory.register_key(
            conn,
            code,
            body.jwk,
            body.valid_from,
            body.valid_until,
            now,
            who.actor,
            by_admin=who.role == ADMIN,
        )
    )
    return {"kid": kid, "institution": _record(reg, code)}


@router.post("/institutions/{code}/keys/{kid}/retire")
def retire_key(reg: RegistryDep, who: CallerDep, code: str, kid: str, body: RetireIn) -> dict[str, Any]:
    """Retire a rotated key."""
    require_institution(who, code)
    now = reg.now()
    reg.db.write(
        lambda conn: directory.retire_key(
            conn, code, kid, body.retired or now.today, now, who.actor, by_admin=who.role == ADMIN
        )
    )
    return _record(reg, code)


@router.post("/institutions/{code}/keys/{kid}/revoke")
def revoke_key(reg: RegistryDep, who: CallerDep, code: str, kid: str, body: RevokeIn) -> dict[str, Any]:
    """Revoke a compromised key from a day."""
    require_institution(who, code)
    now = reg.now()
    reg.db.write(
        lambda conn: directory.revoke_key(
            conn,
            code,
            kid,
            body.revoked or now.today,
            body.reason,
            now,
            who.actor,
            by_admin=who.role == ADMIN,
            digests=reg.digests,
        )
    )
    return _record(reg, code)


@router.post("/institutions/{code}/keys/{kid}/revocation-correction")
def correct_revocation(
    reg: RegistryDep, who: CallerDep, code: str, kid: str, body: RevocationCorrectionIn
) -> dict[str, Any]:
    """Put a wrong revocation day right (admin): a later day, or ``null`` to withdraw it; audited."""
    require_role(who, ADMIN)
    now = reg.now()
    reg.db.write(
        lambda conn: directory.correct_revocation(
            conn, code, kid, body.revoked, body.reason, now, who.actor, reg.digests
        )
    )
    return _record(reg, code)


@router.post("/tokens", status_code=201)
def new_token(reg: RegistryDep, who: CallerDep, body: TokenIn) -> dict[str, Any]:
    """Create an API token (admin); the token is shown only in this answer, its ``id`` revokes it."""
    require_role(who, ADMIN)
    now = reg.now()
    expires = None if body.expires_in_days is None else now.unix + body.expires_in_days * 86400
    token, made_id = reg.db.write(
        lambda conn: issue_token(
            conn,
            role=body.role,
            institution_code=body.institution_code,
            now=now.unix,
            expires_at=expires,
            actor=who.actor,
        )
    )
    return {
        "token": token,
        "id": made_id,
        "role": body.role,
        "institution_code": body.institution_code,
        "expires_at": expires,
    }


@router.post("/tokens/revoke")
def revoke(reg: RegistryDep, who: CallerDep, body: TokenRevokeIn) -> dict[str, Any]:
    """Revoke a token by its id (admin); it is refused from the next request on."""
    require_role(who, ADMIN)
    now = reg.now()
    reg.db.write(lambda conn: revoke_token(conn, body.id, body.reason, now.unix, who.actor, reg.digests))
    return {"id": body.id, "revoked_at": now.unix}
