"""The wire format, pure and without I/O: claims ⇄ CWT ⇄ COSE_Sign1 ⇄ base45 QR text, and status lists."""

from credential.claims import CertificateClaims, MaskedId
from credential.codec import ParsedCredential, decode, encode, verify
from credential.constants import DEFAULT_LIMITS, QR_PREFIX, Limits
from credential.errors import REJECTIONS, CredentialError

__all__ = [
    "DEFAULT_LIMITS",
    "QR_PREFIX",
    "REJECTIONS",
    "CertificateClaims",
    "CredentialError",
    "Limits",
    "MaskedId",
    "ParsedCredential",
    "decode",
    "encode",
    "verify",
]
