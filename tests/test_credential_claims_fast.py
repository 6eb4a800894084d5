"""The claims parser's path for claims as skillpass writes them (``claims._as_written``) against the
strict one (``claims._strict``): the same claims for every valid map, and for every altered map
either the same claims or ``None``, so that the strict parser names what is wrong exactly as before."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from credential_fixtures import typical_claims

from credential import CertificateClaims, CredentialError, MaskedId
from credential.claims import _as_written, _strict
from credential.constants import CertificateKey, Claim

_CLAIM = int(Claim.CERTIFICATE)


def _valid_maps() -> Iterator[dict[int, Any]]:
    """Claim maps of every shape a credential can have: with and without a work type, every ID
    type and level, values at both ends of their ranges, long texts."""
    yield typical_claims().to_cwt()
    yield typical_claims(work_type="高压电工作业", holder_name="阿卜杜热西提·买买提明").to_cwt()
    yield typical_claims(id_masked=MaskedId(1, "X"), status_list=0, status_index=0).to_cwt()
    yield typical_claims(id_masked=MaskedId(30, "(A)-"), status_list=2**40, status_index=2**20 - 1).to_cwt()
    for level in range(1, 6):
        number = f"Y000011000001{26}{level}999999"
        yield typical_claims(level=level, certificate_number=number).to_cwt()
    yield typical_claims(issue_date=date(1970, 1, 1), certificate_number="Y000011000001703000001").to_cwt()
    yield typical_claims(issue_date=date(9999, 12, 31), certificate_number="Y000011000001993000001").to_cwt()
    for id_type in ("居民身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证"):
        yield typical_claims(id_type=id_type).to_cwt()


def _altered(claims: dict[int, Any]) -> Iterator[object]:
    """Each valid map with one thing changed: a value's type or range, a key, the order, the shape."""
    body = claims[_CLAIM]
    bad_values: tuple[object, ...] = (
        True, 0, -1, 1.0, 2**64, "", " x", "x\u202e", "--", "1" * 40, b"x", None, [], [1], [1, "X", 2],
        [0, "X"], [2, "ABC"], [31, "X"], [18, "x"], [18, "12\n"], [1, 2], [-1, 0], [0, 2**20], ["0", 1],
        [True, 1], (18, "002X"), {1: 2}, 1_000_000, 8_999_999, 9_000_000, 999_999, 1_000_000_000,
    )  # fmt: skip
    for key in body:
        for value in bad_values:
            changed = dict(body)
            changed[key] = value
            yield {_CLAIM: changed}
        without = {k: v for k, v in body.items() if k != key}
        yield {_CLAIM: without}
    yield {_CLAIM: dict(reversed(body.items()))}
    yield {_CLAIM: {**body, 10: 1}}
    yield {_CLAIM: {**body, int(CertificateKey.WORK_TYPE): "电工"}}
    yield {float(k): v for k, v in claims.items()}
    yield {_CLAIM: {float(k): v for k, v in body.items()}}
    yield {_CLAIM: {(True if k == 1 else k): v for k, v in body.items()}}
    yield {**claims, 1: 2}
    yield {}
    yield [claims]
    yield {_CLAIM: list(body.items())}


def _strict_answer(claims: object) -> object:
    try:
        return _strict(claims)
    except CredentialError as e:
        return e.code, e.detail


@pytest.mark.parametrize("claims", list(_valid_maps()))
def test_valid_claims_take_the_fast_path_and_equal_the_strict_parse(claims: dict[int, Any]) -> None:
    fast = _as_written(copy.deepcopy(claims))
    assert fast is not None
    assert fast == _strict(claims)
    assert fast.to_cwt() == claims


def test_every_alteration_gets_the_strict_answer_or_none_from_the_fast_path() -> None:
    seen = 0
    for claims in _valid_maps():
        for altered in _altered(claims):
            fast = _as_written(altered)
            strict = _strict_answer(altered)
            assert fast is None or fast == strict, altered
            seen += fast is None
    assert seen > 1000  # the alterations did reach the strict parser


def test_an_altered_map_is_refused_with_the_strict_parser_s_reason() -> None:
    body = typical_claims().to_cwt()[_CLAIM]
    body[int(CertificateKey.LEVEL)] = 6
    with pytest.raises(CredentialError) as caught:
        CertificateClaims.from_cwt({_CLAIM: body})
    assert (caught.value.code, caught.value.detail) == ("claims_invalid", "level must be an integer in range")
