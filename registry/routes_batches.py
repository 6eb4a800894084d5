"""Authenticated review and publication endpoints: batches, review decisions, publication of signed
credentials and certificate status changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from common.http import FastJSONResponse
from registry import approval, batch_report, batches, certificates, publication
from registry.deps import CallerDep, RegistryDep, require_institution, require_reviewer, require_role
from registry.errors import RegistryError
from registry.gcpause import collector_paused
from registry.issued import issued_json, issued_rows
from registry.json_body import CheckedJsonRoute
from registry.models import BatchIn, CertificateStatusIn, PublishIn, ReviewIn
from registry.tokens import ADMIN, INSTITUTION, REVIEWER

router = APIRouter(prefix="/api/v1", route_class=CheckedJsonRoute)
InstitutionQuery = Annotated[str | None, Query(pattern=r"^[YS]\d{12}$")]


def _report(reg: RegistryDep, batch_id: str, who: CallerDep, institution_code: str | None) -> Response:
    """The batch report, encoded here: as a returned dict, FastAPI would validate and re-serialise every
    row against the ``dict`` return type (~0.1 s for 10,000 rows, and an issuance reads the report three
    times: after submission, after review and when the issuer takes the decisions). Built with the
    collector paused (``registry.gcpause``)."""
    with collector_paused(), reg.db.read() as conn:
        return FastJSONResponse(
            batch_report.batch_json(conn, batches.find_batch(conn, batch_id, who, institution_code))
        )


@router.post("/batches", status_code=200)
def submit(reg: RegistryDep, who: CallerDep, body: BatchIn) -> Response:
    """Submit a batch of assessment results (idempotent by batch id)."""
    require_role(who, ADMIN, INSTITUTION)
    now = reg.now()
    # The rows as parsed (``rows`` is ``list[Any]``: dumping the model would copy each of them).
    payload = {"batch_id": body.batch_id, "institution_code": body.institution_code, "rows": body.rows}
    with reg.in_flight.slot(who.token_id):
        with reg.db.read() as conn:  # rows are validated here, not while holding the write lock
            checked = batches.check_batch(conn, payload, who, reg.digests, now, reg.settings.max_batch_rows)
        reg.db.write(lambda conn: batches.store_batch(conn, checked, who, reg.digests, now))
    return _report(reg, body.batch_id, who, body.institution_code)


@router.get("/batches/{batch_id}")
def get_batch(
    reg: RegistryDep, who: CallerDep, batch_id: str, institution_code: InstitutionQuery = None
) -> Response:
    """A batch report (institutions see only their own batches)."""
    return _report(reg, batch_id, who, institution_code)


@router.post("/batches/{batch_id}/review")
def review(
    reg: RegistryDep, who: CallerDep, batch_id: str, body: ReviewIn, institution_code: InstitutionQuery = None
) -> Response:
    """Approve or reject rows (reviewer or admin)."""
    require_reviewer(who)
    if body.approve_all_valid == bool(body.decisions):
        raise RegistryError("invalid_request", "give decisions or approve_all_valid, not both")
    if any(not d.approve and not (d.reason or "").strip() for d in body.decisions or []):
        raise RegistryError("invalid_request", "a rejection needs a reason")
    now = reg.now()
    payload = body.model_dump()

    def work(conn: Any) -> str:
        batch = batches.find_batch(conn, batch_id, who, institution_code)
        approval.review_batch(conn, batch, payload, who, reg.settings, now)
        return str(batch.institution_code)

    with reg.in_flight.slot(who.token_id), collector_paused():
        code = reg.db.write(work)
    return _report(reg, batch_id, who, code)


@router.post("/batches/{batch_id}/publish")
def publish(
    reg: RegistryDep,
    who: CallerDep,
    batch_id: str,
    body: PublishIn,
    institution_code: InstitutionQuery = None,
) -> dict[str, Any]:
    """Upload the signed credentials of approved rows."""
    require_role(who, ADMIN, INSTITUTION)
    now = reg.now()
    items = [c.model_dump() for c in body.credentials]

    def work(conn: Any) -> list[publication.Outcome]:
        batch = batches.find_batch(conn, batch_id, who, institution_code)
        return publication.publish(conn, batch, items, who, now, reg.digests)

    with reg.in_flight.slot(who.token_id):
        outcomes = reg.db.write(work)
    return {"results": [o.to_json() for o in outcomes]}


@router.post("/certificates/{number}/status")
def certificate_status(
    reg: RegistryDep, who: CallerDep, number: str, body: CertificateStatusIn
) -> dict[str, Any]:
    """Revoke, suspend or reinstate a certificate (its institution or the admin)."""
    if who.role == REVIEWER:
        raise RegistryError("forbidden", "reviewers do not change certificate status")
    now = reg.now()
    status = reg.db.write(
        lambda conn: certificates.change_status(
            conn, number, body.action, body.reason, who, reg.digests, now, body.category
        )
    )
    return {"certificate_number": number, "status": status}


@router.get("/institutions/{code}/certificates")
def issued(reg: RegistryDep, who: CallerDep, code: str) -> Response:
    """What the institution has issued, with status (the institution itself or the admin; ID masked);
    encoded here, as the batch report is (``_report``)."""
    require_institution(who, code)
    with reg.db.read() as conn:
        return FastJSONResponse({"certificates": [issued_json(r) for r in issued_rows(conn, code)]})
