"""Server-side console sessions: a random cookie token, stored only as its SHA-256 digest, with a
CSRF token of its own, an idle timeout and an absolute lifetime.

Kept in the database rather than in a signed cookie so that signing out, a password change and the
idle timeout end a session on every replica at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, select, update

from registry.clock import Now
from registry.console.accounts import Account
from registry.schema_console import console_sessions, console_users

IDLE_TIMEOUT: Final = 30 * 60
MAX_AGE: Final = 12 * 3600
# ``last_seen`` is written at most once a minute: a console page view is not worth a write each time.
_TOUCH_EVERY: Final = 60
_TOKEN_MAX: Final = 100


@dataclass(frozen=True)
class Session:
    """A live session: who, the form token every state-changing request must carry, and its key."""

    account: Account
    csrf_token: str
    digest: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(conn: Connection, account: Account, now: Now) -> str:
    """Open a session; returns the cookie token (never stored)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        console_sessions.insert().values(
            digest=_digest(token),
            username=account.username,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now.unix,
            last_seen=now.unix,
        )
    )
    return token


def find(conn: Connection, token: str | None, now: Now) -> tuple[Session | None, bool]:
    """The live session behind a cookie token, and whether its ``last_seen`` should be written."""
    if not token or len(token) > _TOKEN_MAX:
        return None, False
    row = conn.execute(
        select(console_sessions, console_users.c.role)
        .join(console_users, console_users.c.username == console_sessions.c.username)
        .where(console_sessions.c.digest == _digest(token))
    ).first()
    if row is None or row.ended_at is not None:
        return None, False
    if now.unix - row.last_seen >= IDLE_TIMEOUT or now.unix - row.created_at >= MAX_AGE:
        return None, False
    session = Session(Account(row.username, row.role), row.csrf_token, row.digest)
    return session, now.unix - row.last_seen >= _TOUCH_EVERY


def touch(conn: Connection, digest: str, now: Now) -> None:
    """Record activity (keeps the idle timeout from ending a session in use)."""
    conn.execute(
        update(console_sessions).where(console_sessions.c.digest == digest).values(last_seen=now.unix)
    )


def end(conn: Connection, digest: str, now: Now) -> None:
    """Sign out: the session is refused from now on."""
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.digest == digest, console_sessions.c.ended_at.is_(None))
        .values(ended_at=now.unix)
    )


def end_all(conn: Connection, username: str, now: Now, keep: str | None = None) -> None:
    """End every session of a person except ``keep`` (after a password change)."""
    query = update(console_sessions).where(
        console_sessions.c.username == username, console_sessions.c.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(console_sessions.c.digest != keep)
    conn.execute(query.values(ended_at=now.unix))
