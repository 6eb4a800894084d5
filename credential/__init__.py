"""The wire format, pure and without I/O: claims ⇄ CWT ⇄ COSE_Sign1 ⇄ base45 QR text, and status lists."""

from credential.claims import CertificateClaims, MaskedId
from credential.codec import ParsedCredential, decode, encode, plain_form, url_form, verify
from credential.constants import DEFAULT_LIMITS, FRAGMENT_PREFIX, QR_PREFIX, Limits
from credential.errors import REJECTIONS, CredentialError
from credential.qr_text import verifier_origin

__all__ = [
    "DEFAULT_LIMITS",
    "FRAGMENT_PREFIX",
    "QR_PREFIX",
    "REJECTIONS",
    "CertificateClaims",
    "CredentialError",
    "Limits",
    "MaskedId",
    "ParsedCredential",
    "decode",
    "encode",
    "plain_form",
    "url_form",
    "verifier_origin",
    "verify",
]
