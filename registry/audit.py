"""The tamper-evident audit log: every state change appends an event in the same transaction.

Each event is canonical JSON (ASCII, sorted keys) holding who, what, when and the leaf hash of the
event before it (``prev``), so an edit to a stored event breaks the next event's link as well as
every signed checkpoint covering it. Leaves are RFC 6962 leaf hashes (``merkle.leaf_hash``);
checkpoints sign (size, root, time) with the registry key and are kept, so that later
tampering cannot be hidden by re-signing. Personal data never appears in clear: callers pass
keyed digests (``Digests``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from credential.signed_document import TYP_CHECKPOINT, sign_document
from keys import Signer
from keys.recipes import b64url
from registry import merkle
from registry.db import AUDIT_COUNTER, Database
from registry.errors import RegistryError
from registry.schema import audit_checkpoints, audit_events, counters


def canonical_json(value: object) -> bytes:
    """The one byte form of a JSON value that the log hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class Digests:
    """Keyed digests (HMAC-SHA256 with the registry secret) for personal data."""

    secret: bytes

    def of(self, purpose: str, value: str) -> str:
        """Hex digest of ``value`` for one purpose (separated so digests never cross purposes)."""
        message = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def batch_id(self, institution_code: str, batch_id: str) -> str:
        """The public log's form of an institution's own batch id (caller-chosen, so never in clear:
        a batch id may be derived from the roster, e.g. a hash of the file)."""
        return self.of("batch_id", f"{institution_code}/{batch_id}")

    def id_number(self, id_number: str) -> str:
        """The stored form of an ID number; the same number always gives the same digest."""
        return self.of("id_number", id_number.strip().upper())


def append_event(
    conn: Connection, *, time: int, actor: str, action: str, subject: str, data: dict[str, Any]
) -> int:
    """Append one event inside the caller's transaction and return its index."""
    size = conn.execute(
        update(counters)
        .where(counters.c.name == AUDIT_COUNTER)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    ).scalar_one()
    index = int(size) - 1
    prev = b""
    if index > 0:
        prev = conn.execute(
            select(audit_events.c.leaf_hash).where(audit_events.c.idx == index - 1)
        ).scalar_one()
    event = {
        "index": index,
        "time": time,
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": data,
        "prev": prev.hex(),
    }
    body = canonical_json(event)
    conn.execute(audit_events.insert().values(idx=index, data=body, leaf_hash=merkle.leaf_hash(body)))
    return index


def checkpoint_payload(size: int, root: bytes, time: int) -> dict[str, Any]:
    """What a checkpoint signs."""
    return {"size": size, "root": root, "time": time}


class AuditLog:
    """Reads of the log, with the leaf hashes cached in memory (the log only grows)."""

    def __init__(self, db: Database, signer: Signer) -> None:
        self._db = db
        self._signer = signer
        self._hashes: list[bytes] = []
        self._lock = threading.Lock()

    def leaf_hashes(self) -> list[bytes]:
        """Every stored leaf hash, oldest first (only new ones are read from the database)."""
        with self._lock, self._db.read() as conn:
            size = conn.execute(select(counters.c.value).where(counters.c.name == AUDIT_COUNTER)).scalar_one()
            if size > len(self._hashes):
                fresh = conn.execute(
                    select(audit_events.c.leaf_hash)
                    .where(audit_events.c.idx >= len(self._hashes), audit_events.c.idx < size)
                    .order_by(audit_events.c.idx)
                ).scalars()
                self._hashes.extend(bytes(h) for h in fresh)
            return self._hashes[:size]

    def checkpoint(self, now: int) -> dict[str, Any]:
        """The signed checkpoint of the current tree, signing and storing a new one if it grew."""
        return self.checkpoint_at(len(self.leaf_hashes()), now)

    def checkpoint_at(self, size: int, now: int) -> dict[str, Any]:
        """The signed checkpoint of the first ``size`` entries (signed and stored if there is none yet):
        figures taken at an earlier log size (statistics) name a checkpoint anyone can fetch."""
        hashes = self.leaf_hashes()
        if not 0 <= size <= len(hashes):
            raise RegistryError("audit_range", "need 0 <= size <= log size")
        hashes = hashes[:size]
        with self._db.read() as conn:
            row = conn.execute(select(audit_checkpoints).where(audit_checkpoints.c.size == size)).first()
        if row is None:
            root = merkle.root_from_leaf_hashes(hashes)
            signature = sign_document(checkpoint_payload(size, root, now), self._signer, TYP_CHECKPOINT)
            self._db.write(lambda conn: _store_checkpoint(conn, size, root, now, signature))
            return _checkpoint_json(size, root, now, signature)
        return _checkpoint_json(row.size, bytes(row.root), row.time, bytes(row.signature))

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every checkpoint ever signed, smallest first."""
        with self._db.read() as conn:
            found = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.size)).all()
        return [_checkpoint_json(r.size, bytes(r.root), r.time, bytes(r.signature)) for r in found]

    def entries(self, start: int, end: int) -> list[dict[str, Any]]:
        """Events ``start <= index < end`` as their exact JSON text."""
        if not 0 <= start <= end or end - start > 10_000:
            raise RegistryError("audit_range", "0 <= start <= end, at most 10000 entries")
        with self._db.read() as conn:
            found = conn.execute(
                select(audit_events.c.idx, audit_events.c.data)
                .where(audit_events.c.idx >= start, audit_events.c.idx < end)
                .order_by(audit_events.c.idx)
            ).all()
        return [{"index": r.idx, "data": bytes(r.data).decode("ascii")} for r in found]

    def inclusion(self, index: int, size: int) -> list[str]:
        """Hex audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        hashes = self.leaf_hashes()
        if not 0 <= index < size <= len(hashes):
            raise RegistryError("audit_range", "need 0 <= index < size <= log size")
        return [h.hex() for h in merkle.inclusion_proof(hashes[:size], index)]

    def consistency(self, old: int, new: int) -> list[str]:
        """Hex consistency proof between two tree sizes."""
        hashes = self.leaf_hashes()
        if not 0 <= old <= new <= len(hashes):
            raise RegistryError("audit_range", "need 0 <= old <= new <= log size")
        return [h.hex() for h in merkle.consistency_proof(hashes[:new], old)]


def _store_checkpoint(conn: Connection, size: int, root: bytes, now: int, signature: bytes) -> None:
    exists = conn.execute(select(audit_checkpoints.c.size).where(audit_checkpoints.c.size == size)).first()
    if exists is None:
        conn.execute(audit_checkpoints.insert().values(size=size, root=root, time=now, signature=signature))


def _checkpoint_json(size: int, root: bytes, time: int, signature: bytes) -> dict[str, Any]:
    return {"size": size, "root": root.hex(), "time": time, "signature": b64url(signature)}
