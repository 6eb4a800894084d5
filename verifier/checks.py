"""The rules behind checks (4)–(9) and holder confirmation, each a pure function.

Each rule answers ``None`` when the certificate passes, or a ``Failure`` naming the precise
reason. The window rules themselves live on the directory entries (``KeyEntry.vouches_for``,
``Institution.status_on``, ``Scope.covers``) so the registry and verifiers judge alike; these
functions only turn a "no" into the reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from credential import CertificateClaims
from credential.directory import ACTIVE, REMOVED, SUSPENDED, Institution, KeyEntry
from credential.status_list import Status, StatusList
from schemas.names import normalise_name
from schemas.rules import certificate_number_issues
from verifier.verdict import HolderInput, RegistryRecord

_NO_SERIAL = "000000"
# The year's two digits by table: a format specification (``:02d``) is parsed on every call and
# cost more than the rest of the check.
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))
_VALID = Status.VALID  # bound once: an IntEnum member lookup costs ~100 ns (Python 3.11), per verdict


@dataclass(frozen=True)
class Failure:
    """Why a check failed: a stable code and, when useful, a specific detail in both languages."""

    code: str
    detail_zh: str = ""
    detail_en: str = ""


def key_validity(entry: KeyEntry, issue_date: date) -> Failure | None:
    """(4) The key vouches for the issue date; otherwise which of its limits excluded it."""
    if entry.vouches_for(issue_date):
        return None
    if issue_date < entry.valid_from:
        return Failure("key_not_yet_valid")
    if entry.revoked is not None and issue_date >= entry.revoked:
        return Failure("key_revoked", f"吊销日期 {entry.revoked}", f"revoked from {entry.revoked}")
    if entry.retired is not None and issue_date > entry.retired:
        return Failure("key_retired", f"停用日期 {entry.retired}", f"retired on {entry.retired}")
    return Failure("key_expired", f"有效期至 {entry.valid_until}", f"valid until {entry.valid_until}")


def institution_standing(institution: Institution, issue_date: date) -> Failure | None:
    """(5) The institution's status in force on the issue date is active."""
    status = institution.status_on(issue_date)
    if status == ACTIVE:
        return None
    if status == SUSPENDED:
        return Failure("institution_suspended")
    if status == REMOVED:
        return Failure("institution_removed")
    return Failure("institution_not_active")


def scope(institution: Institution, claims: CertificateClaims) -> Failure | None:
    """(6) A filed scope covered the occupation, level and work type on the issue date."""
    day = claims.issue_date
    if institution.scope_for(claims.occupation_code, claims.level, claims.work_type, day) is not None:
        return None
    in_window = [
        s
        for s in institution.scopes
        if s.occupation_code == claims.occupation_code
        and s.valid_from <= day
        and (s.valid_until is None or day <= s.valid_until)
    ]
    if not in_window:
        return Failure("occupation_out_of_scope", claims.occupation_code, claims.occupation_code)
    if not any(claims.level in s.levels for s in in_window):
        return Failure("level_out_of_scope", f"等级 {claims.level}", f"level {claims.level}")
    return Failure("work_type_out_of_scope", claims.work_type, claims.work_type)


def certificate_number(claims: CertificateClaims, institution: Institution) -> Failure | None:
    """(7) The number's institution code, year and level agree with the claims and the signer.

    The claims layer already guarantees the number's shape (``[YS]`` + 21 digits), so the common
    case is three slice comparisons; only a disagreement runs the schemas rule, which names it.
    """
    number, code = claims.certificate_number, institution.code
    if (
        len(code) == 13
        and number.startswith(code)
        and number[13:15] == _TWO_DIGITS[claims.issue_date.year % 100]
        and number[15:16] == str(claims.level)
        and number[16:] != _NO_SERIAL
    ):
        return None
    document = {
        "certificate_number": number,
        "level": claims.level,
        "issue_date": claims.issue_date.isoformat(),
        "institution_code": institution.code,
    }
    issue = next(certificate_number_issues(document, set()), None)
    if issue is None:  # an institution code not of 13 characters: the number cannot agree with it
        return Failure("certno_mismatch", institution.code, institution.code)
    return Failure("certno_mismatch", issue.message_zh, issue.message_en)


def status(status_lists: Mapping[int, StatusList], claims: CertificateClaims) -> Failure | None:
    """(8) The entry of the certificate in its status list is VALID."""
    status_list = status_lists.get(claims.status_list)
    if status_list is None:  # the registry's list index names no list we hold
        return Failure("trust_missing", f"状态列表 {claims.status_list}", f"status list {claims.status_list}")
    if not 0 <= claims.status_index < status_list.size:
        return Failure("status_unknown", f"序号 {claims.status_index}", f"index {claims.status_index}")
    value = status_list.get(claims.status_index)
    if value == _VALID:
        return None
    if value == Status.INVALID:
        return Failure("revoked")
    if value == Status.SUSPENDED:
        return Failure("suspended")
    return Failure("status_unknown", f"状态值 {value}", f"status value {value}")


def registry_record(
    record: RegistryRecord | None, claims: CertificateClaims, credential_sha256: str
) -> Failure | None:
    """(9) The registry published exactly these bytes under this number."""
    if record is None:
        return Failure("record_missing")
    if (
        record.certificate_number != claims.certificate_number
        or record.credential_sha256.lower() != credential_sha256
    ):
        return Failure("record_mismatch")
    return None


def registry_status(record: RegistryRecord) -> Failure | None:
    """(8) online: the registry's status for these bytes is valid.

    The registry's status is fresher than any status list, so a revocation it reports wins, and
    a reinstatement it reports wins over a list that still says suspended.
    """
    if record.status == "valid":
        return None
    if record.status in ("revoked", "suspended"):
        return Failure(record.status)
    return Failure("status_unknown", record.status, record.status)


def holder_offline(claims: CertificateClaims, holder: HolderInput) -> dict[str, Any]:
    """Compare what was typed with the name and the masked ID number in the QR."""
    return {
        "method": "offline_masked",
        "name_match": normalise_name(holder.name.strip()) == claims.holder_name,
        "id_match": claims.id_masked.matches(holder.id_number),
    }


def holder_online(match: bool, claims: CertificateClaims, holder: HolderInput) -> dict[str, Any]:
    """The registry's keyed-digest answer covers name and number together; when it says no, the
    name and masked number in the QR tell which of the two differs (a name that differs locally
    is the name; a name that agrees means the full number does not)."""
    if match:
        return {"method": "online_registry", "name_match": True, "id_match": True}
    local = holder_offline(claims, holder)
    name_match = bool(local["name_match"])
    id_match = bool(local["id_match"]) and not name_match
    return {"method": "online_registry", "name_match": name_match, "id_match": id_match}
