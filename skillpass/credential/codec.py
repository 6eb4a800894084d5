"""The three operations on a credential: ``encode`` (sign), ``decode`` (parse, no trust decision)
and ``verify`` (check the signature against a key the caller chose to trust)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import cbor2

from skillpass.credential import cose
from skillpass.credential.claims import CertificateClaims
from skillpass.credential.constants import DEFAULT_LIMITS, Limits
from skillpass.credential.errors import CredentialError
from skillpass.credential.qr_text import from_qr_text, to_qr_text
from skillpass.keys import PublicKey, Signer

# Initial bytes of CBOR tags (major type 6, 0xC0–0xDB) and floats (0xF9–0xFB).
_MAYBE_TAG_OR_FLOAT = re.compile(rb"[\xc0-\xdb\xf9-\xfb]")


@dataclass(frozen=True)
class ParsedCredential:
    """A credential whose format is valid and whose signature is not yet checked."""

    sign1: cose.Sign1
    claims: CertificateClaims
    compressed: bool

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

    The payload's structural pre-scan is the costliest step after the signature, so it runs only
    when a byte that could start a tag or a float appears anywhere in the payload. Without such a
    byte the payload holds only integers, strings, arrays and maps; its size (already bounded)
    bounds the item count, cbor2 neither preallocates nor nests past 400 levels, and the strict
    claims parser refuses every shape but the certificate's.
    """
    data, compressed = from_qr_text(text, limits)
    if len(data) > limits.max_decompressed:
        raise CredentialError("zlib_too_large", "the credential is larger than any valid one")
    message = cose.decode_sign1(data, limits)
    cose.require_eddsa_with_kid(message)
    try:
        if _MAYBE_TAG_OR_FLOAT.search(message.payload):
            cose.check_structure(message.payload, limits)
        raw_claims = cbor2.loads(message.payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as e:
        raise CredentialError("claims_invalid", "the payload is not CBOR") from e
    except CredentialError as e:
        raise CredentialError("claims_invalid", e.detail or e.code) from e
    return ParsedCredential(message, CertificateClaims.from_cwt(raw_claims), compressed)


def verify(parsed: ParsedCredential, key: PublicKey) -> None:
    """Raise ``signature_invalid`` unless ``key`` (matching the kid) signed this credential."""
    if key.kid != parsed.kid:
        raise CredentialError("signature_invalid", "the key's id differs from the credential's kid")
    cose.verify_sign1(parsed.sign1, key)
