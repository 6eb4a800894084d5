"""Request bodies of the supervision API (complaints, credit file, quality supervision). Unknown
members are refused; free texts have upper bounds so no body can grow a table without limit."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from registry.complaints import CONTACT_MAX, DESCRIPTION_MAX, EVIDENCE_FILES_MAX

_CODE = r"^[YS]\d{12}$"
_NUMBER = r"^[YS]\d{21}$"
Category = Literal["fake_certificate", "exam_fraud", "charging", "outside_scope", "other"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(_Body):
    filename: StrictStr = Field(min_length=1, max_length=200)
    # base64; the decoded size (at most 2 MiB) and the type are checked after decoding, with their own codes
    data: StrictStr = Field(max_length=3_000_000)


class ComplaintIn(_Body):
    institution_code: StrictStr | None = Field(default=None, pattern=_CODE)
    certificate_number: StrictStr | None = Field(default=None, pattern=_NUMBER)
    category: Category
    description: StrictStr = Field(min_length=1, max_length=DESCRIPTION_MAX)
    contact: StrictStr = Field(default="", max_length=CONTACT_MAX)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=EVIDENCE_FILES_MAX + 1)
    challenge: StrictStr = Field(max_length=200)
    nonce: StrictStr = Field(max_length=64)


class StepIn(_Body):
    state: Literal["accepted", "investigating", "upheld", "dismissed"]
    reason: StrictStr = Field(min_length=1, max_length=2000)
    public_finding: StrictStr = Field(default="", max_length=2000)


class SanctionIn(_Body):
    kind: Literal["warning", "suspension", "reinstatement", "removal"]
    reason: StrictStr = Field(min_length=1, max_length=2000)
    reference: StrictStr = Field(default="", max_length=200)
    links: list[StrictInt] = Field(default_factory=list, max_length=100)
    effective: date | None = None


class SupervisionIn(_Body):
    institution_code: StrictStr = Field(pattern=_CODE)
    batch_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    day: date
    site: StrictStr = Field(min_length=1, max_length=200)
    findings: StrictStr = Field(min_length=1, max_length=4000)
    rating: Literal["good", "satisfactory", "unsatisfactory"]


class SupervisionRuleIn(_Body):
    batch_needs_record: StrictBool
