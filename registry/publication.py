"""Publication: an institution uploads the signed credential of each approved row; the registry
accepts it only if its own key, valid on the issue date, signed exactly the approved claims.

Every check is per row; one bad credential never blocks the others. Accepted credentials are stored
(COSE bytes and their SHA-256) and become publicly queryable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from credential import CredentialError, decode, verify
from credential.directory import Institution
from keys import PublicKey
from registry.audit import Digests, append_event
from registry.batches import APPROVED, PUBLISHED, expected_claims
from registry.clock import Now
from registry.institutions import load_institution, require_active
from registry.schema import rows
from registry.tokens import ADMIN, Principal

# code -> (zh-CN, English) for rejections that are the registry's own (credential codes come from
# ``credential.REJECTIONS``).
_REJECTIONS: dict[str, tuple[str, str]] = {
    "row_unknown": ("批次中没有该行", "the batch has no such row"),
    "row_not_approved": ("该行未通过审核，不能发布", "the row is not approved; it cannot be published"),
    "already_published": (
        "该行已发布了另一份电子证书",
        "another credential was already published for this row",
    ),
    "key_unknown": ("签名密钥不是本机构登记的密钥", "the signing key is not one of this institution's keys"),
    "key_not_valid": (
        "签名密钥在发证日期无效（未生效、已停用或已吊销）",
        "the signing key was not valid on the issue date",
    ),
    "claims_mismatch": (
        "证书内容与审核通过的数据不一致",
        "the credential's content differs from the approved data",
    ),
}


@dataclass(frozen=True)
class Outcome:
    """The result for one uploaded credential."""

    row: int
    state: str
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Only the members that apply."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _rejected(row: int, code: str, detail: str = "") -> Outcome:
    zh, en = _REJECTIONS[code]
    return Outcome(row, "rejected", code, zh, en + (f" ({detail})" if detail else ""))


def _from_credential_error(row: int, e: CredentialError) -> Outcome:
    return Outcome(
        row, "rejected", e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else "")
    )


def check_credential(qr: str, row: Any, institution: Institution) -> tuple[bytes, Outcome | None]:
    """The credential's COSE bytes, and a rejection if any check fails (None when acceptable)."""
    try:
        parsed = decode(qr)  # strict: only canonical bytes pass, so only canonical bytes are stored
    except CredentialError as e:
        return b"", _from_credential_error(row.row_no, e)
    cose_bytes = parsed.cose_bytes  # the same for the plain and the URL form of one credential
    key = next((k for k in institution.keys if k.kid == parsed.kid), None)
    if key is None:
        return cose_bytes, _rejected(row.row_no, "key_unknown")
    try:
        verify(parsed, PublicKey(key.public_key))
    except CredentialError as e:
        return cose_bytes, _from_credential_error(row.row_no, e)
    if not key.vouches_for(parsed.claims.issue_date):
        return cose_bytes, _rejected(row.row_no, "key_not_valid")
    if row.state not in (APPROVED, PUBLISHED):
        return cose_bytes, _rejected(row.row_no, "row_not_approved")
    expected = expected_claims(row)
    claims = parsed.claims.with_institution(institution.code)  # the number, rebuilt for the signer
    if claims != expected:
        differing = [f.name for f in fields(expected) if getattr(expected, f.name) != getattr(claims, f.name)]
        return cose_bytes, _rejected(row.row_no, "claims_mismatch", ", ".join(differing))
    return cose_bytes, None


def publish(
    conn: Connection,
    batch: Any,
    credentials: list[dict[str, Any]],
    principal: Principal,
    now: Now,
    digests: Digests,
) -> list[Outcome]:
    """Check and store each uploaded credential; return one outcome per upload, in order. A suspended
    institution publishes nothing (``institution_not_active``); the administrator still may.

    Only the uploaded rows are read, and the accepted ones are stored by one statement at the end (in
    the same transaction), not one update and re-read per row: an upload of 500 rows of a 10,000-row
    batch costs 500 rows' work, not 10,000's (bench/bench_issue.py). A row uploaded twice in one
    request is judged against the credential accepted earlier in it (``accepted``)."""
    require_active(conn, batch.institution_code, now, by_admin=principal.role == ADMIN)
    institution = load_institution(conn, batch.institution_code)
    found = _uploaded_rows(conn, batch.id, {item["row"] for item in credentials})
    outcomes: list[Outcome] = []
    accepted: dict[int, tuple[Any, bytes, str]] = {}  # row number -> (its row, COSE bytes, SHA-256)
    for item in credentials:
        number = item["row"]
        row = found.get(number)
        if row is None:
            outcomes.append(_rejected(number, "row_unknown"))
            continue
        cose_bytes, rejection = check_credential(item["qr"], row, institution)
        digest = hashlib.sha256(cose_bytes).hexdigest()
        earlier = accepted.get(number)
        stored = earlier[2] if earlier is not None else row.credential_sha256
        published = earlier is not None or row.state == PUBLISHED
        if rejection is None and published and stored != digest:
            rejection = _rejected(number, "already_published")
        if rejection is not None:
            outcomes.append(rejection)
            continue
        if not published:
            accepted[number] = (row, cose_bytes, digest)
        outcomes.append(Outcome(number, "published"))
    if accepted:
        _store(conn, batch, accepted, principal, now, digests)
    return outcomes


_UPLOAD_PAGE = 500  # row numbers per query (well under every database's limit on parameters)


def _uploaded_rows(conn: Connection, batch_pk: int, numbers: set[int]) -> dict[int, Any]:
    """The batch's rows that the upload names, by row number."""
    wanted = sorted(numbers)
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), _UPLOAD_PAGE):
        page = wanted[start : start + _UPLOAD_PAGE]
        query = select(rows).where(rows.c.batch_pk == batch_pk, rows.c.row_no.in_(page))
        found.update((r.row_no, r) for r in conn.execute(query))
    return found


def _store(
    conn: Connection,
    batch: Any,
    accepted: dict[int, tuple[Any, bytes, str]],
    principal: Principal,
    now: Now,
    digests: Digests,
) -> None:
    """Mark the accepted rows published (one statement for them all) and log one event for the upload."""
    conn.execute(
        update(rows)
        .where(rows.c.id == bindparam("row_pk"))
        .values(
            state=PUBLISHED,
            credential=bindparam("cose"),
            credential_sha256=bindparam("digest"),
            published_at=now.unix,
        ),
        [{"row_pk": row.id, "cose": cose, "digest": digest} for row, cose, digest in accepted.values()],
    )
    # Never the credential's SHA-256 itself: that is what /record takes as proof of holding it.
    published = [
        [number, row.certificate_number, digests.of("credential", digest)]
        for number, (row, _, digest) in accepted.items()
    ]
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action="certificate.publish",
        subject=batch.institution_code,
        data={
            "batch_id": digests.batch_id(batch.institution_code, batch.batch_id),
            "published": published,
        },
    )
