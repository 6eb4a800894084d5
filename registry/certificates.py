"""A certificate's life after approval: revocation (final), suspension and reinstatement, and the
record an online verifier compares with the credential it holds."""

from __future__ import annotations

import hmac
import re
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from common.calendar import registry_day
from registry.audit import Digests, append_event
from registry.batches import APPROVED, PUBLISHED
from registry.clock import Now
from registry.errors import RegistryError
from registry.institutions import require_active
from registry.schema import batches, rows, status_lists
from registry.status_authority import REINSTATE, SUSPEND, may_take_over, record_authority, require_may_lift
from registry.tokens import ADMIN, Principal
from schemas.vocabulary import STATUS_REASON_CATEGORIES

VALID, SUSPENDED, REVOKED = "valid", "suspended", "revoked"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# action -> (statuses it may start from, the status it leads to)
_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "revoke": ((VALID, SUSPENDED), REVOKED),
    "suspend": ((VALID,), SUSPENDED),
    "reinstate": ((SUSPENDED,), VALID),
}


def _certificate(conn: Connection, number: str) -> Any:
    return conn.execute(
        select(rows, batches.c.institution_code)
        .join(batches, rows.c.batch_pk == batches.c.id)
        .where(rows.c.certificate_number == number, rows.c.state.in_((APPROVED, PUBLISHED)))
    ).first()


def change_status(
    conn: Connection,
    number: str,
    action: str,
    reason: str,
    principal: Principal,
    digests: Digests,
    now: Now,
    category: str | None = None,
) -> str:
    """Apply one status action and mark the certificate's status list for re-signing.

    Revoking and suspending take a ``category`` from the fixed list (``None`` from a client that
    predates categories): it and the day are public (verifiers and the query page show them); the
    free-text ``reason`` stays in the registry. Reinstating clears both. The institution must be
    active today (the centre acts for a suspended one); a suspension is lifted only by the authority
    that placed it or a higher one (``registry.status_authority``), which is recorded with the
    category.
    """
    category = _category(action, category)
    row = _certificate(conn, number)
    if row is None or not principal.may_act_for(row.institution_code):
        # Another institution's certificate looks the same as a missing one.
        raise RegistryError("not_found", "certificate")
    require_active(conn, row.institution_code, now, by_admin=principal.role == ADMIN)
    starts, target = _TRANSITIONS[action]
    take_over = action == SUSPEND and row.status == SUSPENDED and may_take_over(conn, row.id, principal)
    if row.status not in starts and not take_over:
        raise RegistryError("status_change_invalid", f"{action} from {row.status}", [{"status": row.status}])
    if action == REINSTATE:
        require_may_lift(conn, row.id, principal)
    record_authority(conn, row.id, action, principal, now.unix, category)
    day = registry_day(now.unix) if target != VALID else None
    conn.execute(
        update(rows)
        .where(rows.c.id == row.id)
        .values(status=target, status_reason=reason, status_category=category, status_date=day)
    )
    conn.execute(
        update(status_lists)
        .where(status_lists.c.id == row.status_list)
        .values(version=status_lists.c.version + 1)
    )
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action=f"certificate.{action}",
        subject=number,
        # No status list position: beside the number it would let anyone read every certificate's
        # status from the public lists without holding the credential. The category is public.
        data={"status": target, "reason": digests.of("reason", reason), "category": category},
    )
    return target


def _category(action: str, category: str | None) -> str | None:
    if action == "reinstate":
        if category is not None:
            raise RegistryError("status_category_invalid", "reinstating takes no reason category")
        return None
    if category is None:  # a client that predates categories (the CLI and the demo always name one)
        return None
    if category not in STATUS_REASON_CATEGORIES:
        raise RegistryError(
            "status_category_invalid",
            f"the reason category is one of {', '.join(STATUS_REASON_CATEGORIES)}",
            [{"pointer": "/category", "allowed": list(STATUS_REASON_CATEGORIES)}],
        )
    return category


def status_detail(row: Any) -> dict[str, Any]:
    """The public side of a certificate's status: since when and in which category (never the free
    text). ``None`` fields for a valid certificate, or one whose status predates categories."""
    category = row.status_category if row.status != VALID else None
    names = STATUS_REASON_CATEGORIES.get(category or "")
    return {
        "status_date": None
        if row.status == VALID or row.status_date is None
        else row.status_date.isoformat(),
        "reason_category": category if names else None,
        "reason_category_zh": names[0] if names else None,
        "reason_category_en": names[1] if names else None,
    }


# Built once: constructing and coercing a statement cost twice as much as running it, on the
# endpoint every online verification calls (SQLAlchemy caches the compiled form by the statement).
_PUBLISHED_RECORD = (
    select(rows, batches.c.institution_code)
    .join(batches, rows.c.batch_pk == batches.c.id)
    .where(rows.c.certificate_number == bindparam("number"), rows.c.state == PUBLISHED)
)


def record(conn: Connection, number: str, sha256: str | None) -> dict[str, Any]:
    """What online verification compares: status and the SHA-256 of the published credential.

    Answered only to a caller who names the SHA-256 of the published COSE bytes, i.e. who holds the
    credential: a missing, malformed or wrong digest and a missing certificate all answer the same
    ``not_found``, so nobody can enumerate certificate numbers and their status here.
    """
    wanted = (sha256 or "").lower()
    if not _SHA256_HEX.fullmatch(wanted):
        raise RegistryError("not_found", "certificate")
    row = conn.execute(_PUBLISHED_RECORD, {"number": number}).first()
    if row is None or not hmac.compare_digest(row.credential_sha256, wanted):
        raise RegistryError("not_found", "certificate")
    return {
        "certificate_number": number,
        "status": row.status,
        **status_detail(row),
        "credential_sha256": row.credential_sha256,
        "published_at": row.published_at,
        "institution_code": row.institution_code,
    }
