"""Every wire label and limit of the credential format, named once.

COSE (RFC 9052) header labels and algorithm ids, CWT (RFC 8392) claim keys, the skillpass
certificate claim's own small keys, the QR text prefix, and the hard size limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# --- COSE -------------------------------------------------------------------------------------
TAG_COSE_SIGN1 = 18


class Header(IntEnum):
    """COSE common header parameter labels (RFC 9052 §3.1)."""

    ALG = 1
    CRIT = 2
    CONTENT_TYPE = 3
    KID = 4
    TYP = 16  # RFC 9596


class Algorithm(IntEnum):
    """The only algorithms accepted: EdDSA (RFC 9053) and Ed25519 (RFC 9864)."""

    EDDSA = -8
    ED25519 = -19


ACCEPTED_ALGORITHMS = frozenset({Algorithm.EDDSA, Algorithm.ED25519})
SIGN_ALGORITHM = Algorithm.EDDSA
KID_LENGTH = 8
SIGNATURE_LENGTH = 64

# --- CWT --------------------------------------------------------------------------------------


class Claim(IntEnum):
    """CWT claim keys used by skillpass credentials and status list tokens."""

    ISS = 1
    SUB = 2
    EXP = 4
    IAT = 6
    CERTIFICATE = -65537  # private use (< -65536): the skillpass certificate map


class CertificateKey(IntEnum):
    """Keys inside the certificate claim map; small integers keep the QR small."""

    SERIAL = 1  # the certificate number's 6-digit serial, as an integer 1..999999 (see ``claims``)
    OCCUPATION = 2  # occupation code d-dd-dd-dd as the integer of its 7 digits
    LEVEL = 3  # 1..5
    HOLDER_NAME = 4  # text
    ID_TYPE = 5  # 1..6, index into schemas.vocabulary.ID_TYPES plus one
    ID_MASKED = 6  # [length of the full number, its last characters]
    WORK_TYPE = 7  # text; absent when the certificate prints "--"
    ISSUE_DATE = 8  # days since 1970-01-01
    STATUS = 9  # [status list id, index] — the compact form of the Token Status List claim


NO_WORK_TYPE = "--"
ID_VISIBLE_SUFFIX = 4

# --- QR text ----------------------------------------------------------------------------------
QR_PREFIX = "SP2:"  # plain form: skillpass credential, wire version 2, then base45
FRAGMENT_PREFIX = "SP2."  # URL form, after "#": wire version 2, then the fragment-safe base43
ZLIB_FIRST_BYTE = 0x78  # zlib header CMF for deflate with a 32K window; COSE_Sign1 starts 0xD2


@dataclass(frozen=True)
class Limits:
    """Hard limits checked before any expensive work, so hostile input costs nothing."""

    max_qr_text: int = 4296  # the most alphanumeric characters any QR code holds (version 40-L)
    max_decompressed: int = 4096
    max_cbor_depth: int = 8
    max_cbor_items: int = 256


DEFAULT_LIMITS = Limits()
