"""COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519, and nothing else.

``decode_sign1`` checks structure; ``require_eddsa_with_kid`` applies skillpass's header policy
(algorithm only from the protected header, an 8-byte ``kid`` there, no unknown critical
parameters); ``verify_sign1`` checks the signature. Callers run them in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2

from credential.cbor_guard import check_structure

__all__ = [
    "Sign1",
    "canonical_sign1",
    "check_structure",
    "decode_sign1",
    "require_eddsa_with_kid",
    "sig_structure",
    "sign1",
    "verify_sign1",
]
from credential.constants import (
    ACCEPTED_ALGORITHMS,
    KID_LENGTH,
    SIGN_ALGORITHM,
    SIGNATURE_LENGTH,
    TAG_COSE_SIGN1,
    Header,
    Limits,
)
from credential.errors import CredentialError
from credential.frozen import assemble
from keys import PublicKey, Signer

_KID = Header.KID  # bound once: an IntEnum member lookup costs ~100 ns (Python 3.11), per credential
_UNDERSTOOD_HEADERS = frozenset({Header.ALG, Header.CRIT, Header.CONTENT_TYPE, Header.KID, Header.TYP})


@dataclass(frozen=True)
class Sign1:
    """A structurally valid COSE_Sign1; nothing about it is trusted yet."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def kid(self) -> bytes:
        """The protected ``kid`` (empty when absent)."""
        kid = self.protected.get(_KID, b"")
        return kid if isinstance(kid, bytes) else b""

    def to_be_signed(self) -> bytes:
        """The Sig_structure bytes the signature covers."""
        return sig_structure(self.protected_bytes, self.payload)


def sig_structure(protected_bytes: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """``["Signature1", protected, external_aad, payload]`` as CBOR (RFC 9052 §4.4).

    Written by concatenation, byte for byte what ``cbor2.dumps`` of that array writes (a test
    compares them), at a fifth of its cost: every verification builds it.
    """
    return b"".join(
        (
            _SIGNATURE1_HEAD,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            _bstr_head(len(external_aad)),
            external_aad,
            _bstr_head(len(payload)),
            payload,
        )
    )


# An array of four, then the text "Signature1".
_SIGNATURE1_HEAD = b"\x84\x6aSignature1"


def _bstr_head(length: int) -> bytes:
    """The head of a CBOR byte string of ``length`` bytes, in the shortest form (RFC 8949 §3)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x1_0000_0000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


def sign1(
    payload: bytes,
    signer: Signer,
    *,
    protected: Mapping[int, Any] | None = None,
    unprotected: Mapping[int, Any] | None = None,
) -> bytes:
    """Sign ``payload``; by default the protected header is ``{alg: EdDSA, kid: signer's kid}``.

    The tagged array is written by concatenation, byte for byte what ``cbor2.dumps`` writes (a test
    compares them), and the default header is encoded once per key: every credential is signed here,
    and two ``cbor2.dumps`` calls cost a fifth of the signature.
    """
    protected_bytes = _default_protected(signer.kid) if protected is None else _protected_bytes(protected)
    signature = signer.sign(sig_structure(protected_bytes, payload))
    return b"".join(
        (
            _SIGN1_HEAD,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            cbor2.dumps(dict(unprotected)) if unprotected else _EMPTY_MAP_BYTES,
            _bstr_head(len(payload)),
            payload,
            _bstr_head(len(signature)),
            signature,
        )
    )


# Tag 18 (COSE_Sign1), then an array of four; an empty map (the unprotected header, as issued).
_SIGN1_HEAD = bytes((0xC0 | TAG_COSE_SIGN1, 0x84))
_EMPTY_MAP_BYTES = b"\xa0"


def _protected_bytes(protected: Mapping[int, Any]) -> bytes:
    """The protected header's bytes: its map, or nothing when it is empty."""
    return cbor2.dumps({int(k): v for k, v in protected.items()}) if protected else b""


@lru_cache(maxsize=64)
def _default_protected(kid: bytes) -> bytes:
    """``{alg: EdDSA, kid}``'s bytes, encoded once per key."""
    return _protected_bytes({Header.ALG: SIGN_ALGORITHM, Header.KID: kid})


def decode_sign1(data: bytes, limits: Limits) -> Sign1:
    """Check CBOR well-formedness within limits, then the tag and the four-element shape."""
    fast = canonical_sign1(data)
    if fast is not None:
        return fast
    check_structure(data, limits)
    try:
        item = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as e:
        raise CredentialError("cbor_invalid", str(e)) from e
    if not isinstance(item, cbor2.CBORTag) or item.tag != TAG_COSE_SIGN1:
        raise CredentialError("cose_not_sign1")
    if cbor2.dumps(item, canonical=True) != data:  # one content, one byte form (spec §4)
        raise CredentialError("cbor_not_canonical", "the COSE_Sign1 is not deterministically encoded")
    body = item.value
    if not isinstance(body, list | tuple) or len(body) != 4:
        raise CredentialError("cose_shape", "expected an array of four")
    protected_bytes, unprotected, payload, signature = body
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, Mapping):
        raise CredentialError("cose_shape", "headers have the wrong types")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CredentialError("cose_shape", "payload and signature must be byte strings")
    protected = _protected_map(protected_bytes, limits)
    return Sign1(protected_bytes, protected, unprotected, payload, signature)


def require_eddsa_with_kid(message: Sign1) -> None:
    """skillpass's header policy; the algorithm is never taken from the unprotected header, and the
    unprotected header is empty: anything there is unsigned, so it would make the bytes malleable.
    (Labels are integers: ``_protected_map`` refuses CBOR ``true`` for label 1.)"""
    crit = message.protected.get(Header.CRIT)
    if crit is not None and (
        not isinstance(crit, list | tuple)
        or not crit
        or any(type(label) is not int or label not in _UNDERSTOOD_HEADERS for label in crit)
    ):
        raise CredentialError("cose_unknown_critical")
    alg = message.protected.get(Header.ALG)
    if Header.ALG in message.unprotected or type(alg) is not int or alg not in ACCEPTED_ALGORITHMS:
        raise CredentialError("cose_algorithm")
    if Header.KID in message.unprotected or len(message.kid) != KID_LENGTH:
        raise CredentialError("cose_kid")
    if message.unprotected:
        raise CredentialError("cose_unprotected_header")
    if len(message.signature) != SIGNATURE_LENGTH:
        raise CredentialError("cose_signature_length")


def verify_sign1(message: Sign1, key: PublicKey) -> None:
    """Raise ``signature_invalid`` unless ``key`` signed exactly these headers and payload."""
    if not key.verify(message.to_be_signed(), message.signature):
        raise CredentialError("signature_invalid")


# The exact bytes skillpass writes before the kid: tag 18, array of 4, bstr(13) holding the map
# {1: -8, 4: bstr(8)}. Credentials in this form (all that skillpass issues) are read by slicing.
_CANONICAL_HEAD = bytes.fromhex("d2844da201270448")
_CANONICAL_HEADER_PREFIX = bytes.fromhex("a201270448")
_EMPTY_MAP = 0xA0
_SIGNATURE_HEAD = bytes.fromhex("5840")


def canonical_sign1(data: bytes) -> Sign1 | None:
    """Slice a credential in skillpass's own canonical layout; None sends it down the general path.

    This is the verifier's hot path: it avoids two CBOR decodes for the common case and accepts
    nothing the general path would reject, since anything unexpected returns None. What it
    accepts also passes ``require_eddsa_with_kid`` by construction (protected header exactly
    ``{alg: EdDSA, kid: 8 bytes}``, empty unprotected header, a 64-byte signature), so a caller
    holding its answer need not run that policy again.
    """
    if not data.startswith(_CANONICAL_HEAD) or len(data) < 25 or data[16] != _EMPTY_MAP:
        return None
    pos = 17
    initial = data[pos]
    if initial >> 5 != 2:  # payload must be a byte string
        return None
    info = initial & 0x1F
    if info < 24:
        length, pos = info, pos + 1
    elif info == 24:
        length, pos = data[pos + 1], pos + 2
    elif info == 25:
        length, pos = int.from_bytes(data[pos + 1 : pos + 3], "big"), pos + 3
    else:
        return None
    if (info == 24 and length < 24) or (info == 25 and length < 256):  # a longer length field than needed
        return None
    payload = data[pos : pos + length]
    pos += length
    if len(payload) != length or data[pos : pos + 2] != _SIGNATURE_HEAD or len(data) != pos + 66:
        return None
    return assemble(
        Sign1,
        {
            "protected_bytes": data[3:16],
            # plain int labels (alg, kid), as cbor2 would decode them
            "protected": {1: -8, 4: data[8:16]},
            "unprotected": {},
            "payload": payload,
            "signature": data[pos + 2 :],
        },
    )


def _protected_map(protected_bytes: bytes, limits: Limits) -> Mapping[Any, Any]:
    if protected_bytes == b"":
        return {}
    try:
        check_structure(protected_bytes, limits)
        header = cbor2.loads(protected_bytes, allow_duplicate_keys=False)
    except (CredentialError, cbor2.CBORDecodeError, ValueError, TypeError) as e:
        raise CredentialError("cose_protected_header", str(e)) from e
    if not isinstance(header, dict):
        raise CredentialError("cose_protected_header")
    if any(map(bool.__instancecheck__, header)) or not all(map(int.__instancecheck__, header)):
        raise CredentialError("cose_protected_header", "header labels must be integers (true is not 1)")
    if cbor2.dumps(header, canonical=True) != protected_bytes:
        raise CredentialError("cbor_not_canonical", "the protected header is not deterministically encoded")
    return header
