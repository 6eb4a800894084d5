"""Registry-signed documents (directory snapshot, status list tokens, audit checkpoints) as
COSE_Sign1 with a ``typ`` header, so one kind of document can never be passed off as another."""

from __future__ import annotations

from typing import Any

import cbor2

from credential import cose
from credential.constants import SIGN_ALGORITHM, Header, Limits
from credential.errors import CredentialError
from keys import PublicKey, Signer

TYP_DIRECTORY = "application/skillpass-directory+cbor"
TYP_STATUS_LIST = "application/statuslist+cwt"
TYP_CHECKPOINT = "application/skillpass-checkpoint+cbor"

# Documents are far larger than credentials: a directory of thousands of institutions, or a
# status list of 2^20 entries (at most 256 KiB raw, compressed inside one byte string).
DOCUMENT_LIMITS = Limits(
    max_qr_text=0, max_decompressed=32 * 1024 * 1024, max_cbor_depth=12, max_cbor_items=2_000_000
)


def sign_document(payload: object, signer: Signer, typ: str) -> bytes:
    """COSE_Sign1 over the CBOR of ``payload`` with protected ``alg``, ``kid`` and ``typ``."""
    protected: dict[int, object] = {Header.ALG: SIGN_ALGORITHM, Header.KID: signer.kid, Header.TYP: typ}
    return cose.sign1(cbor2.dumps(payload), signer, protected=protected)


def open_document(data: bytes, key: PublicKey, typ: str, limits: Limits = DOCUMENT_LIMITS) -> Any:
    """Check structure, header policy, ``typ`` and the signature, then return the decoded payload."""
    if len(data) > limits.max_decompressed:
        raise CredentialError("zlib_too_large", "the document is larger than the limit")
    message = cose.decode_sign1(data, limits)
    cose.require_eddsa_with_kid(message)
    if message.protected.get(Header.TYP) != typ:
        raise CredentialError("cose_shape", f"expected a document of type {typ}")
    if message.kid != key.kid:
        raise CredentialError("signature_invalid", "signed by a key other than the pinned one")
    cose.verify_sign1(message, key)
    try:
        cose.check_structure(message.payload, limits)
        return cbor2.loads(message.payload, allow_duplicate_keys=False)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as e:
        raise CredentialError("cbor_invalid", "the document's payload is not CBOR") from e
