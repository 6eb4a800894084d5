"""The credit file (信用档案) of each institution: append-only events — upheld complaints,
supervision findings, warnings, suspensions, reinstatements and removals — each with day, reason and
reference.

A suspension or removal recorded here also changes the institution's status in the directory in
the same transaction (``institutions.set_status``: prospective by default, retroactive when the
centre names an earlier effective day, exactly as before). A removal (移出目录) must name the
earlier credit events of the same institution that justify it. A reinstatement lifts a suspension
(only a suspended institution is reinstated; a removal is the exit and stays), so the public file
never shows a suspension that has in fact ended. While suspended, the institution may read but
change nothing; once removed, its tokens are refused (``registry.institutions``, ``registry.tokens``);
its certificates issued before stay as they are and are the appraisal centre's to act on. Reasons are public findings about an
institution; the audit log holds them only as keyed digests, like every free text.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from registry.audit import Digests, append_event
from registry.clock import Now
from registry.errors import RegistryError
from registry.institutions import load_institution, set_status
from registry.schema_supervision import credit_events

COMPLAINT_UPHELD = "complaint_upheld"
SUPERVISION_FINDING = "supervision_finding"
WARNING, SUSPENSION, REINSTATEMENT, REMOVAL = "warning", "suspension", "reinstatement", "removal"
KINDS = (COMPLAINT_UPHELD, SUPERVISION_FINDING, WARNING, SUSPENSION, REINSTATEMENT, REMOVAL)
# Kinds staff record by hand; the other two come from complaints and supervision records.
MANUAL_KINDS = (WARNING, SUSPENSION, REINSTATEMENT, REMOVAL)
_STATUS_OF = {SUSPENSION: "suspended", REINSTATEMENT: "active", REMOVAL: "removed"}


def append_credit_event(
    conn: Connection,
    *,
    code: str,
    kind: str,
    day: date,
    reason: str,
    reference: str,
    links: list[int],
    actor: str,
    now: Now,
    digests: Digests,
) -> int:
    """Append one event (and its audit entry); returns its id."""
    event_id = conn.execute(
        credit_events.insert()
        .values(
            institution_code=code,
            kind=kind,
            day=day,
            reason=reason,
            reference=reference,
            links=json.dumps(links),
            actor=actor,
            recorded=now.unix,
        )
        .returning(credit_events.c.id)
    ).scalar_one()
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="credit.append",
        subject=code,
        data={
            "id": event_id,
            "kind": kind,
            "day": day.isoformat(),
            "reason": digests.of("credit", reason),
            "reference": digests.of("credit", reference),
            "links": links,
        },
    )
    return int(event_id)


def record_sanction(
    conn: Connection,
    code: str,
    body: dict[str, Any],
    actor: str,
    now: Now,
    digests: Digests,
) -> int:
    """A warning, suspension, reinstatement or removal by the centre; all but a warning also append
    the directory status (effective today, or from the earlier day the centre names)."""
    institution = load_institution(conn, code)
    kind, links = body["kind"], list(body.get("links") or [])
    if kind == REMOVAL and not links:
        raise RegistryError("credit_event_unknown", "a removal names the credit events that justify it")
    _check_links(conn, code, links)
    effective: date | None = body.get("effective")
    if kind == REINSTATEMENT and institution.status_on(effective or now.today) != "suspended":
        raise RegistryError("status_invalid", "only a suspended institution is reinstated")
    if kind in _STATUS_OF:
        set_status(conn, code, _STATUS_OF[kind], effective, body["reason"], now, actor)
    return append_credit_event(
        conn,
        code=code,
        kind=kind,
        day=effective or now.today,
        reason=body["reason"],
        reference=body.get("reference") or "",
        links=links,
        actor=actor,
        now=now,
        digests=digests,
    )


def change_status(
    conn: Connection,
    code: str,
    status: str,
    effective: date | None,
    reason: str,
    actor: str,
    now: Now,
    digests: Digests,
) -> None:
    """The directory's own status change (``POST /institutions/{code}/status``, the console's status
    form): the status appended as asked, and the credit file told of it in the same transaction, so
    no suspension, reinstatement or removal escapes the file, whichever door it came through. Lifting
    a status that is not a suspension (a removed institution reopened, an active one confirmed) is a
    directory correction, not a sanction, and leaves the file alone."""
    before = load_institution(conn, code).status_on(effective or now.today)
    set_status(conn, code, status, effective, reason, now, actor)
    kind = {"suspended": SUSPENSION, "removed": REMOVAL}.get(status)
    if status == "active" and before == "suspended":
        kind = REINSTATEMENT
    if kind is None or status == before:
        return
    append_credit_event(
        conn,
        code=code,
        kind=kind,
        day=effective or now.today,
        reason=reason,
        reference="",
        links=[],
        actor=actor,
        now=now,
        digests=digests,
    )


def _check_links(conn: Connection, code: str, links: list[int]) -> None:
    if len(set(links)) != len(links):
        raise RegistryError("credit_event_unknown", "a credit event is named twice")
    if not links:
        return
    found = set(
        conn.execute(
            select(credit_events.c.id).where(
                credit_events.c.id.in_(links), credit_events.c.institution_code == code
            )
        ).scalars()
    )
    missing = [i for i in links if i not in found]
    if missing:
        raise RegistryError(
            "credit_event_unknown", ", ".join(map(str, missing)), [{"pointer": "/links", "ids": missing}]
        )


def credit_file(conn: Connection, code: str) -> list[dict[str, Any]]:
    """The public credit file, oldest first: kind, day, reason, reference and links; no personal data
    (complaint contact details and evidence never enter it; the actor is not shown)."""
    load_institution(conn, code)
    found = conn.execute(
        select(credit_events).where(credit_events.c.institution_code == code).order_by(credit_events.c.id)
    ).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "day": r.day.isoformat(),
            "reason": r.reason,
            "reference": r.reference,
            "links": json.loads(r.links),
            "recorded": r.recorded,
        }
        for r in found
    ]
