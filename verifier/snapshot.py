"""Untrusted trust-data bytes in, verified ``TrustData`` out — or a ``TrustError``. No I/O.

This is where a directory snapshot and status list tokens become trusted: each must carry the
pinned registry key's signature and the right ``typ``; its times must make sense; its expiry is
bounded so that no signed document stays fresh forever; and an update must never move
backwards (a lower directory sequence number, or an older status list, is a rollback: it could
resurrect a revoked certificate or a removed institution), neither against the data held nor
against the high-water marks kept since the first sync (`HighWater`). ``trust.TrustStore`` does
the fetching and the disk around these functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from credential import CredentialError
from credential.directory import Directory
from credential.signed_document import TYP_DIRECTORY, open_document
from credential.status_list import ParsedStatusListClaims
from credential.status_token import open_status_list_token
from keys import PublicKey
from verifier.engine import TrustData
from verifier.errors import TrustError

_STATUS_LIST_SUB = re.compile(r"/status-lists/(\d+)$")


@dataclass(frozen=True)
class SignedTrust:
    """Trust data exactly as the registry served it: the signed snapshot and one token per list."""

    trust_list: bytes
    status_lists: Mapping[int, bytes]


@dataclass(frozen=True)
class TrustBounds:
    """How far we believe the registry's own times."""

    clock_skew: int = 300
    max_validity: int = 30 * 86400  # no document stays fresh longer than this after it was issued


def open_trust(signed: SignedTrust, registry_key: PublicKey, bounds: TrustBounds) -> TrustData:
    """Verify every document against the pinned key and build the trust data, expiries bounded."""
    directory = _open_directory(signed.trust_list, registry_key, bounds)
    lists = {
        list_id: _open_status_list(list_id, data, registry_key)
        for list_id, data in signed.status_lists.items()
    }
    expires = [_bounded_exp(token.iat, token.exp, bounds) for token in lists.values()]
    return TrustData(
        directory=directory,
        status_lists={list_id: token.status_list for list_id, token in lists.items()},
        status_lists_expire_at=min(expires, default=directory.expires_at),
        status_lists_issued_at={list_id: token.iat for list_id, token in lists.items()},
        ttl=min((token.ttl for token in lists.values()), default=None),
    )


def check_update(new: TrustData, held: TrustData | None, now: int, bounds: TrustBounds) -> None:
    """Refuse fetched data that is issued in the future, already expired, or older than what we hold."""
    if new.directory.issued_at > now + bounds.clock_skew or any(
        iat > now + bounds.clock_skew for iat in new.status_lists_issued_at.values()
    ):
        raise TrustError("trust_invalid", "issued in the future: check this device's clock")
    if now > new.expires_at + bounds.clock_skew:
        raise TrustError("trust_expired", f"expired at {new.expires_at}")
    if held is None:
        return
    old, fresh = held.directory, new.directory
    if (fresh.sequence, fresh.issued_at) < (old.sequence, old.issued_at):
        raise TrustError("trust_rollback", f"directory sequence {fresh.sequence} after {old.sequence}")
    for list_id, iat in held.status_lists_issued_at.items():
        if list_id not in new.status_lists_issued_at:
            raise TrustError("trust_rollback", f"status list {list_id} disappeared")
        if new.status_lists_issued_at[list_id] < iat:
            raise TrustError("trust_rollback", f"status list {list_id} is older than the one held")


@dataclass(frozen=True)
class HighWater:
    """The newest trust data ever accepted: the directory's sequence and each status list's issue time.

    Kept apart from the cache (`trust.TrustStore`), so that losing, corrupting or replacing the cache
    cannot reopen a rollback: every mark is checked on every sync and on every load of the cache.
    """

    directory_sequence: int | None = None
    status_lists: Mapping[int, int] = field(default_factory=dict)  # list id → highest iat accepted

    def raised_to(self, trust: TrustData) -> HighWater:
        """These marks, each raised to what `trust` holds (a mark never goes down)."""
        lists = dict(self.status_lists)
        for list_id, iat in trust.status_lists_issued_at.items():
            lists[list_id] = max(lists.get(list_id, iat), iat)
        sequence = trust.directory.sequence
        if self.directory_sequence is not None:
            sequence = max(sequence, self.directory_sequence)
        return HighWater(sequence, lists)


def check_high_water(trust: TrustData, marks: HighWater) -> None:
    """Refuse trust data below any mark: an older directory, an older or missing status list."""
    if marks.directory_sequence is not None and trust.directory.sequence < marks.directory_sequence:
        raise TrustError(
            "trust_rollback",
            f"directory sequence {trust.directory.sequence} after {marks.directory_sequence}",
        )
    for list_id, iat in sorted(marks.status_lists.items()):
        held = trust.status_lists_issued_at.get(list_id)
        if held is None:
            raise TrustError("trust_rollback", f"status list {list_id} disappeared")
        if held < iat:
            raise TrustError(
                "trust_rollback", f"status list {list_id} issued at {held}, before {iat} accepted earlier"
            )


def _open_directory(data: bytes, registry_key: PublicKey, bounds: TrustBounds) -> Directory:
    try:
        directory = Directory.from_payload(open_document(data, registry_key, TYP_DIRECTORY))
    except CredentialError as e:
        raise _document_error(e, "directory snapshot") from e
    if directory.expires_at <= directory.issued_at:
        raise TrustError("trust_invalid", "the directory expires before it was issued")
    bounded = _bounded_exp(directory.issued_at, directory.expires_at, bounds)
    return directory if bounded == directory.expires_at else replace(directory, expires_at=bounded)


def _open_status_list(list_id: int, data: bytes, registry_key: PublicKey) -> ParsedStatusListClaims:
    try:
        token = open_status_list_token(data, registry_key)
    except CredentialError as e:
        raise _document_error(e, f"status list {list_id}") from e
    match = _STATUS_LIST_SUB.search(token.sub)
    if match is None or int(match.group(1)) != list_id:
        raise TrustError("trust_invalid", f"the token for status list {list_id} names {token.sub!r}")
    return token


def _bounded_exp(iat: int, exp: int, bounds: TrustBounds) -> int:
    return min(exp, iat + bounds.max_validity)


def _document_error(e: CredentialError, what: str) -> TrustError:
    """A signature or type failure is ``trust_signature``; a shape failure after it is ``trust_invalid``."""
    code = "trust_invalid" if e.code in ("cbor_invalid", "claims_invalid") else "trust_signature"
    return TrustError(code, f"{what}: {e.code} {e.detail}".strip())
