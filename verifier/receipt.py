"""Verification receipts: what a verifier service attests it checked, signed with its own key.

An HR department files a receipt as proof of due diligence, so anyone must be able to check it
later, offline, with nothing but the service's public key. The form is a JWS in compact
serialisation (RFC 7515) with EdDSA over Ed25519 (RFC 8037): ``header.payload.signature``, each
base64url — one string, as the batch answer's ``receipt`` carries it and as the page offers it
for download. The payload is canonical JSON (sorted keys, no spaces):

``{"typ": "skillpass-receipt", "v": 1, "issued_at": unix, "verifier": host, "trust": {"version",
"issued_at"}, "checkpoint": the registry's latest signed audit checkpoint the service had (or
null), "results": [{"sha256", "outcome", "code"}, ...], "count": n}``

``sha256`` is the SHA-256 of the credential's COSE bytes for one of our QR codes (the registry's
record is keyed by the same digest), of the QR text for another QR code, and of the file for a
file in which no QR code was found. No name or ID number is in a receipt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from common.errors import CataloguedError
from keys import PublicKey, Signer
from keys.recipes import b64url, b64url_decode

__all__ = ["RECEIPT_TYPE", "OpenedReceipt", "ReceiptError", "open_receipt", "sign_receipt"]

RECEIPT_TYPE: Final = "skillpass-receipt"
_HEADER_TYPE: Final = "skillpass-receipt+jws"
_MAX_RECEIPT_BYTES: Final = 8 * 1024 * 1024

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "receipt_malformed": ("核验回执格式不正确或已损坏", "the receipt is malformed or damaged"),
    "receipt_algorithm": ("核验回执不是用 Ed25519 签名的", "the receipt is not signed with Ed25519"),
    "receipt_wrong_key": (
        "核验回执不是用这把核验服务密钥签名的",
        "the receipt was not signed with this verifier key",
    ),
    "receipt_signature": (
        "核验回执的签名无效：内容已被改动",
        "the receipt's signature is invalid: its content was altered",
    ),
}


class ReceiptError(CataloguedError):
    """A receipt that is not intact: a stable code and messages in both languages."""

    catalogue = _MESSAGES


@dataclass(frozen=True)
class OpenedReceipt:
    """A receipt whose signature verified: what it attests."""

    payload: dict[str, Any]
    kid: str


def canonical_json(value: Any) -> bytes:
    """The one byte form we sign: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_receipt(payload: dict[str, Any], signer: Signer) -> str:
    """The receipt string: a compact JWS over the canonical JSON of ``payload``."""
    header = {"alg": "EdDSA", "typ": _HEADER_TYPE, "kid": b64url(signer.kid)}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}"
    return f"{signing_input}.{b64url(signer.sign(signing_input.encode('ascii')))}"


def open_receipt(receipt: str, key: PublicKey) -> OpenedReceipt:
    """Check a receipt against the verifier service's public key; raises ``ReceiptError``.

    Order: shape, header (EdDSA, our type, the key's id), signature, then the payload's shape —
    nothing of the payload is believed before the signature holds.
    """
    text = receipt.strip()
    parts = text.split(".")
    if len(text) > _MAX_RECEIPT_BYTES or len(parts) != 3:
        raise ReceiptError("receipt_malformed", "not three base64url parts")
    header = _json_part(parts[0], "header")
    if header.get("alg") != "EdDSA" or header.get("typ") != _HEADER_TYPE:
        raise ReceiptError("receipt_algorithm", f"alg {header.get('alg')!r}, typ {header.get('typ')!r}")
    if header.get("kid") != key.kid_b64:
        raise ReceiptError("receipt_wrong_key", f"kid {header.get('kid')!r}")
    signature = _b64(parts[2], "signature")
    if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise ReceiptError("receipt_signature")
    payload = _json_part(parts[1], "payload")
    results = payload.get("results")
    if (
        payload.get("typ") != RECEIPT_TYPE
        or not isinstance(results, list)
        or payload.get("count") != len(results)
    ):
        raise ReceiptError("receipt_malformed", "the payload is not a skillpass receipt")
    return OpenedReceipt(payload, str(header["kid"]))


def _b64(part: str, what: str) -> bytes:
    try:
        return b64url_decode(part)
    except ValueError as e:
        raise ReceiptError("receipt_malformed", f"the {what} is not base64url") from e


def _json_part(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(part, what))
    except (ValueError, UnicodeDecodeError) as e:
        raise ReceiptError("receipt_malformed", f"the {what} is not JSON") from e
    if not isinstance(value, dict):
        raise ReceiptError("receipt_malformed", f"the {what} is not a JSON object")
    return value
