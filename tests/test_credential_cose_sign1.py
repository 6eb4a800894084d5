"""``cose.sign1`` writes its tagged array by concatenation: byte for byte what cbor2 writes for the same
headers, payload and signature, at every length boundary of a byte string's head, with the default
header, another protected header, an empty protected header and an unprotected one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2
import pytest

from credential.constants import SIGN_ALGORITHM, Header
from credential.cose import sig_structure, sign1
from keys import Signer

SIGNER = Signer(bytes(range(32)))


def reference(
    payload: bytes, signer: Signer, protected: Mapping[Any, Any], unprotected: Mapping[Any, Any]
) -> bytes:
    """RFC 9052 §4.2 through cbor2 alone: the protected map's bytes, then the tagged array of four."""
    protected_bytes = cbor2.dumps({int(k): v for k, v in protected.items()}) if protected else b""
    signature = signer.sign(sig_structure(protected_bytes, payload))
    return cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, dict(unprotected), payload, signature]))


LENGTHS = [0, 1, 23, 24, 255, 256, 65535, 65536]


@pytest.mark.parametrize("length", LENGTHS)
def test_the_default_header_signs_as_cbor2_would(length: int) -> None:
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    default = {Header.ALG: SIGN_ALGORITHM, Header.KID: SIGNER.kid}
    assert sign1(payload, SIGNER) == reference(payload, SIGNER, default, {})


@pytest.mark.parametrize("length", LENGTHS)
def test_other_headers_sign_as_cbor2_would(length: int) -> None:
    payload = bytes(length)
    typed: dict[int, Any] = {
        Header.ALG: SIGN_ALGORITHM,
        Header.KID: SIGNER.kid,
        Header.TYP: "application/x" * (length % 40),
    }
    for protected, unprotected in ((typed, {}), ({}, {}), (typed, {99: 1, Header.KID: b"k" * 30})):
        signed = sign1(payload, SIGNER, protected=protected, unprotected=unprotected)
        assert signed == reference(payload, SIGNER, protected, unprotected)


def test_each_key_signs_with_its_own_kid_in_the_header() -> None:
    """The default header is encoded once per key: a second key must not get the first key's."""
    for seed in range(70):  # more keys than the header cache holds
        signer = Signer(bytes([seed]) * 32)
        default = {Header.ALG: SIGN_ALGORITHM, Header.KID: signer.kid}
        assert sign1(b"payload", signer) == reference(b"payload", signer, default, {})
    assert sign1(b"payload", SIGNER) == reference(b"payload", SIGNER, {1: -8, 4: SIGNER.kid}, {})
