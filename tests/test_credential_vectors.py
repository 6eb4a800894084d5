"""Public vectors: the COSE Working Group's EdDSA examples and RFC 9285's base45 examples."""

from __future__ import annotations

import json
from typing import Any

import cbor2
import pytest
from credential_fixtures import vector

from credential import DEFAULT_LIMITS
from credential.base45 import Base45Error, b45decode, b45encode
from credential.cose import decode_sign1, sign1, verify_sign1
from keys import PublicKey, Signer

# Named, not globbed: a vector file that goes missing fails its tests instead of leaving none to run.
ED25519_VECTORS = ["eddsa-sig-01.json"]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(vector("cose", name).read_text())
    return data


def test_the_ed25519_vectors_are_the_only_ed25519_sign1_examples() -> None:
    sign1_examples = ["eddsa-sig-01.json", "eddsa-sig-02.json"]
    assert [n for n in sign1_examples if "Ed25519" in vector("cose", n).read_text()] == ED25519_VECTORS


@pytest.mark.parametrize("name", ED25519_VECTORS)
def test_cose_vector_reproduces_byte_for_byte(name: str) -> None:
    case = _load(name)
    key = case["input"]["sign0"]["key"]
    signer = Signer(bytes.fromhex(key["d_hex"]))
    assert signer.public_key.raw == bytes.fromhex(key["x_hex"])
    expected = bytes.fromhex(case["output"]["cbor"])
    parsed = decode_sign1(expected, DEFAULT_LIMITS)
    assert parsed.to_be_signed().hex().upper() == case["intermediates"]["ToBeSign_hex"]
    produced = sign1(
        case["input"]["plaintext"].encode(),
        signer,
        protected=dict(cbor2.loads(parsed.protected_bytes)),
        unprotected=dict(parsed.unprotected),
    )
    assert produced == expected


@pytest.mark.parametrize("name", ED25519_VECTORS)
def test_cose_vector_verifies_and_any_changed_byte_fails(name: str) -> None:
    case = _load(name)
    key = PublicKey(bytes.fromhex(case["input"]["sign0"]["key"]["x_hex"]))
    original = bytes.fromhex(case["output"]["cbor"])
    parsed = decode_sign1(original, DEFAULT_LIMITS)
    verify_sign1(parsed, key)
    # Every byte the signature covers: protected header, payload, signature (not the unprotected kid).
    covered = [
        original.index(part) + i
        for part in (parsed.protected_bytes, parsed.payload, parsed.signature)
        for i in range(len(part))
    ]
    for i in covered:
        tampered = bytearray(original)
        tampered[i] ^= 0x40
        with pytest.raises(Exception) as caught:
            verify_sign1(decode_sign1(bytes(tampered), DEFAULT_LIMITS), key)
        assert type(caught.value).__name__ == "CredentialError", f"byte {i}"


RFC9285: dict[str, Any] = json.loads(vector("rfc9285", "examples.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", RFC9285["encode"], ids=lambda c: c["base45"])
def test_base45_rfc_examples(case: dict[str, str]) -> None:
    raw = case["bytes_utf8"].encode()
    assert b45encode(raw) == case["base45"]
    assert b45decode(case["base45"]) == raw


def test_base45_rfc_rejections_are_all_there() -> None:
    assert [c["base45"] for c in RFC9285["reject"]] == ["GGW", ":::", "A"]


@pytest.mark.parametrize("text", [*(c["base45"] for c in RFC9285["reject"]), "BB8A", "bb8", "BB8é", "BB\n"])
def test_base45_rejections(text: str) -> None:
    with pytest.raises(Base45Error):
        b45decode(text)


def test_base45_round_trips_every_two_byte_value() -> None:
    data = b"".join(n.to_bytes(2, "big") for n in range(65536))
    assert b45decode(b45encode(data)) == data
