"""Public, read-only endpoints: trust data for verifiers, the national query, the directory, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from keys import to_jwk
from registry import certificates, query
from registry.deps import RegistryDep, within_rate_limit
from registry.errors import RegistryError
from registry.institutions import institution_json, load_institution, load_institutions
from registry.json_body import CheckedJsonRoute
from registry.models import ConfirmHolderIn, QueryIn

router = APIRouter(route_class=CheckedJsonRoute)
# Integers from paths and queries are bounded so that none reaches the database out of its column's
# range (a 500); out of range is 422 ``invalid_request``.
_MAX_LIST_ID = 2**31 - 1
_MAX_INDEX = 2**53
ListId = Annotated[int, Path(ge=0, le=_MAX_LIST_ID)]
Index = Annotated[int, Query(ge=0, le=_MAX_INDEX)]
COSE_TYPE = "application/cose"
STATUS_LIST_TYPE = "application/statuslist+cwt"


#: Public trust data may be fetched by a verifier page on any origin (spec §7): a simple GET with
#: no credentials, so no preflight is needed and none is answered.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}


def _public(response: Response) -> None:
    response.headers.update(CORS_HEADERS)


def _signed(request: Request, data: bytes, etag: str, media_type: str, max_age: int) -> Response:
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", **CORS_HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


def _rate_limit(reg: RegistryDep, request: Request) -> None:
    if not within_rate_limit(reg, request):
        raise RegistryError("rate_limited")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@router.get("/api/v1/registry-key")
def registry_key(reg: RegistryDep, response: Response) -> dict[str, Any]:
    """The registry's public JWK, which verifiers pin."""
    _public(response)
    return to_jwk(reg.settings.signer.public_key, use="sig", alg="EdDSA")


@router.get("/api/v1/trust-list", response_class=Response)
def trust_list(reg: RegistryDep, request: Request) -> Response:
    """The registry-signed directory snapshot."""
    snapshot = reg.trust.snapshot(reg.now())
    return _signed(request, snapshot.data, snapshot.etag, COSE_TYPE, reg.settings.status_list_ttl)


@router.get("/api/v1/keys")
def keys(reg: RegistryDep, response: Response) -> dict[str, Any]:
    """JWK Set of every institution key ever registered."""
    _public(response)
    return reg.trust.jwks()


@router.get("/api/v1/status-lists")
def status_lists(reg: RegistryDep, response: Response) -> dict[str, Any]:
    """Status List Aggregation (draft-ietf-oauth-status-list §9.3): ``{"status_lists": [uri, …]}``,
    the URI of every Status List Token, as JSON."""
    _public(response)
    return {"status_lists": [reg.settings.status_list_uri(i) for i in reg.status_tokens.list_ids()]}


@router.get("/api/v1/status-lists/{list_id}", response_class=Response)
def status_list(reg: RegistryDep, request: Request, list_id: ListId) -> Response:
    """One Status List Token (CWT)."""
    token = reg.status_tokens.token(list_id, reg.now())
    return _signed(request, token.data, token.etag, STATUS_LIST_TYPE, reg.settings.status_list_ttl)


@router.post("/api/v1/certificates/query")
def certificate_query(reg: RegistryDep, request: Request, body: QueryIn) -> dict[str, Any]:
    """By certificate number + holder name, or holder name + ID number."""
    _rate_limit(reg, request)
    return query.answer(reg.db, body, reg.digests)


@router.get("/api/v1/certificates/{number}/record")
def certificate_record(
    reg: RegistryDep, number: str, sha256: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Status of a published certificate, for online verification by whoever holds its credential
    (``sha256`` of the COSE bytes must match; anything else is ``not_found``). Not rate limited:
    without the credential's exact bytes nothing can be learnt, and online verifiers behind one
    address make many lookups."""
    with reg.db.read() as conn:
        return certificates.record(conn, number, sha256)


@router.post("/api/v1/certificates/{number}/confirm-holder")
def confirm_holder(reg: RegistryDep, request: Request, number: str, body: ConfirmHolderIn) -> dict[str, bool]:
    """Whether a name and ID number belong to the holder of a certificate."""
    _rate_limit(reg, request)
    with reg.db.read() as conn:
        return {"match": query.confirm_holder(conn, number, body.holder_name, body.id_number, reg.digests)}


@router.get("/api/v1/institutions")
def institutions(reg: RegistryDep) -> dict[str, Any]:
    """The directory."""
    today = reg.now().today
    with reg.db.read() as conn:
        return {"institutions": [institution_json(i, today) for i in load_institutions(conn)]}


@router.get("/api/v1/institutions/{code}")
def institution(reg: RegistryDep, code: str) -> dict[str, Any]:
    """One institution's record."""
    today = reg.now().today
    with reg.db.read() as conn:
        return institution_json(load_institution(conn, code), today)


@router.get("/api/v1/audit/checkpoint")
def audit_checkpoint(reg: RegistryDep) -> dict[str, Any]:
    """The latest signed checkpoint."""
    return reg.audit.checkpoint(reg.now().unix)


@router.get("/api/v1/audit/checkpoints")
def audit_checkpoints(reg: RegistryDep) -> dict[str, Any]:
    """Every checkpoint ever signed (an auditor checks the log against each)."""
    return {"checkpoints": reg.audit.checkpoints()}


@router.get("/api/v1/audit/entries")
def audit_entries(
    reg: RegistryDep, start: Index = 0, end: Annotated[int | None, Query(ge=0, le=_MAX_INDEX)] = None
) -> dict[str, Any]:
    """Events in ``[start, end)`` (at most 10,000 at a time)."""
    stop = start + 1000 if end is None else end
    return {"entries": reg.audit.entries(start, stop)}


@router.get("/api/v1/audit/proof/inclusion")
def audit_inclusion(
    reg: RegistryDep, index: Index, size: Annotated[int, Query(ge=1, le=_MAX_INDEX)]
) -> dict[str, Any]:
    """RFC 6962 inclusion proof."""
    return {"index": index, "size": size, "proof": reg.audit.inclusion(index, size)}


@router.get("/api/v1/audit/proof/consistency")
def audit_consistency(reg: RegistryDep, old: Index, new: Index) -> dict[str, Any]:
    """RFC 6962 consistency proof."""
    return {"old": old, "new": new, "proof": reg.audit.consistency(old, new)}
