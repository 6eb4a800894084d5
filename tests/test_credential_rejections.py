"""One test per rejection code: each attack or accident is named and gets its own stable code."""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from credential_fixtures import typical_claims

from credential import FRAGMENT_PREFIX, REJECTIONS, CredentialError, decode, encode, verify
from credential.base45 import b45decode, b45encode, base43
from credential.constants import DEFAULT_LIMITS, QR_PREFIX, TAG_COSE_SIGN1, CertificateKey, Claim, Header
from credential.cose import sig_structure
from keys import Signer

SIGNER = Signer.generate()
GOOD = encode(typical_claims(), SIGNER)


def _text(cose: bytes) -> str:
    return QR_PREFIX + b45encode(cose)


def _sign1(
    protected: dict[int, Any] | bytes | None = None,
    unprotected: dict[int, Any] | None = None,
    payload: bytes | None = None,
    signature: bytes | None = None,
    *,
    tag: int = TAG_COSE_SIGN1,
) -> str:
    """A COSE_Sign1 built by hand, signed correctly unless a signature is given."""
    if protected is None:
        protected = {Header.ALG: -8, Header.KID: SIGNER.kid}
    protected_bytes = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    payload = cbor2.dumps(typical_claims().to_cwt()) if payload is None else payload
    if signature is None:
        signature = SIGNER.sign(sig_structure(protected_bytes, payload))
    return _text(cbor2.dumps(cbor2.CBORTag(tag, [protected_bytes, unprotected or {}, payload, signature])))


def _claims_payload(mutate: Callable[[dict[int, Any]], None], *, canonical: bool = True) -> str:
    """Claims changed by ``mutate``, keys in ascending order unless ``canonical`` is False."""
    body = typical_claims().to_cwt()
    mutate(body[Claim.CERTIFICATE])
    inner = body[Claim.CERTIFICATE]
    order = sorted(inner, key=repr) if canonical else sorted(inner, reverse=True)
    return _sign1(payload=cbor2.dumps({Claim.CERTIFICATE: {k: inner[k] for k in order}}))


def _url_payload() -> str:
    return base43().encode(b45decode(GOOD[len(QR_PREFIX) :]))


CASES: dict[str, Callable[[], str]] = {
    "qr_empty": lambda: "",
    "qr_too_long": lambda: QR_PREFIX + "A" * 5000,
    "prefix_missing": lambda: "HC1:" + GOOD[len(QR_PREFIX) :],
    "prefix_version": lambda: "SP1:" + GOOD[len(QR_PREFIX) :],
    "url_invalid": lambda: "HTTPS://VERIFY_X.CN/#" + FRAGMENT_PREFIX + _url_payload(),
    "base43_invalid": lambda: "HTTPS://VERIFY.EXAMPLE.CN/#" + FRAGMENT_PREFIX + "AB%",
    "cbor_not_canonical": lambda: _claims_payload(lambda body: None, canonical=False),
    "cose_unprotected_header": lambda: _sign1(unprotected={99: 1}),
    "base45_invalid": lambda: QR_PREFIX + "GGW",
    "zlib_invalid": lambda: _text(b"\x78\x9c\x00\x01garbage"),
    "zlib_too_large": lambda: _text(zlib.compress(b"\x00" * 1_000_000, 9)),
    "zlib_trailing": lambda: _text(zlib.compress(b"\xd2\x84") + b"\x00"),
    "cbor_invalid": lambda: _text(b"\xd2\x84\x43"),
    "cbor_trailing": lambda: _text(b45decode(_sign1()[len(QR_PREFIX) :]) + b"\x00"),
    "cbor_too_complex": lambda: _text(b"\x81" * 20 + b"\x00"),
    "cose_not_sign1": lambda: _sign1(tag=98),
    "cose_shape": lambda: _text(cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, [b"", {}, b"x"]))),
    "cose_protected_header": lambda: _sign1(protected=cbor2.dumps([1, 2])),
    "cose_unknown_critical": lambda: _sign1(
        protected={Header.ALG: -8, Header.CRIT: [99], Header.KID: SIGNER.kid, 99: 1}
    ),
    "cose_algorithm": lambda: _sign1(protected={Header.ALG: -7, Header.KID: SIGNER.kid}),
    "cose_kid": lambda: _sign1(protected={Header.ALG: -8, Header.KID: SIGNER.kid[:4]}),
    "cose_signature_length": lambda: _sign1(signature=b"\x00" * 63),
    "signature_invalid": lambda: _sign1(signature=b"\x00" * 64),
    "claims_invalid": lambda: _claims_payload(lambda body: body.update({CertificateKey.LEVEL: 9})),
}


def test_every_rejection_code_has_a_case() -> None:
    assert set(CASES) == set(REJECTIONS)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rejection(code: str) -> None:
    with pytest.raises(CredentialError) as caught:
        verify(decode(CASES[code]()), SIGNER.public_key)
    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en


def test_trailing_bytes_after_cose_are_rejected() -> None:
    cose = bytes.fromhex("d2") + cbor2.dumps([b"", {}, b"", b""])
    with pytest.raises(CredentialError) as caught:
        decode(_text(cose + b"\x00"))
    assert caught.value.code == "cbor_trailing"


def _largest_zlib_bomb() -> tuple[str, int]:
    """The zlib bomb of zeros that inflates the most while its QR text still fits the size limit."""
    inflated = 2_800_000
    while len(_text(zlib.compress(bytes(inflated + 100_000), 9))) <= DEFAULT_LIMITS.max_qr_text:
        inflated += 100_000
    return _text(zlib.compress(bytes(inflated), 9)), inflated


def test_a_zlib_bomb_is_inflated_only_up_to_the_limit() -> None:
    """Memory, not only the verdict: decoding the bomb allocates a small multiple of the limit (zlib's
    own 32 KiB window included), never what the bomb would inflate to (measured by tracemalloc)."""
    bomb, inflated = _largest_zlib_bomb()
    bound = 256 * 1024
    assert inflated > 10 * bound and DEFAULT_LIMITS.max_decompressed * 16 <= bound
    tracemalloc.start()
    try:
        with pytest.raises(CredentialError) as caught:
            decode(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "zlib_too_large"
    assert peak < bound, f"decoding a {len(bomb)}-character bomb allocated {peak} bytes at its peak"


ATTACKS: dict[str, Callable[[], str]] = {
    "alg_none_in_protected": lambda: _sign1(protected={Header.ALG: 0, Header.KID: SIGNER.kid}),
    "alg_only_in_unprotected": lambda: _sign1(
        protected={Header.KID: SIGNER.kid}, unprotected={Header.ALG: -8}
    ),
    "alg_overridden_in_unprotected": lambda: _sign1(unprotected={Header.ALG: -7}),
    "kid_only_in_unprotected": lambda: _sign1(
        protected={Header.ALG: -8}, unprotected={Header.KID: SIGNER.kid}
    ),
    "empty_crit": lambda: _sign1(protected={Header.ALG: -8, Header.CRIT: [], Header.KID: SIGNER.kid}),
    "unknown_claim_key": lambda: _claims_payload(lambda body: body.update({99: "x"})),
    "level_as_text": lambda: _claims_payload(lambda body: body.update({CertificateKey.LEVEL: "3"})),
    "missing_serial": lambda: _claims_payload(lambda body: body.pop(CertificateKey.SERIAL)),
    "serial_zero": lambda: _claims_payload(lambda body: body.update({CertificateKey.SERIAL: 0})),
    "serial_beyond_six_digits": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.SERIAL: 10**6})
    ),
    "certificate_number_as_text": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.SERIAL: "Y000011000001263000001"})
    ),
    "explicit_no_work_type": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.WORK_TYPE: "--"})
    ),
    "http_url_form_for_a_public_host": lambda: (
        "HTTP://VERIFY.EXAMPLE.CN/#" + FRAGMENT_PREFIX + _url_payload()
    ),
    "url_form_with_a_path": lambda: "HTTPS://VERIFY.EXAMPLE.CN/X/#" + FRAGMENT_PREFIX + _url_payload(),
    "url_form_with_the_plain_prefix": lambda: "HTTPS://VERIFY.EXAMPLE.CN/#" + GOOD,
    "url_form_with_a_base45_space": lambda: "HTTPS://VERIFY.EXAMPLE.CN/#" + FRAGMENT_PREFIX + "A B",
    "status_index_out_of_range": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.STATUS: [0, 2**20]})
    ),
    "float_in_claims": lambda: _sign1(payload=cbor2.dumps({Claim.CERTIFICATE: 1.5})),
    "tag_in_claims": lambda: _sign1(payload=cbor2.dumps({Claim.CERTIFICATE: cbor2.CBORTag(1, 0)})),
    "regex_tag_in_claims": lambda: _sign1(
        payload=cbor2.dumps({Claim.CERTIFICATE: cbor2.CBORTag(35, "(a+)+$")})
    ),
    "deeply_nested_claims": lambda: _sign1(payload=b"\xa1\x3a\x00\x01\x00\x00" + b"\x81" * 300 + b"\x00"),
    "indefinite_length_array": lambda: _text(b"\xd2\x9f\xff"),
    "deep_nesting_bomb": lambda: _text(b"\x81" * 5000 + b"\x00"),
    "huge_declared_array": lambda: _text(b"\xd2\x9b\x00\x00\x00\x00\xff\xff\xff\xff"),
    "lowercase_base45": lambda: GOOD.lower().replace("sp2:", QR_PREFIX),
    "alg_as_a_list": lambda: _sign1(protected={Header.ALG: [-8], Header.KID: SIGNER.kid}),
    "alg_as_a_map": lambda: _sign1(protected={Header.ALG: {1: -8}, Header.KID: SIGNER.kid}),
    "crit_label_as_a_list": lambda: _sign1(
        protected={Header.ALG: -8, Header.CRIT: [[1]], Header.KID: SIGNER.kid}
    ),
    "duplicate_alg_in_protected": lambda: _sign1(protected=b"\xa3\x01\x26\x01\x27\x04\x48" + SIGNER.kid),
    "trailing_bytes_after_claims": lambda: _sign1(
        payload=cbor2.dumps(typical_claims().to_cwt()) + b"\xff\xff"
    ),
    "escape_sequence_in_name": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.HOLDER_NAME: "张\x1b[31m三"})
    ),
    "bidi_override_in_name": lambda: _claims_payload(
        lambda body: body.update({CertificateKey.HOLDER_NAME: "张\u202e三"})
    ),
    "duplicate_key_in_claims": lambda: _sign1(payload=b"\xa1\x3a\x00\x01\x00\x00\xa2\x03\x03\x03\x04"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_named_attacks_are_rejected(attack: str) -> None:
    with pytest.raises(CredentialError) as caught:
        verify(decode(ATTACKS[attack]()), SIGNER.public_key)
    assert caught.value.code in REJECTIONS


@pytest.mark.parametrize("cut", [1, 2, 10, 60, len(GOOD) - len(QR_PREFIX) - 3])
def test_truncated_text_is_rejected(cut: int) -> None:
    with pytest.raises(CredentialError):
        verify(decode(GOOD[:-cut]), SIGNER.public_key)


def test_every_changed_payload_byte_fails() -> None:
    parsed = decode(GOOD)
    payload = parsed.sign1.payload
    protected = parsed.sign1.protected_bytes
    for i in range(len(payload)):
        tampered = bytearray(payload)
        tampered[i] ^= 0x01
        text = _sign1(protected=protected, payload=bytes(tampered), signature=parsed.sign1.signature)
        with pytest.raises(CredentialError) as caught:
            verify(decode(text), SIGNER.public_key)
        assert caught.value.code in {
            "signature_invalid",
            "claims_invalid",
            "cbor_trailing",
            "cbor_not_canonical",
        }
