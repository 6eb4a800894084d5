"""Bearer API tokens: random, shown once, stored only as SHA-256 digests, each bound to one role."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from credential.directory import Institution, StatusChange
from keys.recipes import b64url
from registry.audit import Digests, append_event
from registry.clock import Now
from registry.errors import RegistryError
from registry.schema import institution_statuses, institutions, token_revocations, tokens

ADMIN, REVIEWER, INSTITUTION, SUPERVISOR = "admin", "reviewer", "institution", "supervisor"
ROLES = (ADMIN, REVIEWER, INSTITUTION, SUPERVISOR)
# Appraisal-centre staff: they see complaints in full, supervision records and signals.
STAFF = (ADMIN, REVIEWER, SUPERVISOR)
# An employer token exists only with its account (``registry.employers``), never on its own.
EMPLOYER = "employer"
TOKEN_PREFIX = "skp_"  # noqa: S105 (a public prefix)
TOKEN_ID_LENGTH = 12
_TOKEN_ID = re.compile(r"[0-9a-f]{12}")
REMOVED = "removed"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, the institution an institution token is bound to, and an audit name."""

    role: str
    institution_code: str | None
    token_id: str  # ``token_id(digest)``: names the token in the audit log

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        bound = f":{self.institution_code}" if self.institution_code else ""
        return f"{self.role}{bound}:{self.token_id}"

    def may_act_for(self, institution_code: str) -> bool:
        """Admins act for every institution, institution tokens only for their own."""
        return self.role == ADMIN or (self.role == INSTITUTION and self.institution_code == institution_code)


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    conn: Connection, *, role: str, institution_code: str | None, now: int, expires_at: int | None = None
) -> tuple[str, str]:
    """Store a new token's digest; return the token (shown once) and its digest."""
    if role not in (*ROLES, EMPLOYER) or (role == INSTITUTION) != (institution_code is not None):
        raise RegistryError("token_role_invalid", "institution tokens, and only they, name an institution")
    if institution_code is not None:
        known = conn.execute(
            select(institutions.c.code).where(institutions.c.code == institution_code)
        ).first()
        if known is None:
            raise RegistryError("institution_unknown", institution_code)
    token = TOKEN_PREFIX + b64url(secrets.token_bytes(32))
    stored = digest(token)
    conn.execute(
        tokens.insert().values(
            digest=stored, role=role, institution_code=institution_code, created_at=now, expires_at=expires_at
        )
    )
    return token, stored


def token_id(stored: str) -> str:
    """A token's public id: the first 12 hex digits of its digest (answered at creation, named in the
    audit log, used to revoke it)."""
    return stored[:TOKEN_ID_LENGTH]


def issue_token(
    conn: Connection, *, role: str, institution_code: str | None, now: int, expires_at: int | None, actor: str
) -> tuple[str, str]:
    """``create_token`` and its audit event; returns the token and its id."""
    token, stored = create_token(
        conn, role=role, institution_code=institution_code, now=now, expires_at=expires_at
    )
    append_event(
        conn,
        time=now,
        actor=actor,
        action="token.create",
        subject=token_id(stored),
        data={"role": role, "institution_code": institution_code, "expires_at": expires_at},
    )
    return token, token_id(stored)


def revoke_token(
    conn: Connection, wanted_id: str, reason: str, now: int, actor: str, digests: Digests
) -> None:
    """Revoke the token with this id for good (a revocation row, never a deletion), audited (the
    free-text reason only as a keyed digest)."""
    found: Sequence[Any] = ()
    if _TOKEN_ID.fullmatch(wanted_id):
        found = conn.execute(
            select(tokens.c.digest).where(tokens.c.digest.like(wanted_id + "%")).limit(2)
        ).all()
    if len(found) != 1:
        raise RegistryError("token_unknown", wanted_id[:TOKEN_ID_LENGTH])
    stored = found[0].digest
    if conn.execute(select(token_revocations.c.digest).where(token_revocations.c.digest == stored)).first():
        raise RegistryError("token_state", wanted_id)
    conn.execute(token_revocations.insert().values(digest=stored, revoked_at=now, reason=reason))
    append_event(
        conn,
        time=now,
        actor=actor,
        action="token.revoke",
        subject=wanted_id,
        data={"reason": digests.of("reason", reason)},
    )


def authenticate(conn: Connection, authorization: str | None, now: Now) -> Principal:
    """The caller behind an ``Authorization: Bearer`` header, or ``unauthenticated``, ``token_expired``
    or ``token_revoked`` (revoked, or bound to an institution removed as of today)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise RegistryError("unauthenticated")
    stored = digest(token.strip())
    row = conn.execute(
        select(tokens, token_revocations.c.revoked_at)
        .outerjoin(token_revocations, token_revocations.c.digest == tokens.c.digest)
        .where(tokens.c.digest == stored)
    ).first()
    if row is None:
        raise RegistryError("unauthenticated")
    if row.expires_at is not None and now.unix >= row.expires_at:
        raise RegistryError("token_expired")
    if row.revoked_at is not None:
        raise RegistryError("token_revoked")
    if row.institution_code is not None and _status_today(conn, row.institution_code, now) == REMOVED:
        raise RegistryError("token_revoked", "the institution is removed")
    return Principal(role=row.role, institution_code=row.institution_code, token_id=token_id(stored))


def _status_today(conn: Connection, code: str, now: Now) -> str | None:
    found = conn.execute(
        select(institution_statuses).where(institution_statuses.c.institution_code == code)
    ).all()
    changes = tuple(StatusChange(s.status, s.effective, s.recorded, s.reason) for s in found)
    return Institution(code=code, name="", uscc="", category="", statuses=changes).status_on(now.today)
