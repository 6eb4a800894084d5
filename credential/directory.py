"""The directory snapshot (trust list): institutions, their filed scopes, status history and keys.

The registry builds a ``Directory``, signs ``to_payload()`` with ``signed_document``; a verifier
opens it and calls ``Directory.from_payload``. The window rules live on the entries themselves
so that the registry (accepting publications) and verifiers (judging credentials) apply the
same ones. Windows are whole days, like the certificate's issue date, and they fail closed: a
key revoked, or an institution suspended, on the day a certificate was issued does not vouch
for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from credential.errors import CredentialError

FORMAT_VERSION = 2  # 2: verifier_hosts (wire format 2)
ACTIVE, SUSPENDED, REMOVED = "active", "suspended", "removed"
INSTITUTION_STATUSES = (ACTIVE, SUSPENDED, REMOVED)


@dataclass(frozen=True)
class KeyEntry:
    """A registered institution key: usable from ``valid_from``; ends at the earliest of
    ``valid_until``, ``retired`` (rotated: still vouches up to that day) and ``revoked``
    (compromised: vouches only for certificates issued before that day)."""

    kid: bytes
    public_key: bytes
    valid_from: date
    valid_until: date | None = None
    retired: date | None = None
    revoked: date | None = None

    def vouches_for(self, issue_date: date) -> bool:
        """Whether a certificate issued on ``issue_date`` under this key is acceptable."""
        if issue_date < self.valid_from:
            return False
        if self.revoked is not None and issue_date >= self.revoked:
            return False
        ends = [d for d in (self.valid_until, self.retired) if d is not None]
        return all(issue_date <= end for end in ends)


@dataclass(frozen=True)
class StatusChange:
    """One append-only entry of an institution's status history."""

    status: str
    effective: date
    recorded: int  # seconds since the epoch; orders entries recorded later over earlier ones
    reason: str = ""


@dataclass(frozen=True)
class Scope:
    """An occupation an institution may certify, at which levels, and when."""

    occupation_code: str
    occupation_name: str
    levels: tuple[int, ...]
    valid_from: date
    valid_until: date | None = None
    work_types: tuple[str, ...] = ("--",)

    def covers(self, occupation_code: str, level: int, work_type: str, on: date) -> bool:
        """Whether this entry allowed certifying that occupation, level and work type on a day."""
        in_window = self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)
        return (
            in_window
            and occupation_code == self.occupation_code
            and level in self.levels
            and work_type in self.work_types
        )


@dataclass(frozen=True)
class Institution:
    """An evaluation institution as the directory lists it."""

    code: str  # category + national code + province + site: the first 13 characters of its numbers
    name: str
    uscc: str
    category: str
    statuses: tuple[StatusChange, ...]
    scopes: tuple[Scope, ...] = ()
    keys: tuple[KeyEntry, ...] = ()

    def status_on(self, day: date) -> str | None:
        """Status in force on a day: of the entries effective by then, the one recorded last.

        A retroactive removal (recorded later, effective earlier) therefore overrides what was
        in force; a prospective one leaves earlier days untouched. None before any entry.
        """
        in_force = [change for change in self.statuses if change.effective <= day]
        return max(in_force, key=lambda change: change.recorded).status if in_force else None

    def scope_for(self, occupation_code: str, level: int, work_type: str, on: date) -> Scope | None:
        """The scope entry covering a certificate, if any."""
        return next((s for s in self.scopes if s.covers(occupation_code, level, work_type, on)), None)


@dataclass(frozen=True)
class Directory:
    """A signed snapshot of the whole directory, versioned by ``sequence``."""

    sequence: int
    issued_at: int
    expires_at: int
    institutions: tuple[Institution, ...]
    status_list_base: str = ""
    verifier_hosts: tuple[str, ...] = ()  # official verifier hosts, host[:port] in lower case

    def is_official_verifier(self, host: str) -> bool:
        """Whether a URL-form credential's host is one the registry lists as official."""
        return host.lower() in self.verifier_hosts

    def find_key(self, kid: bytes) -> tuple[Institution, KeyEntry] | None:
        """The institution and key entry listed under a key id (verifiers index this themselves)."""
        return next(((i, k) for i in self.institutions for k in i.keys if k.kid == kid), None)

    def to_payload(self) -> dict[str, Any]:
        """The CBOR-ready payload the registry signs."""
        return {
            "v": FORMAT_VERSION,
            "seq": self.sequence,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "status_list_base": self.status_list_base,
            "institutions": [_institution_out(i) for i in self.institutions],
            "verifier_hosts": list(self.verifier_hosts),
        }

    @classmethod
    def from_payload(cls, payload: object) -> Directory:
        """Parse a verified payload strictly; any shape error is ``directory_invalid``."""
        try:
            if not isinstance(payload, Mapping) or payload["v"] != FORMAT_VERSION:
                raise ValueError("unsupported directory version")
            return cls(
                sequence=_int(payload["seq"]),
                issued_at=_int(payload["iat"]),
                expires_at=_int(payload["exp"]),
                status_list_base=str(payload["status_list_base"]),
                institutions=tuple(_institution_in(i) for i in payload["institutions"]),
                verifier_hosts=tuple(_host(h) for h in _list(payload["verifier_hosts"])),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise CredentialError("cbor_invalid", f"directory snapshot: {e}") from e


def _institution_out(i: Institution) -> dict[str, Any]:
    return {
        "code": i.code,
        "name": i.name,
        "uscc": i.uscc,
        "category": i.category,
        "statuses": [
            {
                "status": s.status,
                "effective": s.effective.isoformat(),
                "recorded": s.recorded,
                "reason": s.reason,
            }
            for s in i.statuses
        ],
        "scopes": [
            {
                "occupation_code": s.occupation_code,
                "occupation_name": s.occupation_name,
                "levels": list(s.levels),
                "work_types": list(s.work_types),
                "valid_from": s.valid_from.isoformat(),
                "valid_until": _iso(s.valid_until),
            }
            for s in i.scopes
        ],
        "keys": [
            {
                "kid": k.kid,
                "x": k.public_key,
                "valid_from": k.valid_from.isoformat(),
                "valid_until": _iso(k.valid_until),
                "retired": _iso(k.retired),
                "revoked": _iso(k.revoked),
            }
            for k in i.keys
        ],
    }


def _institution_in(raw: Mapping[str, Any]) -> Institution:
    statuses = tuple(
        StatusChange(
            status=_choice(s["status"], INSTITUTION_STATUSES),
            effective=date.fromisoformat(s["effective"]),
            recorded=_int(s["recorded"]),
            reason=str(s["reason"]),
        )
        for s in raw["statuses"]
    )
    scopes = tuple(
        Scope(
            occupation_code=str(s["occupation_code"]),
            occupation_name=str(s["occupation_name"]),
            levels=tuple(_int(level) for level in s["levels"]),
            work_types=tuple(str(w) for w in s["work_types"]),
            valid_from=date.fromisoformat(s["valid_from"]),
            valid_until=_date(s["valid_until"]),
        )
        for s in raw["scopes"]
    )
    keys = tuple(
        KeyEntry(
            kid=_bytes(k["kid"], 8),
            public_key=_bytes(k["x"], 32),
            valid_from=date.fromisoformat(k["valid_from"]),
            valid_until=_date(k["valid_until"]),
            retired=_date(k["retired"]),
            revoked=_date(k["revoked"]),
        )
        for k in raw["keys"]
    )
    return Institution(
        code=str(raw["code"]),
        name=str(raw["name"]),
        uscc=str(raw["uscc"]),
        category=_choice(raw["category"], ("Y", "S")),
        statuses=statuses,
        scopes=scopes,
        keys=keys,
    )


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _host(value: object) -> str:
    if not isinstance(value, str) or not value or value != value.lower() or not value.isascii():
        raise ValueError("a verifier host is host[:port] in lower case")
    return value


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("expected an integer")
    return value


def _bytes(value: object, length: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise ValueError(f"expected {length} bytes")
    return value


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"expected one of {allowed}")
    return str(value)
