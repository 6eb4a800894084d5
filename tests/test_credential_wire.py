"""Round trips of the credential wire format and its interoperability with an independent COSE library."""

from __future__ import annotations

import dataclasses
import random
import zlib
from datetime import date

import cbor2
import pytest
from credential_fixtures import example, typical_claims
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from common import qrimage
from credential import CertificateClaims, CredentialError, decode, encode, verify
from credential.base45 import b45encode
from credential.constants import DEFAULT_LIMITS, QR_PREFIX, CertificateKey, Claim
from credential.qr_text import from_qr_text, to_qr_text
from keys import Signer


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


def test_encode_decode_verify_round_trip(signer: Signer) -> None:
    claims = typical_claims()
    text = encode(claims, signer)
    assert text.startswith(QR_PREFIX)
    parsed = decode(text)
    assert parsed.claims == claims
    assert parsed.kid == signer.kid
    verify(parsed, signer.public_key)


def test_examples_round_trip_and_fit_the_qr_budget(signer: Signer) -> None:
    typical = encode(CertificateClaims.from_certificate(example("typical")), signer)
    longest = encode(CertificateClaims.from_certificate(example("longest")), signer)
    assert decode(typical).claims == CertificateClaims.from_certificate(example("typical"))
    assert decode(longest).claims == CertificateClaims.from_certificate(example("longest"))
    assert qrimage.qr_version(typical) <= 11
    assert qrimage.qr_version(longest) <= 16


def test_full_id_number_never_travels(signer: Signer) -> None:
    text = encode(typical_claims(), signer)
    cose, _ = from_qr_text(text, DEFAULT_LIMITS)
    assert b"11010519491231002X" not in cose
    assert b"1101051949" not in cose
    assert decode(text).claims.id_masked.display() == "**************002X"


def test_work_type_is_omitted_when_none_and_carried_otherwise(signer: Signer) -> None:
    none = decode(encode(typical_claims(), signer))
    assert CertificateKey.WORK_TYPE not in cbor2.loads(none.sign1.payload)[Claim.CERTIFICATE]
    carried = decode(encode(typical_claims(work_type="维修电工"), signer))
    assert carried.claims.work_type == "维修电工"


def test_zlib_is_used_only_when_smaller() -> None:
    repetitive = b"\xd2" + b"A" * 600
    assert from_qr_text(to_qr_text(repetitive), DEFAULT_LIMITS) == (repetitive, True)
    assert len(to_qr_text(repetitive)) < 100
    incompressible = b"\xd2" + random.Random(7).randbytes(600)
    assert from_qr_text(to_qr_text(incompressible), DEFAULT_LIMITS) == (incompressible, False)
    short = b"\xd2" + b"A" * 300  # below the size where zlib ever paid off for a credential
    assert from_qr_text(to_qr_text(short), DEFAULT_LIMITS) == (short, False)


def test_wrong_key_fails_signature(signer: Signer) -> None:
    parsed = decode(encode(typical_claims(), signer))
    with pytest.raises(CredentialError) as caught:
        verify(parsed, Signer.generate().public_key)
    assert caught.value.code == "signature_invalid"


def _pycose_key(signer: Signer) -> OKPKey:
    return OKPKey(crv=Ed25519, x=signer.public_key.raw, d=signer.seed_for_storage())


def test_pycose_verifies_what_we_sign(signer: Signer) -> None:
    text = encode(typical_claims(), signer)
    cose, _ = from_qr_text(text, DEFAULT_LIMITS)
    # pycose cannot read tag contents as cbor2 >= 6 returns them (tuples), so it gets the untagged array.
    assert cose[0] == 0xD2
    message = Sign1Message.from_cose_obj(cbor2.loads(cose[1:]), True)
    message.key = OKPKey(crv=Ed25519, x=signer.public_key.raw)
    assert message.verify_signature()
    assert message.phdr[KID] == signer.kid


def test_we_verify_what_pycose_signs(signer: Signer) -> None:
    payload = cbor2.dumps(typical_claims(issue_date=date(2027, 1, 2)).to_cwt())
    message = Sign1Message(phdr={Algorithm: -8, KID: signer.kid}, payload=payload)
    message.key = _pycose_key(signer)
    cose = message.encode(tag=True)
    parsed = decode(to_qr_text(cose))
    verify(parsed, signer.public_key)
    assert parsed.claims.issue_date == date(2027, 1, 2)


def test_compressed_credential_is_detected_by_zlib_header(signer: Signer) -> None:
    cose, _ = from_qr_text(encode(typical_claims(), signer), DEFAULT_LIMITS)
    compressed_text = QR_PREFIX + b45encode(zlib.compress(cose))
    parsed = decode(compressed_text)
    assert parsed.compressed
    verify(parsed, signer.public_key)


def test_decoded_claims_are_complete_equal_and_hashable_like_constructed_ones(signer: Signer) -> None:
    claims = typical_claims(work_type="维修电工")
    decoded = decode(encode(claims, signer)).claims
    assert decoded == claims and hash(decoded) == hash(claims)
    assert set(vars(decoded)) == {f.name for f in dataclasses.fields(CertificateClaims)}
    assert vars(decoded.id_masked) == vars(claims.id_masked)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.level = 1  # type: ignore[misc]
