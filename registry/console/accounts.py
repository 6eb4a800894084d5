"""Personal console accounts: Argon2id password hashes, the sign-in check and its lockout.

Passwords are hashed with libsodium's Argon2id (PyNaCl, already our key-file KDF; see
docs/decisions.md) at the "interactive" cost (64 MiB, 2 passes): about a tenth of a second per
sign-in, far too slow for guessing at scale. Five failures within fifteen minutes lock the account
for fifteen minutes, even against the right password. An unknown user name costs the same hash
check and answers the same way, so sign-in does not tell which names exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import nacl.exceptions
import nacl.pwhash
from sqlalchemy import Connection, select, update

from registry.audit import append_event
from registry.clock import Now
from registry.errors import RegistryError
from registry.schema_console import console_users
from registry.tokens import ADMIN as TOKEN_ADMIN
from registry.tokens import REVIEWER as TOKEN_REVIEWER
from registry.tokens import Principal

ADMIN, REVIEWER, SUPERVISOR = "admin", "reviewer", "supervisor"
STAFF_ROLES: Final = (ADMIN, REVIEWER, SUPERVISOR)
MAX_FAILURES: Final = 5
FAILURE_WINDOW: Final = 15 * 60
LOCKOUT: Final = 15 * 60
MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 256
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_OPS = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
_MEM = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
# Checked against when the user name is unknown, so both answers take as long.
_DUMMY_HASH: Final = nacl.pwhash.argon2id.str(b"skillpass console dummy", opslimit=_OPS, memlimit=_MEM)


@dataclass(frozen=True)
class Account:
    """A signed-in person: the name the audit log records and the role that decides what they may do."""

    username: str
    role: str

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"console:{self.username}"


def hash_password(password: str) -> str:
    """The stored form of a password (Argon2id, encoded with its own salt and cost)."""
    check_password_rules(password)
    return nacl.pwhash.argon2id.str(password.encode("utf-8"), opslimit=_OPS, memlimit=_MEM).decode("ascii")


def check_password_rules(password: str) -> None:
    """``password_weak`` unless the password is 12 to 256 characters long."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise RegistryError("password_weak", f"{MIN_PASSWORD}-{MAX_PASSWORD} characters")


def _matches(stored: bytes, password: str) -> bool:
    try:
        return bool(nacl.pwhash.verify(stored, password.encode("utf-8")[: MAX_PASSWORD * 4]))
    except nacl.exceptions.InvalidkeyError:
        return False


def create_user(conn: Connection, username: str, role: str, password: str, now: Now, actor: str) -> None:
    """Add an account (audited; the password never leaves this function except as its hash)."""
    if not _USERNAME.fullmatch(username):
        raise RegistryError("username_invalid", username[:64])
    if role not in STAFF_ROLES:
        raise RegistryError("invalid_request", f"role must be one of {', '.join(STAFF_ROLES)}")
    hashed = hash_password(password)
    if conn.execute(select(console_users.c.username).where(console_users.c.username == username)).first():
        raise RegistryError("user_exists", username)
    conn.execute(
        console_users.insert().values(
            username=username,
            role=role,
            password_hash=hashed,
            created_at=now.unix,
            password_changed_at=now.unix,
            failures=0,
        )
    )
    append_event(
        conn, time=now.unix, actor=actor, action="console.user.create", subject=username, data={"role": role}
    )


def sign_in(conn: Connection, username: str, password: str, now: Now) -> Account | str:
    """The account, or the error code ``sign_in_failed`` / ``account_locked``. Returned, not raised:
    the failure count must be committed with the caller's transaction."""
    row = conn.execute(select(console_users).where(console_users.c.username == username)).first()
    if row is None:
        _matches(_DUMMY_HASH, password)
        return "sign_in_failed"
    if row.locked_until is not None and now.unix < row.locked_until:
        return "account_locked"
    if not _matches(row.password_hash.encode("ascii"), password):
        _record_failure(conn, row, now)
        return "sign_in_failed"
    conn.execute(
        update(console_users)
        .where(console_users.c.username == username)
        .values(failures=0, window_start=None, locked_until=None)
    )
    append_event(
        conn, time=now.unix, actor=f"console:{username}", action="console.sign_in", subject=username, data={}
    )
    return Account(username=row.username, role=row.role)


def _record_failure(conn: Connection, row: Any, now: Now) -> None:
    """Count a failure in the 15-minute window; the fifth locks the account (both audited, no password)."""
    fresh = row.window_start is None or now.unix - row.window_start >= FAILURE_WINDOW
    failures = 1 if fresh else row.failures + 1
    values: dict[str, Any] = {"failures": failures, "window_start": now.unix if fresh else row.window_start}
    locked = failures >= MAX_FAILURES
    if locked:
        values.update(failures=0, window_start=None, locked_until=now.unix + LOCKOUT)
    conn.execute(update(console_users).where(console_users.c.username == row.username).values(**values))
    action = "console.lockout" if locked else "console.sign_in_failed"
    append_event(
        conn, time=now.unix, actor="console", action=action, subject=row.username, data={"failures": failures}
    )


def find_account(conn: Connection, username: str) -> Account | None:
    """The account with this name, if any."""
    row = conn.execute(
        select(console_users.c.username, console_users.c.role).where(console_users.c.username == username)
    ).first()
    return None if row is None else Account(username=row.username, role=row.role)


def change_password(conn: Connection, account: Account, current: str, new: str, now: Now) -> None:
    """Replace the password after checking the current one."""
    row = conn.execute(select(console_users).where(console_users.c.username == account.username)).one()
    if not _matches(row.password_hash.encode("ascii"), current):
        raise RegistryError("password_wrong")
    conn.execute(
        update(console_users)
        .where(console_users.c.username == account.username)
        .values(password_hash=hash_password(new), password_changed_at=now.unix)
    )
    append_event(
        conn,
        time=now.unix,
        actor=account.actor,
        action="console.password_change",
        subject=account.username,
        data={},
    )


@dataclass(frozen=True)
class StaffPrincipal(Principal):
    """A console user acting through the registry's service functions, audited by user name."""

    username: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this person (the same as ``Account.actor``)."""
        return f"console:{self.username}"


def principal(account: Account) -> StaffPrincipal:
    """The service-layer caller for a console user (admins act as admin, the others as reviewers)."""
    role = TOKEN_ADMIN if account.role == ADMIN else TOKEN_REVIEWER
    return StaffPrincipal(role=role, institution_code=None, token_id="", username=account.username)
