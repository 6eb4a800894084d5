"""Holder self-service (我的证书): a holder's own certificates by name + ID number, and share links.

Proof of holdership is what the national query site asks for: the name and the ID number (compared
only through the keyed digest); creating or revoking a share link also needs the certificate
number. Anyone who knows all three can do what the holder can; docs/security.md says what that
means. A share link is ``/s/<token>``: 24 random bytes, stored only as their SHA-256 digest, with an
expiry the holder chose (1 to 90 days); it shows the certificate with the ID number masked and its
live status, and nothing else. Every create and revoke is audited under the certificate number,
without personal data.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, select, update

from registry.audit import Digests, append_event
from registry.batches import PUBLISHED, certificate_json
from registry.clock import Now
from registry.errors import RegistryError
from registry.query import confirm_holder
from registry.schema import batches, institutions, rows
from registry.schema_console import share_links

MIN_DAYS: Final = 1
MAX_DAYS: Final = 90
MAX_LINKS: Final = 20  # live links per certificate: enough for any job hunt, bounded for the table
_TOKEN_MAX: Final = 64
_LINK_ID = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class ShareLink:
    """A live or ended share link as the holder sees it (the token itself is never stored)."""

    link_id: str
    certificate_number: str
    created_at: int
    expires_at: int
    revoked_at: int | None

    def live(self, now: Now) -> bool:
        """Whether the link still opens."""
        return self.revoked_at is None and now.unix < self.expires_at


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _prove(conn: Connection, number: str, name: str, id_number: str, digests: Digests) -> None:
    """``not_found`` unless the three agree with a published certificate (same answer for any mismatch)."""
    if not confirm_holder(conn, number, name, id_number, digests):
        raise RegistryError("not_found", "certificate")


def create_link(
    conn: Connection, number: str, name: str, id_number: str, days: int, digests: Digests, now: Now
) -> tuple[str, ShareLink]:
    """A new share link for a certificate the caller proved to hold; returns the token (shown once)."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise RegistryError("share_days_invalid")
    _prove(conn, number, name, id_number, digests)
    if sum(1 for link in links_of(conn, number) if link.live(now)) >= MAX_LINKS:
        raise RegistryError("share_too_many")
    token = secrets.token_urlsafe(24)
    digest = _digest(token)
    expires = now.unix + days * 86400
    conn.execute(
        share_links.insert().values(
            digest=digest, certificate_number=number, created_at=now.unix, expires_at=expires
        )
    )
    append_event(
        conn,
        time=now.unix,
        actor="holder",
        action="share.create",
        subject=number,
        data={"link": digest[:12], "expires_at": expires},
    )
    return token, ShareLink(digest[:12], number, now.unix, expires, None)


def revoke_link(
    conn: Connection, number: str, name: str, id_number: str, link_id: str, digests: Digests, now: Now
) -> None:
    """End a share link of a certificate the caller proved to hold."""
    _prove(conn, number, name, id_number, digests)
    if not _LINK_ID.fullmatch(link_id):
        raise RegistryError("not_found", "share link")
    done = conn.execute(
        update(share_links)
        .where(
            share_links.c.certificate_number == number,
            share_links.c.digest.like(link_id + "%"),
            share_links.c.revoked_at.is_(None),
        )
        .values(revoked_at=now.unix)
    ).rowcount
    if done != 1:
        raise RegistryError("not_found", "share link")
    append_event(
        conn, time=now.unix, actor="holder", action="share.revoke", subject=number, data={"link": link_id}
    )


def links_of(conn: Connection, number: str) -> list[ShareLink]:
    """Every share link ever made for a certificate, newest first."""
    found = conn.execute(
        select(share_links)
        .where(share_links.c.certificate_number == number)
        .order_by(share_links.c.created_at.desc())
    ).all()
    return [
        ShareLink(r.digest[:12], r.certificate_number, r.created_at, r.expires_at, r.revoked_at)
        for r in found
    ]


def open_link(conn: Connection, token: str, now: Now) -> dict[str, Any]:
    """The certificate behind a live share link (ID masked) with its status; else ``share_link_gone``."""
    if not token or len(token) > _TOKEN_MAX:
        raise RegistryError("share_link_gone")
    link = conn.execute(select(share_links).where(share_links.c.digest == _digest(token))).first()
    if link is None or link.revoked_at is not None or now.unix >= link.expires_at:
        raise RegistryError("share_link_gone")
    row = conn.execute(
        select(rows, batches.c.institution_code, institutions.c.name.label("institution_name"))
        .join(batches, rows.c.batch_pk == batches.c.id)
        .join(institutions, institutions.c.code == batches.c.institution_code)
        .where(rows.c.certificate_number == link.certificate_number, rows.c.state == PUBLISHED)
    ).first()
    if row is None:
        raise RegistryError("share_link_gone")
    return {
        "certificate": certificate_json(row, row.institution_code, row.institution_name),
        "institution": {"code": row.institution_code, "name": row.institution_name},
        "status": row.status,
        "expires_at": link.expires_at,
    }


def credential_of(conn: Connection, number: str, name: str, id_number: str, digests: Digests) -> bytes:
    """The published credential (COSE bytes) of a certificate the caller proved to hold."""
    _prove(conn, number, name, id_number, digests)
    found = conn.execute(
        select(rows.c.credential).where(rows.c.certificate_number == number, rows.c.state == PUBLISHED)
    ).scalar_one()
    return bytes(found)
