"""The three operations on a credential: ``encode`` (sign), ``decode`` (parse, no trust decision)
and ``verify`` (check the signature against a key the caller chose to trust)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import NoReturn

import cbor2

from credential import cose
from credential.claims import CertificateClaims
from credential.constants import DEFAULT_LIMITS, Limits
from credential.errors import CredentialError
from credential.qr_text import from_qr_text, to_qr_text
from keys import PublicKey, Signer


def _refuse_tag(*_: object) -> NoReturn:
    raise ValueError("tags are not allowed in the claims")


# Every tag cbor2 would otherwise decode itself (dates, bignums, shared references, regular
# expressions, MIME, sets, ...); any other tag goes to ``_refuse_tag``.
_REFUSED_SEMANTIC_TAGS = dict.fromkeys(
    (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 100, 256, 258, 260, 261, 262, 263, 270, 1004, 55799),
    _refuse_tag,
)


@dataclass(frozen=True)
class ParsedCredential:
    """A credential whose format is valid and whose signature is not yet checked."""

    sign1: cose.Sign1
    claims: CertificateClaims
    compressed: bool
    cose_bytes: bytes  # as signed and published: the registry's record holds their SHA-256

    @property
    def kid(self) -> bytes:
        """The 8-byte key id from the protected header."""
        return self.sign1.kid


def encode(claims: CertificateClaims, signer: Signer) -> str:
    """Sign the claims as a CWT in COSE_Sign1 and return the QR text."""
    payload = cbor2.dumps(claims.to_cwt())
    return to_qr_text(cose.sign1(payload, signer))


def decode(text: str, limits: Limits = DEFAULT_LIMITS) -> ParsedCredential:
    """Parse QR text through every format check; raises ``CredentialError`` with the first failure.

    The payload is decoded by cbor2 in its strict mode instead of being pre-scanned in Python
    (the costliest step after the signature): nesting is capped at ``max_cbor_depth``,
    indefinite lengths, duplicate keys and every tag are refused, the payload's size (already
    bounded) bounds its item count, and the strict claims parser refuses every shape but the
    certificate's (floats included).
    """
    data, compressed = from_qr_text(text, limits)
    if len(data) > limits.max_decompressed:
        raise CredentialError("zlib_too_large", "the credential is larger than any valid one")
    message = cose.decode_sign1(data, limits)
    cose.require_eddsa_with_kid(message)
    raw_claims = _strict_cbor(message.payload, limits)
    return ParsedCredential(message, CertificateClaims.from_cwt(raw_claims), compressed, data)


def _strict_cbor(payload: bytes, limits: Limits) -> object:
    """Exactly one strictly encoded item: no tags, no indefinite lengths, no duplicate keys, no
    nesting beyond the limit, and nothing after it."""
    stream = io.BytesIO(payload)
    decoder = cbor2.CBORDecoder(
        stream,
        max_depth=limits.max_cbor_depth,
        allow_indefinite=False,
        allow_duplicate_keys=False,
        tag_hook=_refuse_tag,
        semantic_decoders=_REFUSED_SEMANTIC_TAGS,
    )
    try:
        item = decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as e:
        raise CredentialError("claims_invalid", f"the payload is not strict CBOR: {e}") from e
    if stream.tell() != len(payload):
        raise CredentialError("cbor_trailing", "bytes follow the claims")
    return item


def verify(parsed: ParsedCredential, key: PublicKey) -> None:
    """Raise ``signature_invalid`` unless ``key`` (matching the kid) signed this credential."""
    if key.kid != parsed.kid:
        raise CredentialError("signature_invalid", "the key's id differs from the credential's kid")
    cose.verify_sign1(parsed.sign1, key)
