"""Submitting a batch of assessment results, checking every row, and reporting the batch.

Submission is idempotent by the institution's own batch id: the same body again returns the same
batch, another body under that id is a conflict. Rows are stored without the ID number (keyed
digest and masked form only), so the registry never holds it in clear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, select

from credential.claims import CertificateClaims, MaskedId
from credential.constants import ID_VISIBLE_SUFFIX
from credential.directory import ACTIVE, Institution
from registry import bulk
from registry.audit import Digests, append_event, canonical_json
from registry.clock import Now
from registry.errors import RegistryError
from registry.institutions import load_institution, require_active
from registry.problems import issues_json, problem
from registry.schema import batches, rows
from registry.tokens import ADMIN, Principal
from schemas import validate_roster_row

INVALID, PENDING, APPROVED, REJECTED, PUBLISHED = "invalid", "pending", "approved", "rejected", "published"
CERTIFIED_STATES = (APPROVED, PUBLISHED)
REVOKED = "revoked"
SUBMITTED, REVIEWED = "submitted", "reviewed"
_MIN_LEVEL, _MAX_LEVEL = 1, 5
_OCCUPATION_CODE_MAX = 10  # the column's length (schema.rows)
CheckedRow = tuple[dict[str, Any], list[dict[str, Any]]]  # column values, findings


def holder_key(id_digest: str, occupation_code: str, level: int) -> tuple[str, str, int]:
    """What makes two certificates duplicates: the same holder, occupation and level."""
    return (id_digest, occupation_code, level)


_CERTIFIED_SQL = (  # {fixed}: the certified states; {values}: holder digests (bulk.select_in binds both)
    "SELECT id_digest, occupation_code, level FROM rows"  # noqa: S608 (constants; every value is bound)
    f" WHERE state IN ({{fixed}}) AND status <> '{REVOKED}' AND id_digest IN ({{values}})"
)


def certified_keys(conn: Connection, keys: Iterable[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
    """Which of ``keys`` already have an approved or published, unrevoked certificate (one look-up by
    holder digest per ``bulk.IN_CHUNK`` keys, at the driver level: a batch asks for 10,000)."""
    wanted = set(keys)
    found = bulk.select_in(conn, _CERTIFIED_SQL, CERTIFIED_STATES, (k[0] for k in wanted))
    return {(str(d), str(o), int(lv)) for d, o, lv in found} & wanted


_TEXT_MEMBERS = (
    "holder_name",
    "id_type",
    "id_number",
    "occupation_code",
    "occupation_name",
    "work_type",
    "assessment_date",
)


def _fitting(value: str, limit: int) -> str:
    return value if len(value) <= limit else ""


def _row_values(raw: object, digests: Digests) -> dict[str, Any]:
    """Columns for a row as submitted (also for invalid rows: wrong types become empty values)."""
    row = raw if isinstance(raw, dict) else {}
    text = {key: value for key in _TEXT_MEMBERS if isinstance(value := row.get(key), str)}
    id_number = text.get("id_number", "").strip().upper()
    level = row.get("level")
    try:
        assessment_date: date | None = date.fromisoformat(text.get("assessment_date", ""))
    except ValueError:
        assessment_date = None
    return {
        "holder_name": text.get("holder_name", ""),
        "id_type": text.get("id_type", ""),
        "id_digest": digests.id_number(id_number),
        "id_length": len(id_number),  # MaskedId.of
        "id_suffix": id_number[-ID_VISIBLE_SUFFIX:],
        # An invalid row keeps what fits its column: PostgreSQL refuses an over-long value (a 500).
        "occupation_code": _fitting(text.get("occupation_code", ""), _OCCUPATION_CODE_MAX),
        "occupation_name": text.get("occupation_name", ""),
        "work_type": text.get("work_type", ""),
        # Only a level the schema accepts is stored: a huge integer would overflow the column.
        "level": level if type(level) is int and _MIN_LEVEL <= level <= _MAX_LEVEL else 0,
        "assessment_date": assessment_date,
    }


_SCOPE_MEMBERS = ("occupation_code", "level", "work_type", "occupation_name", "assessment_date")


def _scope_problems(values: dict[str, Any], institution: Institution) -> list[dict[str, Any]]:
    day: date = values["assessment_date"]
    found = []
    if institution.status_on(day) != ACTIVE:
        found.append(problem("/assessment_date", "institution_not_active"))
    scope = institution.scope_for(values["occupation_code"], values["level"], values["work_type"], day)
    if scope is None:
        found.append(problem("/occupation_code", "out_of_scope"))
    elif scope.occupation_name != values["occupation_name"]:
        found.append(problem("/occupation_name", "occupation_name_mismatch"))
    return found


def _check_rows(raw_rows: list[Any], institution: Institution, digests: Digests) -> list[CheckedRow]:
    """Schema and scope findings per row: the costly part, done without holding the write lock. The
    scope findings depend only on the occupation, level, work type and day, which most rows of a batch
    share: each combination is checked once."""
    checked: list[CheckedRow] = []
    scope_findings: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for raw in raw_rows:
        values = _row_values(raw, digests)
        if not isinstance(raw, dict):
            found = [problem("", "not_an_object")]
        else:
            found = issues_json(validate_roster_row(raw))
            if not found:
                key = tuple(values[k] for k in _SCOPE_MEMBERS)
                known = scope_findings.get(key)
                if known is None:
                    known = scope_findings[key] = _scope_problems(values, institution)
                found = list(known)
        checked.append((values, found))
    return checked


def _with_duplicates(conn: Connection, checked: list[CheckedRow]) -> list[CheckedRow]:
    """The rows with duplicate findings added (new lists: a retried transaction starts afresh)."""
    keys = [holder_key(v["id_digest"], v["occupation_code"], v["level"]) for v, _ in checked]
    certified = certified_keys(conn, keys)
    seen: set[tuple[str, str, int]] = set()
    result: list[CheckedRow] = []
    for key, (values, found) in zip(keys, checked, strict=True):
        found = list(found)
        if not found:
            if key in seen:
                found.append(problem("/id_number", "duplicate_in_batch"))
            elif key in certified:
                found.append(problem("/id_number", "duplicate_certified"))
            seen.add(key)
        result.append((values, found))
    return result


@dataclass(frozen=True)
class CheckedBatch:
    """A submission checked row by row outside the write transaction (``check_batch``), ready for
    ``store_batch``; ``existing`` is the primary key when this exact batch is already stored."""

    code: str
    batch_id: str
    fingerprint: str
    rows: list[CheckedRow]
    existing: int | None = None


def _authorise(conn: Connection, code: str, principal: Principal, now: Now) -> None:
    if not principal.may_act_for(code):
        raise RegistryError("forbidden", "institutions submit only their own batches")
    require_active(conn, code, now, by_admin=principal.role == ADMIN)


def _existing(conn: Connection, code: str, batch_id: str, fingerprint: str) -> int | None:
    found = conn.execute(
        select(batches.c.id, batches.c.body_sha256).where(
            batches.c.institution_code == code, batches.c.batch_id == batch_id
        )
    ).first()
    if found is not None and found.body_sha256 != fingerprint:
        raise RegistryError("batch_conflict", batch_id)
    return None if found is None else int(found.id)


def check_batch(
    conn: Connection, body: dict[str, Any], principal: Principal, digests: Digests, now: Now, max_rows: int
) -> CheckedBatch:
    """Every check of a submission that needs no write lock, on a read transaction: a 20,000-row
    batch must not stall every other writer while its rows are validated."""
    code, batch_id, raw_rows = body["institution_code"], body["batch_id"], body["rows"]
    _authorise(conn, code, principal, now)
    if len(raw_rows) > max_rows:
        raise RegistryError("batch_too_large", f"at most {max_rows} rows")
    fingerprint = hashlib.sha256(canonical_json(raw_rows)).hexdigest()
    existing = _existing(conn, code, batch_id, fingerprint)
    if existing is not None:
        return CheckedBatch(code, batch_id, fingerprint, [], existing)
    checked = _check_rows(raw_rows, load_institution(conn, code), digests)
    return CheckedBatch(code, batch_id, fingerprint, checked)


def store_batch(
    conn: Connection, batch: CheckedBatch, principal: Principal, digests: Digests, now: Now
) -> int:
    """Store a checked batch (or find the identical one stored meanwhile); returns its primary key.
    Inside the write transaction only what may have changed is checked again: the caller's standing,
    the batch id, and duplicates against certificates approved in the meantime."""
    _authorise(conn, batch.code, principal, now)
    existing = _existing(conn, batch.code, batch.batch_id, batch.fingerprint)
    if existing is not None:
        return existing
    checked = _with_duplicates(conn, batch.rows)
    # A batch with no row left to review is reviewed at once: the issuer waiting for it must not wait forever.
    state = REVIEWED if all(found for _, found in checked) else SUBMITTED
    batch_pk = conn.execute(
        batches.insert()
        .values(
            institution_code=batch.code,
            batch_id=batch.batch_id,
            body_sha256=batch.fingerprint,
            state=state,
            submitted_at=now.unix,
        )
        .returning(batches.c.id)
    ).scalar_one()
    _insert_rows(conn, batch_pk, checked)
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action="batch.submit",
        subject=batch.code,
        data={
            "batch_id": digests.batch_id(batch.code, batch.batch_id),
            "rows": len(checked),
            "invalid": sum(1 for _, found in checked if found),
            "content": digests.of("batch", batch.fingerprint),
        },
    )
    return int(batch_pk)


_STORED_COLUMNS = [rows.c.batch_pk, rows.c.row_no, rows.c.state, rows.c.problems, rows.c.status]


def _insert_rows(conn: Connection, batch_pk: int, checked: list[CheckedRow]) -> None:
    """Every row of a new batch in one executemany (``registry.bulk``)."""
    if not checked:
        return
    value_columns = [rows.c[name] for name in checked[0][0]]  # _row_values' members, always the same
    values = [
        (batch_pk, number, INVALID if found else PENDING, stored_json(found), "valid", *values.values())
        for number, (values, found) in enumerate(checked, start=1)
    ]
    bulk.insert_many(conn, rows, [*_STORED_COLUMNS, *value_columns], values)


def stored_json(found: list[dict[str, Any]]) -> str:
    """A row's findings as stored ("[]" for most rows, written without asking the encoder)."""
    return json.dumps(found, ensure_ascii=False) if found else "[]"


def find_batch(
    conn: Connection, batch_id: str, principal: Principal, institution_code: str | None
) -> Row[Any]:
    """A batch the caller may see; institutions see only their own, as if others did not exist."""
    if principal.role == "institution":
        institution_code = principal.institution_code
    where = [batches.c.batch_id == batch_id]
    if institution_code is not None:
        where.append(batches.c.institution_code == institution_code)
    found = conn.execute(select(batches).where(*where).limit(2)).all()
    if not found:
        raise RegistryError("not_found", "batch")
    if len(found) > 1:
        raise RegistryError("batch_ambiguous", batch_id)
    return found[0]


def expected_claims(row: Any) -> CertificateClaims:
    """The claims a credential for an approved row must carry, exactly."""
    return CertificateClaims(
        certificate_number=row.certificate_number,
        holder_name=row.holder_name,
        id_type=row.id_type,
        id_masked=MaskedId(row.id_length, row.id_suffix),
        occupation_code=row.occupation_code,
        level=row.level,
        work_type=row.work_type,
        issue_date=row.issue_date,
        status_list=row.status_list,
        status_index=row.status_index,
    )


def certificate_json(row: Any, institution_code: str, institution_name: str) -> dict[str, Any]:
    """The certificate of an approved row, ID number masked (what the issuer signs, minus the number)."""
    document = expected_claims(row).to_json()
    document.update(
        occupation_name=row.occupation_name,
        institution_code=institution_code,
        institution_name=institution_name,
    )
    return document


def pending_rows(conn: Connection, batch_pk: int) -> int:
    """How many rows still await a decision."""
    return int(
        conn.execute(
            select(func.count()).select_from(rows).where(rows.c.batch_pk == batch_pk, rows.c.state == PENDING)
        ).scalar_one()
    )
