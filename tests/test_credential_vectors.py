"""Public vectors: the COSE Working Group's EdDSA examples and RFC 9285's base45 examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from credential_fixtures import VECTORS

from skillpass.credential import DEFAULT_LIMITS
from skillpass.credential.base45 import Base45Error, b45decode, b45encode
from skillpass.credential.cose import decode_sign1, sign1, verify_sign1
from skillpass.keys import PublicKey, Signer

ED25519_VECTORS = [
    p for p in sorted((VECTORS / "cose").glob("eddsa-sig-*.json")) if "Ed25519" in p.read_text()
]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_ed25519_vectors_are_there() -> None:
    assert [p.name for p in ED25519_VECTORS] == ["eddsa-sig-01.json"]


@pytest.mark.parametrize("path", ED25519_VECTORS, ids=lambda p: p.name)
def test_cose_vector_reproduces_byte_for_byte(path: Path) -> None:
    vector = _load(path)
    key = vector["input"]["sign0"]["key"]
    signer = Signer(bytes.fromhex(key["d_hex"]))
    assert signer.public_key.raw == bytes.fromhex(key["x_hex"])
    expected = bytes.fromhex(vector["output"]["cbor"])
    parsed = decode_sign1(expected, DEFAULT_LIMITS)
    assert parsed.to_be_signed().hex().upper() == vector["intermediates"]["ToBeSign_hex"]
    produced = sign1(
        vector["input"]["plaintext"].encode(),
        signer,
        protected=dict(cbor2.loads(parsed.protected_bytes)),
        unprotected=dict(parsed.unprotected),
    )
    assert produced == expected


@pytest.mark.parametrize("path", ED25519_VECTORS, ids=lambda p: p.name)
def test_cose_vector_verifies_and_any_changed_byte_fails(path: Path) -> None:
    vector = _load(path)
    key = PublicKey(bytes.fromhex(vector["input"]["sign0"]["key"]["x_hex"]))
    original = bytes.fromhex(vector["output"]["cbor"])
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


RFC9285 = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")]


@pytest.mark.parametrize(("raw", "text"), RFC9285)
def test_base45_rfc_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize("text", ["GGW", ":::", "A", "BB8A", "bb8", "BB8é", "BB\n"])
def test_base45_rejections(text: str) -> None:
    with pytest.raises(Base45Error):
        b45decode(text)


def test_base45_round_trips_every_two_byte_value() -> None:
    data = b"".join(n.to_bytes(2, "big") for n in range(65536))
    assert b45decode(b45encode(data)) == data
