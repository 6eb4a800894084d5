"""Employer accounts over HTTP: the administrator files them, an employer looks up lists by number
and name against its daily quota (``registry.employers``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from registry import employers
from registry.deps import CallerDep, RegistryDep, require_role
from registry.json_body import CheckedJsonRoute
from registry.models import EmployerIn, EmployerQuotaIn, LookupIn
from registry.tokens import ADMIN

router = APIRouter(prefix="/api/v1/employers", route_class=CheckedJsonRoute)
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # within the column, never a 500


@router.post("", status_code=201)
def create_employer(reg: RegistryDep, who: CallerDep, body: EmployerIn) -> dict[str, Any]:
    """File an employer account (admin); its token is in the answer, once."""
    require_role(who, ADMIN)
    now = reg.now()
    account, token = reg.db.write(
        lambda conn: employers.create_employer(conn, body.name, body.uscc, body.daily_quota, now, who.actor)
    )
    return {**account.to_json(0), "token": token}


@router.post("/{account_id}/quota")
def set_quota(
    reg: RegistryDep, who: CallerDep, account_id: AccountId, body: EmployerQuotaIn
) -> dict[str, Any]:
    """Change an account's daily quota (admin)."""
    require_role(who, ADMIN)
    now = reg.now()

    def work(conn: Any) -> dict[str, Any]:
        account = employers.set_quota(conn, account_id, body.daily_quota, now, who.actor)
        return account.to_json(employers.used_on(conn, account, now))

    return reg.db.write(work)


@router.get("/me")
def me(reg: RegistryDep, who: CallerDep) -> dict[str, Any]:
    """The calling employer's account, with today's use."""
    now = reg.now()
    with reg.db.read() as conn:
        account = employers.account_of(conn, who)
        return account.to_json(employers.used_on(conn, account, now))


@router.post("/lookup")
def lookup(reg: RegistryDep, who: CallerDep, body: LookupIn) -> dict[str, Any]:
    """Up to 500 (number, name) pairs, each answered as the public query answers it; 429
    ``quota_exceeded`` (and nothing counted) when they do not fit in today's quota."""
    now = reg.now()
    queries = [(q.certificate_number, q.holder_name) for q in body.queries]
    return reg.db.write(lambda conn: employers.lookup(conn, who, queries, now))
