"""Status List Tokens in CWT form (draft-ietf-oauth-status-list §5.2), signed by the registry."""

from __future__ import annotations

from credential.errors import CredentialError
from credential.signed_document import TYP_STATUS_LIST, open_document, sign_document
from credential.status_list import (
    ParsedStatusListClaims,
    StatusList,
    StatusListError,
    parse_status_list_claims,
    status_list_claims,
)
from keys import PublicKey, Signer


def sign_status_list_token(
    status_list: StatusList, signer: Signer, *, uri: str, issued_at: int, expires_at: int, ttl: int
) -> bytes:
    """The signed token for one list, naming its own URI as ``sub``."""
    claims = status_list_claims(sub=uri, iat=issued_at, exp=expires_at, ttl=ttl, status_list=status_list)
    return sign_document(claims, signer, TYP_STATUS_LIST)


def open_status_list_token(data: bytes, registry_key: PublicKey) -> ParsedStatusListClaims:
    """Verify the registry's signature and parse the claims (expiry is the caller's decision)."""
    claims = open_document(data, registry_key, TYP_STATUS_LIST)
    try:
        return parse_status_list_claims(claims)
    except StatusListError as e:
        raise CredentialError("cbor_invalid", f"status list token: {e.code}") from e
