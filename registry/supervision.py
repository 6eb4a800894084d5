"""Quality supervision (质量督导): supervisors record visits against an institution or one of its
batches (an assessment session) with day, site, findings and rating; an unsatisfactory rating enters
the credit file. Per institution, the centre can require that a batch has a supervision record before
any of its rows is approved (``require_record_before_approval``, called by the review)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from registry.audit import Digests, append_event
from registry.clock import Now
from registry.credit import SUPERVISION_FINDING, append_credit_event
from registry.errors import RegistryError
from registry.institutions import load_institution
from registry.schema import batches
from registry.schema_supervision import supervision_records, supervision_rules

RATINGS: dict[str, tuple[str, str]] = {
    "good": ("良好", "good"),
    "satisfactory": ("合格", "satisfactory"),
    "unsatisfactory": ("不合格", "unsatisfactory"),
}


def record_visit(conn: Connection, body: dict[str, Any], actor: str, now: Now, digests: Digests) -> int:
    """Store a supervision record (and a credit event when unsatisfactory); returns its id."""
    code = str(body["institution_code"])
    load_institution(conn, code)
    batch_id = body.get("batch_id")
    if batch_id is not None:
        known = conn.execute(
            select(batches.c.id).where(batches.c.institution_code == code, batches.c.batch_id == batch_id)
        ).first()
        if known is None:
            raise RegistryError(
                "supervision_invalid", "no such batch of this institution", [{"pointer": "/batch_id"}]
            )
    day: date = body["day"]
    if day > now.today:
        raise RegistryError("supervision_invalid", "a visit cannot be in the future", [{"pointer": "/day"}])
    record_id = conn.execute(
        supervision_records.insert()
        .values(
            institution_code=code,
            batch_id=batch_id,
            day=day,
            site=body["site"],
            findings=body["findings"],
            rating=body["rating"],
            actor=actor,
            recorded=now.unix,
        )
        .returning(supervision_records.c.id)
    ).scalar_one()
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="supervision.record",
        subject=code,
        data={
            "id": record_id,
            # Batch ids are chosen by the institution and may be derived from the roster: a keyed digest.
            "batch_id": None if batch_id is None else digests.of("batch_id", f"{code}/{batch_id}"),
            "day": day.isoformat(),
            "rating": body["rating"],
            "findings": digests.of("supervision", body["findings"]),
        },
    )
    if body["rating"] == "unsatisfactory":
        append_credit_event(
            conn,
            code=code,
            kind=SUPERVISION_FINDING,
            day=day,
            reason=body["findings"],
            reference=f"supervision:{record_id}",
            links=[],
            actor=actor,
            now=now,
            digests=digests,
        )
    return int(record_id)


def set_rule(conn: Connection, code: str, required: bool, actor: str, now: Now) -> None:
    """Whether this institution's batches need a supervision record before approval (appended)."""
    load_institution(conn, code)
    conn.execute(
        supervision_rules.insert().values(
            institution_code=code, batch_needs_record=int(required), actor=actor, recorded=now.unix
        )
    )
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="supervision.rule",
        subject=code,
        data={"batch_needs_record": required},
    )


def batch_needs_record(conn: Connection, code: str) -> bool:
    """The institution's current rule (False until one is set)."""
    newest = conn.execute(
        select(supervision_rules.c.batch_needs_record)
        .where(supervision_rules.c.institution_code == code)
        .order_by(supervision_rules.c.id.desc())
        .limit(1)
    ).scalar()
    return bool(newest)


def require_record_before_approval(conn: Connection, code: str, batch_id: str) -> None:
    """``supervision_required`` when the rule applies and the batch has no supervision record."""
    if not batch_needs_record(conn, code):
        return
    found = conn.execute(
        select(supervision_records.c.id).where(
            supervision_records.c.institution_code == code, supervision_records.c.batch_id == batch_id
        )
    ).first()
    if found is None:
        raise RegistryError("supervision_required", f"{code} / {batch_id}")


def records(conn: Connection, code: str) -> dict[str, Any]:
    """An institution's supervision records and rule (staff)."""
    load_institution(conn, code)
    found = conn.execute(
        select(supervision_records)
        .where(supervision_records.c.institution_code == code)
        .order_by(supervision_records.c.id)
    ).all()
    return {
        "institution_code": code,
        "batch_needs_record": batch_needs_record(conn, code),
        "records": [
            {
                "id": r.id,
                "batch_id": r.batch_id,
                "day": r.day.isoformat(),
                "site": r.site,
                "findings": r.findings,
                "rating": r.rating,
                "actor": r.actor,
                "recorded": r.recorded,
            }
            for r in found
        ],
    }
