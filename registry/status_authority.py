"""Who placed each certificate suspension, so that only the same authority or a higher one lifts it.

Every status change of a certificate appends a row here naming the authority that made it (the
institution, or the appraisal centre acting as ``admin``); nothing is updated or deleted. A
suspension is lifted (``reinstate``) only by an authority ranked at least as high as the one that
placed it, so an institution cannot undo the appraisal centre's suspension. The centre may take
over an institution's suspension by suspending again, after which only the centre lifts it.
Suspensions placed before this table existed name no authority and count as the centre's (the
safe side: the institution asks the centre).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, ForeignKey, Integer, String, Table, select

from registry.errors import RegistryError
from registry.schema import metadata
from registry.tokens import ADMIN, INSTITUTION, Principal

SUSPEND, REINSTATE = "suspend", "reinstate"
_RANK = {INSTITUTION: 1, ADMIN: 2}

certificate_status_changes = Table(
    "certificate_status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("row_id", Integer, ForeignKey("rows.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("authority", String(16), nullable=False),
    Column("category", String(32), nullable=True),  # schemas.vocabulary.STATUS_REASON_CATEGORIES
    Column("recorded", BigInteger, nullable=False),
)


def rank(role: str) -> int:
    """How high an authority stands (0 for roles that never change a certificate's status)."""
    return _RANK.get(role, 0)


def suspended_by(conn: Connection, row_id: int) -> str:
    """The authority of the latest suspension of a certificate (the centre when none is recorded)."""
    found = conn.execute(
        select(certificate_status_changes.c.authority)
        .where(certificate_status_changes.c.row_id == row_id, certificate_status_changes.c.action == SUSPEND)
        .order_by(certificate_status_changes.c.id.desc())
        .limit(1)
    ).scalar()
    return str(found) if found is not None else ADMIN


def may_take_over(conn: Connection, row_id: int, principal: Principal) -> bool:
    """Whether a suspend of an already suspended certificate hands it to a higher authority."""
    return rank(principal.role) > rank(suspended_by(conn, row_id))


def require_may_lift(conn: Connection, row_id: int, principal: Principal) -> None:
    """``status_authority`` unless the caller ranks at least as high as whoever suspended it."""
    placer = suspended_by(conn, row_id)
    if rank(principal.role) < rank(placer):
        raise RegistryError("status_authority", f"suspended by {placer}")


def record_authority(
    conn: Connection, row_id: int, action: str, principal: Principal, now: int, category: str | None
) -> None:
    """Append who made one status change, and the public reason category it gave (none to reinstate)."""
    conn.execute(
        certificate_status_changes.insert().values(
            row_id=row_id, action=action, authority=principal.role, category=category, recorded=now
        )
    )
