"""Complaints and reports (投诉举报): anyone files one against an institution or a certificate number;
appraisal-centre staff take it through accepted → investigating → upheld or dismissed, each step with
a reason, a person and a time; an upheld complaint enters the institution's credit file.

The filer gets a tracking number and a secret (stored only as its SHA-256) to follow the state. The
filer and the public see state, times and the public finding; the description, contact details and
evidence are for staff only. The audit log names the complaint by its tracking number and keeps every
free text as a keyed digest; contact details never enter it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from registry.audit import Digests, append_event
from registry.batches import PUBLISHED
from registry.clock import Now
from registry.credit import COMPLAINT_UPHELD, append_credit_event
from registry.errors import RegistryError
from registry.institutions import load_institution
from registry.schema import batches, rows
from registry.schema_supervision import complaint_evidence, complaint_steps, complaints
from registry.tokens import Principal

CATEGORIES: dict[str, tuple[str, str]] = {
    "fake_certificate": ("虚假证书", "fake certificate"),
    "exam_fraud": ("考核舞弊", "exam fraud"),
    "charging": ("违规收费", "charging irregularities"),
    "outside_scope": ("超范围评价", "outside the filed scope"),
    "other": ("其他", "other"),
}
RECEIVED, ACCEPTED, INVESTIGATING, UPHELD, DISMISSED = (
    "received",
    "accepted",
    "investigating",
    "upheld",
    "dismissed",
)
STATES = (RECEIVED, ACCEPTED, INVESTIGATING, UPHELD, DISMISSED)
_NEXT = {
    RECEIVED: (ACCEPTED, DISMISSED),
    ACCEPTED: (INVESTIGATING, DISMISSED),
    INVESTIGATING: (UPHELD, DISMISSED),
}
FINAL = (UPHELD, DISMISSED)
DESCRIPTION_MAX = 2000
CONTACT_MAX = 200
EVIDENCE_FILES_MAX = 3
EVIDENCE_BYTES_MAX = 2 * 1024 * 1024
_MAGIC = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class Evidence:
    """One uploaded file, its type told by its first bytes (never by the name or a header)."""

    filename: str
    data: bytes


def evidence_type(data: bytes) -> str:
    """The media type of an accepted evidence file, or ``evidence_type``."""
    for magic, media_type in _MAGIC.items():
        if data.startswith(magic):
            return media_type
    raise RegistryError("evidence_type")


def check_evidence(files: list[Evidence]) -> list[str]:
    """Count, size and type limits, all checked before anything is stored; the media types."""
    if len(files) > EVIDENCE_FILES_MAX:
        raise RegistryError("evidence_too_large", f"at most {EVIDENCE_FILES_MAX} files")
    for item in files:
        if len(item.data) > EVIDENCE_BYTES_MAX:
            raise RegistryError(
                "evidence_too_large", f"{item.filename[:64]}: over {EVIDENCE_BYTES_MAX} bytes"
            )
    return [evidence_type(item.data) for item in files]


@dataclass(frozen=True)
class Filing:
    """What a filer sends (already length-checked by the HTTP layer)."""

    category: str
    description: str
    institution_code: str | None = None
    certificate_number: str | None = None
    contact: str = ""


def next_states(state: str) -> tuple[str, ...]:
    """The steps a complaint in ``state`` may take next (none once it is upheld or dismissed)."""
    return _NEXT.get(state, ())


def _target(conn: Connection, filing: Filing) -> str:
    """The institution complained about: named, or the issuer of the named certificate."""
    if filing.category not in CATEGORIES:
        raise RegistryError("complaint_invalid", "unknown category", [{"pointer": "/category"}])
    if not filing.description.strip():
        raise RegistryError("complaint_invalid", "a description is needed", [{"pointer": "/description"}])
    code = filing.institution_code
    if filing.certificate_number is not None:
        issuer = conn.execute(
            select(batches.c.institution_code)
            .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
            .where(rows.c.certificate_number == filing.certificate_number, rows.c.state == PUBLISHED)
        ).scalar()
        if issuer is None or (code is not None and code != issuer):
            raise RegistryError("certificate_unknown", filing.certificate_number[:22])
        code = issuer
    if code is None:
        raise RegistryError(
            "complaint_invalid",
            "name institution_code or certificate_number",
            [{"pointer": "/institution_code"}],
        )
    load_institution(conn, code)
    return code


def file_complaint(
    conn: Connection, filing: Filing, evidence: list[Evidence], now: Now, digests: Digests
) -> tuple[str, str]:
    """Store a new complaint (state ``received``); returns its tracking number and secret."""
    media_types = check_evidence(evidence)
    code = _target(conn, filing)
    tracking = "C" + secrets.token_hex(6).upper()
    secret = secrets.token_urlsafe(18)
    complaint_id = conn.execute(
        complaints.insert()
        .values(
            tracking=tracking,
            secret_digest=hashlib.sha256(secret.encode()).hexdigest(),
            institution_code=code,
            certificate_number=filing.certificate_number,
            category=filing.category,
            description=filing.description,
            contact=filing.contact,
            state=RECEIVED,
            filed_at=now.unix,
        )
        .returning(complaints.c.id)
    ).scalar_one()
    conn.execute(
        complaint_steps.insert().values(
            complaint_id=complaint_id, state=RECEIVED, reason="", actor="public", at=now.unix
        )
    )
    for item, media_type in zip(evidence, media_types, strict=True):
        conn.execute(
            complaint_evidence.insert().values(
                complaint_id=complaint_id,
                filename=item.filename[:200],
                media_type=media_type,
                sha256=hashlib.sha256(item.data).hexdigest(),
                data=item.data,
            )
        )
    append_event(
        conn,
        time=now.unix,
        actor="public",
        action="complaint.file",
        subject=tracking,
        data={
            "institution_code": code,
            "category": filing.category,
            "certificate": digests.of("certificate", filing.certificate_number or ""),
            "description": digests.of("complaint", filing.description),
            "evidence": len(evidence),
        },
    )
    return tracking, secret


def _complaint(conn: Connection, tracking: str) -> Any:
    found = conn.execute(select(complaints).where(complaints.c.tracking == tracking)).first()
    if found is None:
        raise RegistryError("complaint_unknown")
    return found


def take_step(
    conn: Connection,
    tracking: str,
    state: str,
    reason: str,
    public_finding: str,
    principal: Principal,
    now: Now,
    digests: Digests,
) -> None:
    """Move a complaint one step on; upheld findings enter the credit file."""
    found = _complaint(conn, tracking)
    if state not in _NEXT.get(found.state, ()):
        raise RegistryError("complaint_state", f"{found.state} → {state}")
    if state in FINAL and not public_finding.strip():
        raise RegistryError(
            "complaint_invalid", "a final step states its public finding", [{"pointer": "/public_finding"}]
        )
    values: dict[str, Any] = {"state": state}
    if state in FINAL:
        values["public_finding"] = public_finding
    conn.execute(update(complaints).where(complaints.c.id == found.id).values(**values))
    conn.execute(
        complaint_steps.insert().values(
            complaint_id=found.id, state=state, reason=reason, actor=principal.actor, at=now.unix
        )
    )
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action="complaint.step",
        subject=tracking,
        data={"state": state, "reason": digests.of("complaint", reason)},
    )
    if state == UPHELD:
        append_credit_event(
            conn,
            code=found.institution_code,
            kind=COMPLAINT_UPHELD,
            day=now.today,
            reason=public_finding,
            reference=tracking,
            links=[],
            actor=principal.actor,
            now=now,
            digests=digests,
        )


def _steps(conn: Connection, complaint_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(complaint_steps)
            .where(complaint_steps.c.complaint_id == complaint_id)
            .order_by(complaint_steps.c.id)
        ).all()
    )


def public_view(conn: Connection, tracking: str, secret: str) -> dict[str, Any]:
    """What the filer sees with the secret: state, times and the public finding, nothing personal."""
    found = conn.execute(select(complaints).where(complaints.c.tracking == tracking)).first()
    given = hashlib.sha256(secret.encode()).hexdigest()
    if found is None or not hmac.compare_digest(found.secret_digest, given):
        raise RegistryError("complaint_unknown")
    return {
        "tracking": found.tracking,
        "institution_code": found.institution_code,
        "category": found.category,
        "state": found.state,
        "filed_at": found.filed_at,
        "steps": [{"state": s.state, "at": s.at} for s in _steps(conn, found.id)],
        "public_finding": found.public_finding,
    }


def staff_view(conn: Connection, tracking: str) -> dict[str, Any]:
    """Everything, for appraisal-centre staff: description, contact, evidence list, each step's reason and person."""
    found = _complaint(conn, tracking)
    evidence = conn.execute(
        select(
            complaint_evidence.c.id,
            complaint_evidence.c.filename,
            complaint_evidence.c.media_type,
            complaint_evidence.c.sha256,
        )
        .where(complaint_evidence.c.complaint_id == found.id)
        .order_by(complaint_evidence.c.id)
    ).all()
    return {
        "tracking": found.tracking,
        "institution_code": found.institution_code,
        "certificate_number": found.certificate_number,
        "category": found.category,
        "description": found.description,
        "contact": found.contact,
        "state": found.state,
        "filed_at": found.filed_at,
        "public_finding": found.public_finding,
        "steps": [
            {"state": s.state, "reason": s.reason, "actor": s.actor, "at": s.at}
            for s in _steps(conn, found.id)
        ],
        "evidence": [
            {"id": e.id, "filename": e.filename, "media_type": e.media_type, "sha256": e.sha256}
            for e in evidence
        ],
    }


def evidence_file(conn: Connection, tracking: str, evidence_id: int) -> tuple[str, bytes]:
    """One evidence file (staff only): media type and bytes."""
    found = _complaint(conn, tracking)
    item = conn.execute(
        select(complaint_evidence).where(
            complaint_evidence.c.id == evidence_id, complaint_evidence.c.complaint_id == found.id
        )
    ).first()
    if item is None:
        raise RegistryError("not_found", "evidence")
    return item.media_type, bytes(item.data)


def staff_list(conn: Connection, state: str | None) -> list[dict[str, Any]]:
    """Complaints for the staff queue, newest first (no contact details in the list)."""
    where = [complaints.c.state == state] if state else []
    found = conn.execute(select(complaints).where(*where).order_by(complaints.c.id.desc()).limit(500)).all()
    return [
        {
            "tracking": c.tracking,
            "institution_code": c.institution_code,
            "category": c.category,
            "state": c.state,
            "filed_at": c.filed_at,
        }
        for c in found
    ]
