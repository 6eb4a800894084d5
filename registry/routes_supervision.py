"""Supervision over HTTP: complaints (public filing and tracking; staff handling), the credit file
(public reading; sanctions by the admin), quality supervision (supervisors) and the regulator's
signals (staff). Staff act with their bearer tokens and are audited under their token's name; the
pages for these staff endpoints are to move into the appraisal-centre console when it lands."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from registry import complaints, credit, signals, supervision
from registry.deps import CallerDep, RegistryDep, client_bucket, require_role
from registry.errors import RegistryError
from registry.json_body import CheckedJsonRoute
from registry.models_supervision import ComplaintIn, SanctionIn, StepIn, SupervisionIn, SupervisionRuleIn
from registry.service import Registry
from registry.tokens import ADMIN, REVIEWER, STAFF, SUPERVISOR

router = APIRouter(prefix="/api/v1", route_class=CheckedJsonRoute)
Tracking = Annotated[str, Path(pattern=r"^C[0-9A-F]{12}$")]
SecretHeader = Annotated[str | None, Header(alias="X-Complaint-Secret", max_length=100)]
SecretQuery = Annotated[str | None, Query(alias="secret", max_length=100)]


def complaint_allowed(reg: Registry, request: Request) -> None:
    """``rate_limited`` once a client address has filed its burst (shared by the API and the page)."""
    if not reg.complaint_limiter.allow(client_bucket(reg, request), time.monotonic()):
        raise RegistryError("rate_limited", "complaints")


@router.get("/complaints/challenge")
def challenge(reg: RegistryDep) -> dict[str, object]:
    """A proof-of-work challenge to solve before filing (no third-party captcha)."""
    return reg.challenges.proof_of_work(reg.now().unix)


def _evidence(body: ComplaintIn) -> list[complaints.Evidence]:
    files = []
    for item in body.evidence:
        try:
            data = base64.b64decode(item.data, validate=True)
        except (binascii.Error, ValueError) as e:
            raise RegistryError(
                "complaint_invalid", "evidence data is not base64", [{"pointer": "/evidence"}]
            ) from e
        files.append(complaints.Evidence(item.filename, data))
    return files


@router.post("/complaints", status_code=201)
def file_complaint(reg: RegistryDep, request: Request, body: ComplaintIn) -> dict[str, str]:
    """File a complaint; the answer's ``secret`` is shown only here."""
    complaint_allowed(reg, request)
    now = reg.now()
    evidence = _evidence(body)
    complaints.check_evidence(evidence)
    reg.challenges.redeem(body.challenge, body.nonce, now.unix)
    filing = complaints.Filing(
        category=body.category,
        description=body.description,
        institution_code=body.institution_code,
        certificate_number=body.certificate_number,
        contact=body.contact,
    )
    tracking, secret = reg.db.write(
        lambda conn: complaints.file_complaint(conn, filing, evidence, now, reg.digests)
    )
    return {"tracking": tracking, "secret": secret}


@router.get("/complaints/{tracking}")
def follow(
    reg: RegistryDep, tracking: Tracking, header: SecretHeader = None, query: SecretQuery = None
) -> dict[str, Any]:
    """The state of a complaint, for whoever holds its secret (header ``X-Complaint-Secret`` or ``?secret=``)."""
    with reg.db.read() as conn:
        return complaints.public_view(conn, tracking, header or query or "")


@router.get("/complaints")
def staff_queue(
    reg: RegistryDep, who: CallerDep, state: Annotated[str | None, Query(max_length=16)] = None
) -> dict[str, Any]:
    """The staff queue (admin, reviewer, supervisor)."""
    require_role(who, *STAFF)
    with reg.db.read() as conn:
        return {"complaints": complaints.staff_list(conn, state)}


@router.get("/complaints/{tracking}/file")
def staff_file(reg: RegistryDep, who: CallerDep, tracking: Tracking) -> dict[str, Any]:
    """A complaint in full, with contact details and the evidence list (staff)."""
    require_role(who, *STAFF)
    with reg.db.read() as conn:
        return complaints.staff_view(conn, tracking)


@router.get("/complaints/{tracking}/evidence/{evidence_id}", response_class=Response)
def staff_evidence(
    reg: RegistryDep,
    who: CallerDep,
    tracking: Tracking,
    evidence_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    """One evidence file (staff); served as an attachment, never rendered inline."""
    require_role(who, *STAFF)
    with reg.db.read() as conn:
        media_type, data = complaints.evidence_file(conn, tracking, evidence_id)
    headers = {
        "Content-Disposition": "attachment",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=media_type, headers=headers)


@router.post("/complaints/{tracking}/steps", status_code=201)
def step(reg: RegistryDep, who: CallerDep, tracking: Tracking, body: StepIn) -> dict[str, Any]:
    """Accept, investigate, uphold or dismiss (admin, reviewer); each step with its reason."""
    require_role(who, ADMIN, REVIEWER)
    now = reg.now()
    reg.db.write(
        lambda conn: complaints.take_step(
            conn, tracking, body.state, body.reason, body.public_finding, who, now, reg.digests
        )
    )
    with reg.db.read() as conn:
        return complaints.staff_view(conn, tracking)


@router.get("/institutions/{code}/credit")
def credit_file(reg: RegistryDep, code: str) -> dict[str, Any]:
    """The institution's public credit file."""
    with reg.db.read() as conn:
        return {"institution_code": code, "events": credit.credit_file(conn, code)}


@router.post("/institutions/{code}/credit", status_code=201)
def sanction(reg: RegistryDep, who: CallerDep, code: str, body: SanctionIn) -> dict[str, Any]:
    """A warning, suspension, reinstatement or removal (admin); a removal names the credit events
    that justify it."""
    require_role(who, ADMIN)
    now = reg.now()
    event_id = reg.db.write(
        lambda conn: credit.record_sanction(conn, code, body.model_dump(), who.actor, now, reg.digests)
    )
    with reg.db.read() as conn:
        return {"id": event_id, "institution_code": code, "events": credit.credit_file(conn, code)}


@router.post("/supervision", status_code=201)
def supervise(reg: RegistryDep, who: CallerDep, body: SupervisionIn) -> dict[str, Any]:
    """Record a supervision visit (supervisor, admin)."""
    require_role(who, SUPERVISOR, ADMIN)
    now = reg.now()
    record_id = reg.db.write(
        lambda conn: supervision.record_visit(conn, body.model_dump(), who.actor, now, reg.digests)
    )
    return {"id": record_id}


@router.get("/institutions/{code}/supervision")
def supervision_records(reg: RegistryDep, who: CallerDep, code: str) -> dict[str, Any]:
    """An institution's supervision records and rule (staff)."""
    require_role(who, *STAFF)
    with reg.db.read() as conn:
        return supervision.records(conn, code)


@router.post("/institutions/{code}/supervision-rule")
def supervision_rule(reg: RegistryDep, who: CallerDep, code: str, body: SupervisionRuleIn) -> dict[str, Any]:
    """Whether the institution's batches need a supervision record before approval (admin)."""
    require_role(who, ADMIN)
    now = reg.now()
    reg.db.write(lambda conn: supervision.set_rule(conn, code, body.batch_needs_record, who.actor, now))
    with reg.db.read() as conn:
        return supervision.records(conn, code)


@router.get("/signals")
def signal_list(reg: RegistryDep, who: CallerDep) -> dict[str, Any]:
    """Every signal with its rule, threshold and the institutions it fires for (staff)."""
    require_role(who, *STAFF)
    now = reg.now()
    with reg.db.read() as conn:
        return {"as_of": now.unix, "signals": signals.evaluate(conn, now)}
