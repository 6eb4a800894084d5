"""Strict parsing (issue 11, point 9): one byte form per credential, integers that are integers,
ASCII digits, and nothing unsigned in the headers. Each case was accepted before."""

from __future__ import annotations

import cbor2
import pytest
from credential_fixtures import TYPICAL_INSTITUTION, typical_claims

from credential import CredentialError, decode, encode, verify
from credential.base45 import b45decode, b45encode
from credential.constants import QR_PREFIX, TAG_COSE_SIGN1, CertificateKey, Claim
from credential.cose import sig_structure
from keys import Signer

SIGNER = Signer.generate()
GOOD = encode(typical_claims(), SIGNER)
GOOD_COSE = b45decode(GOOD[len(QR_PREFIX) :])
PROTECTED = GOOD_COSE[3:16]  # bstr(13) content: {1: -8, 4: kid}


def _signed(
    protected: bytes, payload: bytes, unprotected: bytes = b"\xa0", payload_head: bytes | None = None
) -> str:
    """A correctly signed COSE_Sign1 assembled byte by byte, so nothing re-encodes it."""
    signature = SIGNER.sign(sig_structure(protected, payload))
    head = cbor2.dumps(payload)[: -len(payload)] if payload_head is None else payload_head
    cose = b"\xd2\x84" + cbor2.dumps(protected) + unprotected + head + payload + b"\x58\x40" + signature
    return QR_PREFIX + b45encode(cose)


def _payload(body: dict[object, object]) -> bytes:
    return cbor2.dumps({Claim.CERTIFICATE: body})


def _code(text: str) -> str:
    with pytest.raises(CredentialError) as caught:
        verify(decode(text), SIGNER.public_key)
    return caught.value.code


def test_the_byte_by_byte_builder_reproduces_a_good_credential() -> None:
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    text = _signed(PROTECTED, _payload(body))
    verify(decode(text), SIGNER.public_key)  # so the rejections below are due to the one change


def test_cbor_true_is_not_the_algorithm_label_1() -> None:
    protected = b"\xa2\x04\x48" + SIGNER.kid + b"\xf5\x27"  # {4: kid, true: -8}, keys in canonical order
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    assert _code(_signed(protected, _payload(body))) == "cose_protected_header"


def test_cbor_true_is_not_the_claim_key_1() -> None:
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    payload = _payload(body)
    serial = cbor2.dumps({CertificateKey.SERIAL: body[CertificateKey.SERIAL]})[1:]
    assert serial[0] == 0x01
    tampered = payload.replace(serial, b"\xf5" + serial[1:], 1)  # key 1 written as true
    assert tampered != payload
    assert _code(_signed(PROTECTED, tampered)) == "claims_invalid"


def test_cbor_true_is_not_the_level_1() -> None:
    body = dict(typical_claims().to_cwt()[Claim.CERTIFICATE])
    body[CertificateKey.LEVEL] = True
    assert _code(_signed(PROTECTED, _payload(body))) == "claims_invalid"


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("level as a one-byte integer", b"\x03\x03", b"\x03\x18\x03"),
        ("level as a two-byte integer", b"\x03\x03", b"\x03\x19\x00\x03"),
        ("id type as an eight-byte integer", b"\x05\x01", b"\x05\x1b\x00\x00\x00\x00\x00\x00\x00\x01"),
    ],
)
def test_non_canonical_integers_in_the_claims_are_refused(name: str, old: bytes, new: bytes) -> None:
    payload = _payload(typical_claims().to_cwt()[Claim.CERTIFICATE])
    assert payload.count(old) == 1, name
    assert _code(_signed(PROTECTED, payload.replace(old, new))) == "cbor_not_canonical"


def test_claims_keys_out_of_order_are_refused() -> None:
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    reordered = {k: body[k] for k in sorted(body, reverse=True)}
    assert _code(_signed(PROTECTED, _payload(reordered))) == "cbor_not_canonical"


def test_a_payload_length_written_longer_than_needed_is_refused() -> None:
    payload = _payload(typical_claims().to_cwt()[Claim.CERTIFICATE])
    assert 24 <= len(payload) < 256
    head = b"\x59" + len(payload).to_bytes(2, "big")  # two length bytes where one suffices
    assert _code(_signed(PROTECTED, payload, payload_head=head)) == "cbor_not_canonical"


def test_a_protected_header_with_a_non_canonical_integer_is_refused() -> None:
    protected = b"\xa2\x01\x38\x07\x04\x48" + SIGNER.kid  # alg -8 as 0x38 0x07
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    assert _code(_signed(protected, _payload(body))) == "cbor_not_canonical"


@pytest.mark.parametrize("member", [b"\xa1\x18\x63\x01", b"\xa1\x03\x00", b"\xa1\x21\x40"])
def test_unknown_unprotected_header_members_are_refused(member: bytes) -> None:
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    assert _code(_signed(PROTECTED, _payload(body), unprotected=member)) == "cose_unprotected_header"


def test_extra_protected_members_are_refused() -> None:
    protected = cbor2.dumps({1: -8, 4: SIGNER.kid, 16: "x"})
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    assert _code(_signed(protected, _payload(body))) == "cose_protected_header"


def test_the_only_text_digits_left_are_ascii() -> None:
    """The number's digits no longer travel as text; where they are rebuilt, only ASCII counts."""
    parsed = decode(GOOD).claims
    assert not parsed.with_institution("Y" + "٠" * 12).institution_known  # Arabic-Indic digits
    assert not parsed.with_institution("Y０００011000001").institution_known  # full-width digits
    assert parsed.with_institution(TYPICAL_INSTITUTION).certificate_number == "Y000011000001263000001"
    with pytest.raises(ValueError):
        encode(typical_claims(certificate_number="Y000011000001263００0001"), SIGNER)


def test_every_good_credential_is_its_own_canonical_encoding() -> None:
    parsed = decode(GOOD)
    tag = cbor2.loads(parsed.cose_bytes)
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == TAG_COSE_SIGN1
    assert cbor2.dumps(tag, canonical=True) == parsed.cose_bytes


@pytest.mark.parametrize("canonical", [True, False])
def test_bytes_after_the_claims_are_named_trailing_before_anything_else(canonical: bool) -> None:
    """The claims decoder does not report where the item ended; trailing bytes still get their own
    code, also when the claims before them are not canonical and their keys are out of order."""
    body = typical_claims().to_cwt()[Claim.CERTIFICATE]
    if not canonical:
        body = {k: body[k] for k in sorted(body, reverse=True)}
    assert _code(_signed(PROTECTED, _payload(body) + b"\x00")) == "cbor_trailing"
    assert _code(_signed(PROTECTED, _payload(body) + _payload(body))) == "cbor_trailing"
