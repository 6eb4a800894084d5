"""Signing one approved journal row (``issuer.run.sign_row``): the registry's approved certificate wins over
the roster's copy, the credential decodes to exactly that certificate, and a number that disagrees with
the level, the issue year or the institution, or a certificate that cannot become claims, is refused
with its code and nothing is signed."""

from __future__ import annotations

import json
from typing import Any

import pytest

import issuer.run
from credential import decode, verify
from issuer.journal import APPROVED, JournalRow
from issuer.run import certificate_document, sign_row
from keys import Signer

CODE = "Y000011000001"
SIGNER = Signer(bytes(range(32)))


def approved_row(**certificate: Any) -> JournalRow:
    """A journal row as the run holds it once the registry approved it (fields as the roster gave them)."""
    fields = {
        "holder_name": "王 建国",  # the roster's spelling; the registry's normalised one wins
        "id_type": "居民身份证",
        "id_number": " 11010519800101000x ",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3,
        "assessment_date": "2026-11-19",
        "photo": "000001.jpg",
    }
    approved = {
        "certificate_number": f"{CODE}263000042",
        "holder_name": "王建国",
        "id_number_masked": "**************000X",
        "id_type": "居民身份证",
        "institution_code": CODE,
        "institution_name": "中国国家铁路集团有限公司",
        "issue_date": "2026-11-30",
        "level": 3,
        "level_name": "三级/高级工",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "status": {"index": 977635, "list": 2},
        "work_type": "维修电工",
    } | certificate
    return JournalRow(
        row=1,
        roster_row=2,
        state=APPROVED,
        qr=None,
        code=None,
        reason=None,
        fields_json=json.dumps(fields, ensure_ascii=False),
        certificate_json=json.dumps(approved, ensure_ascii=False),
        files_json=None,
    )


def test_the_document_is_the_roster_row_overlaid_with_the_approved_certificate() -> None:
    document = certificate_document(approved_row(), CODE)
    assert document == {
        "holder_name": "王建国",
        "id_type": "居民身份证",
        "id_number": "11010519800101000X",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "维修电工",
        "level": 3,
        "photo": "000001.jpg",
        "certificate_number": f"{CODE}263000042",
        "issue_date": "2026-11-30",
        "status": {"index": 977635, "list": 2},
        "institution_name": "中国国家铁路集团有限公司",
        "institution_code": CODE,
    }


def test_a_signed_row_decodes_to_the_approved_certificate() -> None:
    parsed = decode(sign_row(approved_row(), CODE, SIGNER))
    verify(parsed, SIGNER.public_key)
    claims = parsed.claims.with_institution(CODE)
    assert (claims.certificate_number, claims.holder_name, claims.work_type) == (
        f"{CODE}263000042",
        "王建国",
        "维修电工",
    )
    assert (claims.id_masked.length, claims.id_masked.suffix, claims.level) == (18, "000X", 3)
    assert (claims.issue_date.isoformat(), claims.status_list, claims.status_index) == (
        "2026-11-30",
        2,
        977635,
    )


@pytest.mark.parametrize(
    ("certificate", "code"),
    [
        ({"level": 4}, "certno_level_mismatch"),
        ({"issue_date": "2025-11-30"}, "certno_year_mismatch"),
        ({"certificate_number": "S000011000001263000042"}, "certno_institution_mismatch"),
        ({"certificate_number": f"{CODE}263000000"}, "certno_serial"),
        ({"certificate_number": f"{CODE}26300004"}, "certno_length"),
        ({"status": {"index": 1}}, "certificate_invalid"),
        ({"issue_date": "30/11/2026"}, "certificate_invalid"),
    ],
)
def test_a_row_that_cannot_be_signed_as_approved_is_refused_with_its_code(
    certificate: dict[str, Any], code: str
) -> None:
    class CountingSigner(Signer):
        signatures = 0

        def sign(self, message: bytes) -> bytes:
            CountingSigner.signatures += 1
            return super().sign(message)

    with pytest.raises(issuer.run._RowRefusedError) as refused:
        sign_row(approved_row(**certificate), CODE, CountingSigner(bytes(range(32))))
    assert refused.value.code == code
    assert CountingSigner.signatures == 0
