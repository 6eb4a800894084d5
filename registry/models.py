"""Request bodies of the HTTP API. Unknown members are refused; documents with their own schemas
(institution records, roster rows) are checked by ``schemas`` so each problem gets its own code."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

_CODE = r"^[YS]\d{12}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstitutionStatusIn(_Body):
    status: Literal["active", "suspended", "removed"]
    effective: date | None = None
    reason: StrictStr = Field(default="", max_length=500)


class TokenIn(_Body):
    role: Literal["admin", "reviewer", "institution", "supervisor"]
    institution_code: StrictStr | None = Field(default=None, pattern=_CODE)
    expires_in_days: StrictInt | None = Field(default=None, ge=1, le=3650)


class TokenRevokeIn(_Body):
    id: StrictStr = Field(min_length=1, max_length=64)
    reason: StrictStr = Field(default="", max_length=500)


class KeyIn(_Body):
    jwk: dict[str, Any]
    valid_from: date
    valid_until: date | None = None


class RetireIn(_Body):
    retired: date | None = None


class RevokeIn(_Body):
    revoked: date | None = None
    reason: StrictStr = Field(default="", max_length=500)


class RevocationCorrectionIn(_Body):
    revoked: date | None
    reason: StrictStr = Field(min_length=1, max_length=500)


class BatchIn(_Body):
    batch_id: StrictStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    institution_code: StrictStr = Field(pattern=_CODE)
    rows: list[Any] = Field(min_length=1)


class DecisionIn(_Body):
    row: StrictInt
    approve: StrictBool
    reason: StrictStr | None = Field(default=None, max_length=500)


class ReviewIn(_Body):
    decisions: list[DecisionIn] | None = None
    approve_all_valid: StrictBool = False


class CredentialIn(_Body):
    row: StrictInt
    qr: StrictStr = Field(max_length=8000)


class PublishIn(_Body):
    credentials: list[CredentialIn] = Field(min_length=1, max_length=20_000)


class CertificateStatusIn(_Body):
    """``reason`` is the institution's own words, kept private to the registry; ``category`` (from
    ``schemas.vocabulary.STATUS_REASON_CATEGORIES``, required to revoke or suspend) is published."""

    action: Literal["revoke", "suspend", "reinstate"]
    reason: StrictStr = Field(min_length=1, max_length=500)
    category: StrictStr | None = Field(default=None, max_length=32)


class QueryIn(_Body):
    holder_name: StrictStr = Field(min_length=1, max_length=64)
    certificate_number: StrictStr | None = Field(default=None, max_length=22)
    id_number: StrictStr | None = Field(default=None, max_length=64)


class ConfirmHolderIn(_Body):
    holder_name: StrictStr = Field(min_length=1, max_length=64)
    id_number: StrictStr = Field(min_length=1, max_length=64)


class EmployerIn(_Body):
    name: StrictStr = Field(min_length=1, max_length=100)
    uscc: StrictStr = Field(min_length=18, max_length=18)
    daily_quota: StrictInt = Field(ge=1, le=1_000_000)


class EmployerQuotaIn(_Body):
    daily_quota: StrictInt = Field(ge=1, le=1_000_000)


class LookupQueryIn(_Body):
    certificate_number: StrictStr = Field(min_length=1, max_length=22)
    holder_name: StrictStr = Field(min_length=1, max_length=64)


class LookupIn(_Body):
    queries: list[LookupQueryIn] = Field(min_length=1, max_length=500)
