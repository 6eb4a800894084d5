"""Status List Tokens: built from the non-valid certificates of a list, signed by the registry key,
cached as signed bytes and rebuilt lazily when the list changed (its version moved) or when half of
the token's validity has passed (the schedule)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import select

from credential.status_list import Status, StatusList
from credential.status_token import sign_status_list_token
from registry.certificates import REVOKED, SUSPENDED
from registry.clock import Now
from registry.db import Database
from registry.errors import RegistryError
from registry.schema import rows, status_lists
from registry.settings import Settings

_CODES = {REVOKED: Status.INVALID, SUSPENDED: Status.SUSPENDED}


@dataclass(frozen=True)
class SignedToken:
    """One signed token with what HTTP caching needs."""

    data: bytes
    version: int
    issued_at: int
    etag: str


def build_status_list(size: int, entries: list[tuple[int, str]]) -> StatusList:
    """A 2-bit list with the given (index, status) entries set; everything else VALID."""
    status_list = StatusList(size, 2)
    for index, status in entries:
        status_list.set(index, _CODES[status])
    return status_list


class StatusTokens:
    """Per-list cache of signed tokens, shared by the requests of one process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._cache: dict[int, SignedToken] = {}
        self._lock = threading.Lock()

    def list_ids(self) -> list[int]:
        """Every list that exists."""
        with self._db.read() as conn:
            return [
                int(i) for i in conn.execute(select(status_lists.c.id).order_by(status_lists.c.id)).scalars()
            ]

    def token(self, list_id: int, now: Now) -> SignedToken:
        """The current signed token of a list, re-signed when stale."""
        with self._db.read() as conn:
            version = conn.execute(
                select(status_lists.c.version).where(status_lists.c.id == list_id)
            ).scalar()
        if version is None:
            raise RegistryError("not_found", "status list")
        with self._lock:
            cached = self._cache.get(list_id)
            fresh_for = self._settings.status_list_validity // 2
            if cached is not None and cached.version == version and now.unix - cached.issued_at < fresh_for:
                return cached
            token = self._sign(list_id, int(version), now)
            self._cache[list_id] = token
            return token

    def _sign(self, list_id: int, version: int, now: Now) -> SignedToken:
        with self._db.read() as conn:
            entries = conn.execute(
                select(rows.c.status_index, rows.c.status).where(
                    rows.c.status_list == list_id, rows.c.status.in_((REVOKED, SUSPENDED))
                )
            ).all()
        status_list = build_status_list(self._settings.status_list_size, [(e[0], e[1]) for e in entries])
        data = sign_status_list_token(
            status_list,
            self._settings.signer,
            uri=self._settings.status_list_uri(list_id),
            issued_at=now.unix,
            expires_at=now.unix + self._settings.status_list_validity,
            ttl=self._settings.status_list_ttl,
        )
        return SignedToken(data, version, now.unix, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
