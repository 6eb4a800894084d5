"""Bearer API tokens: random, shown once, stored only as SHA-256 digests, each bound to one role."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from skillpass.keys.recipes import b64url
from skillpass.registry.errors import RegistryError
from skillpass.registry.schema import institutions, tokens

ADMIN, REVIEWER, INSTITUTION = "admin", "reviewer", "institution"
ROLES = (ADMIN, REVIEWER, INSTITUTION)
TOKEN_PREFIX = "skp_"  # noqa: S105 (a public prefix)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, the institution an institution token is bound to, and an audit name."""

    role: str
    institution_code: str | None
    token_id: str  # the first 12 hex digits of the token's digest: names the token in the audit log

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
    if role not in ROLES or (role == INSTITUTION) != (institution_code is not None):
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


def authenticate(conn: Connection, authorization: str | None, now: int) -> Principal:
    """The caller behind an ``Authorization: Bearer`` header, or ``unauthenticated``/``token_expired``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise RegistryError("unauthenticated")
    stored = digest(token.strip())
    row = conn.execute(select(tokens).where(tokens.c.digest == stored)).first()
    if row is None:
        raise RegistryError("unauthenticated")
    if row.expires_at is not None and now >= row.expires_at:
        raise RegistryError("token_expired")
    return Principal(role=row.role, institution_code=row.institution_code, token_id=stored[:12])
