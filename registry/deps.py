"""Request dependencies: the registry of this app and the authenticated caller."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Header, Request

from common.clients import bucket_of
from registry.errors import RegistryError
from registry.service import Registry
from registry.tokens import ADMIN, REVIEWER, Principal, authenticate


async def registry(request: Request) -> Registry:
    """The registry this app serves (``async``: a plain attribute read needs no worker thread)."""
    found: Registry = request.app.state.registry
    return found


RegistryDep = Annotated[Registry, Depends(registry)]


def client_bucket(reg: Registry, request: Request) -> str:
    """The rate-limit bucket of the request's client: the TCP peer, or the address a trusted proxy
    observed (``common.clients``), IPv6 by its /64. Every per-client limit counts by this."""
    peer = request.client.host if request.client else None
    return bucket_of(reg.settings.trusted_proxies.client(peer, request.headers.get("x-forwarded-for")))


def within_rate_limit(reg: Registry, request: Request) -> bool:
    """Take one public query from the client's bucket (False when it is empty)."""
    return reg.limiter.allow(client_bucket(reg, request), time.monotonic())


def caller(reg: RegistryDep, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The authenticated caller of a write endpoint."""
    with reg.db.read() as conn:
        return authenticate(conn, authorization, reg.now())


CallerDep = Annotated[Principal, Depends(caller)]


def require_role(principal: Principal, *roles: str) -> None:
    """``forbidden`` unless the caller has one of ``roles``."""
    if principal.role not in roles:
        raise RegistryError("forbidden", f"needs role {' or '.join(roles)}")


def require_institution(principal: Principal, code: str) -> None:
    """``forbidden`` unless the caller is the admin or this institution."""
    if not principal.may_act_for(code):
        raise RegistryError("forbidden", "institutions act only on their own records")


def require_reviewer(principal: Principal) -> None:
    """Reviewers and the admin review batches."""
    require_role(principal, ADMIN, REVIEWER)
