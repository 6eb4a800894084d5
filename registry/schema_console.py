"""Tables of the appraisal-centre console and of holder share links (on the shared MetaData).

``console_users`` are personal accounts (全程留痕 needs a person, not a shared token): the password only
as an Argon2id hash, and the counters of the sign-in lockout. ``console_sessions`` are server-side
sessions, so that signing out and the idle timeout end a session for real; the cookie holds a random
token whose SHA-256 digest is the key. ``share_links`` are the holder's links under ``/s/``, stored
by digest too, so a copy of the database cannot be turned into working links.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, Text

from registry.schema import metadata

console_users = Table(
    "console_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
    # Sign-in failures inside the current window, the window's start, and the end of a lockout.
    Column("failures", Integer, nullable=False),
    Column("window_start", BigInteger, nullable=True),
    Column("locked_until", BigInteger, nullable=True),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("console_users.username"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
)

share_links = Table(
    "share_links",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("certificate_number", String(22), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)
