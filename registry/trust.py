"""Trust data for verifiers: the registry-signed directory snapshot (trust list) and the JWK Set of
every institution key. The snapshot is re-signed when the directory's sequence number moves or
half its validity has passed."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from credential.directory import Directory
from credential.signed_document import TYP_DIRECTORY, sign_document
from keys import PublicKey, to_jwk
from registry.clock import Now, iso_day
from registry.db import Database
from registry.institutions import directory_sequence, load_institutions
from registry.settings import Settings


@dataclass(frozen=True)
class SignedSnapshot:
    """One signed directory snapshot."""

    data: bytes
    sequence: int
    issued_at: int
    etag: str


class TrustList:
    """Builds and caches the signed directory snapshot."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._cached: SignedSnapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, now: Now) -> SignedSnapshot:
        """The current signed snapshot."""
        with self._db.read() as conn:
            sequence = directory_sequence(conn)
        with self._lock:
            cached = self._cached
            fresh_for = self._settings.directory_validity // 2
            if cached is not None and cached.sequence == sequence and now.unix - cached.issued_at < fresh_for:
                return cached
            with self._db.read() as conn:
                sequence = directory_sequence(conn)
                institutions = tuple(load_institutions(conn))
            directory = Directory(
                sequence=sequence,
                issued_at=now.unix,
                expires_at=now.unix + self._settings.directory_validity,
                institutions=institutions,
                status_list_base=f"{self._settings.base_url}/api/v1/status-lists/",
                verifier_hosts=self._settings.verifier_hosts,
            )
            data = sign_document(directory.to_payload(), self._settings.signer, TYP_DIRECTORY)
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            self._cached = SignedSnapshot(data, sequence, now.unix, etag)
            return self._cached

    def jwks(self) -> dict[str, Any]:
        """Every institution key ever registered, with its window and institution."""
        with self._db.read() as conn:
            institutions = load_institutions(conn)
        keys = [
            to_jwk(
                PublicKey(key.public_key),
                institution=institution.code,
                valid_from=key.valid_from.isoformat(),
                valid_until=iso_day(key.valid_until),
                retired=iso_day(key.retired),
                revoked=iso_day(key.revoked),
            )
            for institution in institutions
            for key in institution.keys
        ]
        return {"keys": keys}
