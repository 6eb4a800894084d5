"""Round trips of the credential wire format and its interoperability with an independent COSE library."""

from __future__ import annotations

import dataclasses
import random
import zlib
from datetime import date

import cbor2
import pytest
from credential_fixtures import TYPICAL_INSTITUTION, example, typical_claims
from pycose.headers import KID, Algorithm
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

from common import qrimage
from credential import CertificateClaims, CredentialError, decode, encode, plain_form, url_form, verify
from credential.base45 import b45encode
from credential.constants import DEFAULT_LIMITS, QR_PREFIX, CertificateKey, Claim
from credential.cose import sig_structure
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
    assert not parsed.claims.institution_known
    assert parsed.claims.certificate_number == "?????????????263000001"
    completed = parsed.claims.with_institution(TYPICAL_INSTITUTION)
    assert completed == claims and hash(completed) == hash(claims) and repr(completed) == repr(claims)
    assert parsed.kid == signer.kid
    assert (parsed.form, parsed.verifier_host) == ("plain", None)
    verify(parsed, signer.public_key)


def test_url_form_round_trip_carries_the_same_bytes(signer: Signer) -> None:
    claims = typical_claims()
    url = encode(claims, signer, verifier_url="https://Verify.Example.cn/")
    assert url.startswith("HTTPS://VERIFY.EXAMPLE.CN/#SP2.")
    assert " " not in url and "%" not in url
    parsed = decode(url)
    assert (parsed.form, parsed.verifier_host) == ("url", "verify.example.cn")
    completed = parsed.claims.with_institution(TYPICAL_INSTITUTION)
    assert completed == claims and hash(completed) == hash(claims) and repr(completed) == repr(claims)
    verify(parsed, signer.public_key)
    plain = plain_form(url)
    assert decode(plain).cose_bytes == parsed.cose_bytes
    assert url_form(plain, "https://verify.example.cn") == url
    lowered = url.lower()[: len("https://verify.example.cn/#")] + url[len("HTTPS://VERIFY.EXAMPLE.CN/#") :]
    assert decode(lowered).cose_bytes == parsed.cose_bytes  # a camera may lower scheme and host


@pytest.mark.parametrize(
    "verifier_url",
    [
        "http://verify.example.cn",
        "https://verify.example.cn/check",
        "https://",
        "ftp://x.cn",
        "https://a_b.cn",
    ],
)
def test_url_form_needs_an_https_origin_without_path(signer: Signer, verifier_url: str) -> None:
    with pytest.raises(ValueError):
        encode(typical_claims(), signer, verifier_url=verifier_url)


def test_url_form_allows_plain_http_only_on_this_machine(signer: Signer) -> None:
    url = encode(typical_claims(), signer, verifier_url="http://127.0.0.1:8701")
    assert url.startswith("HTTP://127.0.0.1:8701/#SP2.")
    assert decode(url).verifier_host == "127.0.0.1:8701"
    forged = "HTTP://VERIFY.EXAMPLE.CN/" + url[len("HTTP://127.0.0.1:8701/") :]
    with pytest.raises(CredentialError) as caught:
        decode(forged)
    assert caught.value.code == "url_invalid"


def test_certificate_number_is_rebuilt_only_from_an_ascii_institution_code(signer: Signer) -> None:
    parsed = decode(encode(typical_claims(), signer)).claims
    for code in ("Y０００011000001", "Y00001100000", "X000011000001", "Y000011000001\n"):
        assert not parsed.with_institution(code).institution_known
    assert parsed.with_institution(TYPICAL_INSTITUTION).certificate_number == "Y000011000001263000001"


@pytest.mark.parametrize(
    "number",
    ["Y000011000001253000001", "Y000011000001264000001", "Y000011000001263000000", "Y00001100000126３000001"],
)
def test_a_number_that_disagrees_with_year_or_level_cannot_be_encoded(signer: Signer, number: str) -> None:
    with pytest.raises(ValueError):
        encode(typical_claims(certificate_number=number), signer)


def test_examples_round_trip_and_fit_the_qr_budget(signer: Signer) -> None:
    for name, plain_max, url_max in (("typical", 10, 11), ("longest", 14, 15)):
        claims = CertificateClaims.from_certificate(example(name))
        plain = encode(claims, signer)
        url = url_form(plain, "https://verify.skillpass.cn")
        for text in (plain, url):
            assert decode(text).claims.with_institution(example(name)["institution_code"]) == claims
        assert qrimage.qr_version(plain) <= plain_max
        assert qrimage.qr_version(url) <= url_max


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
    payload = cbor2.dumps(
        typical_claims(issue_date=date(2027, 1, 2), certificate_number="Y000011000001273000001").to_cwt()
    )
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
    decoded = decode(encode(claims, signer)).claims.with_institution(TYPICAL_INSTITUTION)
    assert decoded == claims and hash(decoded) == hash(claims)
    assert set(vars(decoded)) == {f.name for f in dataclasses.fields(CertificateClaims)}
    assert vars(decoded.id_masked) == vars(claims.id_masked)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.level = 1  # type: ignore[misc]


@pytest.mark.parametrize("length", [0, 1, 23, 24, 255, 256, 65535, 65536])
def test_sig_structure_is_the_cbor_array_byte_for_byte(length: int) -> None:
    """The concatenated Sig_structure equals cbor2's encoding of the array at every length boundary."""
    data = bytes(range(256)) * (length // 256 + 1)
    protected, payload, aad = data[: length % 40], data[:length], data[: length // 2]
    assert sig_structure(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])
    assert sig_structure(protected, payload, aad) == cbor2.dumps(["Signature1", protected, aad, payload])
