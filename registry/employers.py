"""Employer accounts: the national query by number and name for whole hiring lists, accountably.

HR departments used to script the public query page row by row and were blocked by IP. Instead the
appraisal centre creates an account for an employer (its name and unified social credit code, a
daily quota) with a bearer token of role ``employer``; the account looks up many certificates per
request, counted against its quota for the registry's calendar day, never against an IP address.
A request that would pass the quota is refused whole and counts nothing. Each answer is the one the
public query gives for that number and name (``registry.query.by_number``), and each request is an
audit event naming the account and how many it asked (no numbers, no names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
    update,
)

from registry import query
from registry.audit import append_event
from registry.clock import Now
from registry.errors import RegistryError
from registry.schema import metadata
from registry.tokens import EMPLOYER, Principal, create_token, token_id
from schemas.checks import uscc_is_valid

MAX_LOOKUPS_PER_REQUEST = 500
MAX_DAILY_QUOTA = 1_000_000

employer_accounts = Table(
    "employer_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("daily_quota", Integer, nullable=False),
    Column("token_id", String(12), nullable=False, unique=True),  # ``tokens.token_id`` of its token
    Column("created_at", BigInteger, nullable=False),
)

# Lookups counted per account and registry day (China Standard Time); one row per day used.
employer_usage = Table(
    "employer_usage",
    metadata,
    Column("account_id", Integer, ForeignKey("employer_accounts.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("account_id", "day"),
)


@dataclass(frozen=True)
class Account:
    """One employer account as its holder and the administrator see it."""

    id: int
    name: str
    uscc: str
    daily_quota: int
    token_id: str

    def to_json(self, used_today: int) -> dict[str, Any]:
        """The account with today's use: ``used_today`` and ``remaining_today``."""
        return {
            "id": self.id,
            "name": self.name,
            "uscc": self.uscc,
            "daily_quota": self.daily_quota,
            "token_id": self.token_id,
            "used_today": used_today,
            "remaining_today": max(0, self.daily_quota - used_today),
        }


def create_employer(
    conn: Connection, name: str, uscc: str, daily_quota: int, now: Now, actor: str
) -> tuple[Account, str]:
    """File an employer account and its token (returned once); audited as ``employer.create``."""
    if not uscc_is_valid(uscc):
        raise RegistryError("employer_invalid", "uscc", [{"pointer": "/uscc"}])
    token, stored = create_token(conn, role=EMPLOYER, institution_code=None, now=now.unix)
    account_id = conn.execute(
        employer_accounts.insert()
        .values(name=name, uscc=uscc, daily_quota=daily_quota, token_id=token_id(stored), created_at=now.unix)
        .returning(employer_accounts.c.id)
    ).scalar_one()
    account = Account(int(account_id), name, uscc, daily_quota, token_id(stored))
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="employer.create",
        subject=str(account.id),
        data={"name": name, "uscc": uscc, "daily_quota": daily_quota, "token": account.token_id},
    )
    return account, token


def set_quota(conn: Connection, account_id: int, daily_quota: int, now: Now, actor: str) -> Account:
    """Change an account's daily quota (from the next lookup on); audited as ``employer.quota``."""
    account = _account(conn, employer_accounts.c.id == account_id)
    conn.execute(
        update(employer_accounts).where(employer_accounts.c.id == account.id).values(daily_quota=daily_quota)
    )
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="employer.quota",
        subject=str(account.id),
        data={"daily_quota": daily_quota},
    )
    return Account(account.id, account.name, account.uscc, daily_quota, account.token_id)


def account_of(conn: Connection, principal: Principal) -> Account:
    """The account behind an employer token (``forbidden`` for any other caller)."""
    if principal.role != EMPLOYER:
        raise RegistryError("forbidden", "needs role employer")
    return _account(conn, employer_accounts.c.token_id == principal.token_id)


def used_on(conn: Connection, account: Account, now: Now) -> int:
    """How many lookups the account made on the registry's current day."""
    found = conn.execute(
        select(employer_usage.c.used).where(
            employer_usage.c.account_id == account.id, employer_usage.c.day == now.today
        )
    ).scalar()
    return int(found or 0)


def lookup(
    conn: Connection, principal: Principal, queries: list[tuple[str, str]], now: Now
) -> dict[str, Any]:
    """Answer each (certificate number, holder name) as the public query does, inside one write
    transaction that first takes them from today's quota: all of them, or (``quota_exceeded``)
    none."""
    account = account_of(conn, principal)
    used = used_on(conn, account, now)
    if used + len(queries) > account.daily_quota:
        raise RegistryError(
            "quota_exceeded",
            f"{len(queries)} asked, {max(0, account.daily_quota - used)} left today",
            [{"daily_quota": account.daily_quota, "used_today": used, "asked": len(queries)}],
        )
    _count(conn, account, now, used, len(queries))
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action="employer.lookup",
        subject=str(account.id),
        data={"count": len(queries)},
    )
    results = [_answer(conn, number, name) for number, name in queries]
    return {"results": results, "account": account.to_json(used + len(queries))}


def _answer(conn: Connection, number: str, name: str) -> dict[str, Any]:
    try:
        found = query.by_number(conn, number, name)
    except RegistryError as e:
        if e.code != "not_found":
            raise
        return {"certificate_number": number, "found": False, "certificates": []}
    return {"certificate_number": number, "found": True, **found}


def _count(conn: Connection, account: Account, now: Now, used: int, asked: int) -> None:
    if used == 0:
        conn.execute(employer_usage.insert().values(account_id=account.id, day=now.today, used=asked))
        return
    conn.execute(
        update(employer_usage)
        .where(employer_usage.c.account_id == account.id, employer_usage.c.day == now.today)
        .values(used=employer_usage.c.used + asked)
    )


def _account(conn: Connection, where: Any) -> Account:
    row = conn.execute(select(employer_accounts).where(where)).first()
    if row is None:
        raise RegistryError("employer_unknown")
    return Account(int(row.id), row.name, row.uscc, int(row.daily_quota), row.token_id)
