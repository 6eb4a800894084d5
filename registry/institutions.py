"""The directory: institutions, their scopes, status history and keys. Append-only; every change
bumps the directory sequence number (the trust list's version) and is audited in the same transaction."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from credential.directory import (
    ACTIVE,
    INSTITUTION_STATUSES,
    Institution,
    KeyEntry,
    Scope,
    StatusChange,
)
from keys import PublicKeyError, from_jwk
from keys.recipes import b64url, b64url_decode
from registry.audit import Digests, append_event
from registry.clock import Now, iso_day
from registry.db import DIRECTORY_COUNTER
from registry.errors import RegistryError
from registry.problems import issues_json
from registry.schema import counters, institution_keys, institution_statuses, institutions, scopes
from schemas import validate_institution


def bump_directory(conn: Connection) -> int:
    """Increase and return the directory sequence number (the trust list must be re-signed)."""
    return int(
        conn.execute(
            update(counters)
            .where(counters.c.name == DIRECTORY_COUNTER)
            .values(value=counters.c.value + 1)
            .returning(counters.c.value)
        ).scalar_one()
    )


def directory_sequence(conn: Connection) -> int:
    """The current directory sequence number."""
    return int(
        conn.execute(select(counters.c.value).where(counters.c.name == DIRECTORY_COUNTER)).scalar_one()
    )


def create_institution(conn: Connection, record: dict[str, Any], now: Now, actor: str) -> str:
    """File a new institution with its scopes; it is active from its earliest scope's start."""
    issues = validate_institution(record)
    if issues:
        raise RegistryError("institution_invalid", details=issues_json(issues))
    code = str(record["code"])
    if conn.execute(select(institutions.c.code).where(institutions.c.code == code)).first() is not None:
        raise RegistryError("institution_exists", code)
    conn.execute(
        institutions.insert().values(
            code=code,
            name=record["name"],
            uscc=record.get("uscc", ""),
            category=record["category"],
            national_code=record["national_code"],
            province=record["province"],
            site=record["site"],
            created_at=now.unix,
        )
    )
    for scope in record["scopes"]:
        _insert_scope(conn, code, scope, now)
    start = min(date.fromisoformat(s["valid_from"]) for s in record["scopes"])
    conn.execute(
        institution_statuses.insert().values(
            institution_code=code, status="active", effective=start, recorded=now.unix, reason="filed"
        )
    )
    bump_directory(conn)
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="institution.create",
        subject=code,
        data={"record": record},
    )
    return code


def _insert_scope(conn: Connection, code: str, scope: dict[str, Any], now: Now) -> None:
    conn.execute(
        scopes.insert().values(
            institution_code=code,
            occupation_code=scope["occupation_code"],
            occupation_name=scope["occupation_name"],
            levels=",".join(str(level) for level in sorted(scope["levels"])),
            work_types=json.dumps(scope["work_types"], ensure_ascii=False),
            valid_from=date.fromisoformat(scope["valid_from"]),
            valid_until=_opt_date(scope.get("valid_until")),
            recorded=now.unix,
        )
    )


def add_scope(conn: Connection, code: str, scope: dict[str, Any], now: Now, actor: str) -> None:
    """Add one scope entry (validated with the institution schema's scope rules)."""
    row = _institution_row(conn, code)
    probe = {
        "code": code,
        "name": row.name,
        "category": row.category,
        "national_code": row.national_code,
        "province": row.province,
        "site": row.site,
        "scopes": [scope],
    }
    found = [i for i in issues_json(validate_institution(probe)) if i["pointer"].startswith("/scopes/0")]
    if found:
        for issue in found:
            issue["pointer"] = issue["pointer"].removeprefix("/scopes/0")
        raise RegistryError("institution_invalid", details=found)
    _insert_scope(conn, code, scope, now)
    bump_directory(conn)
    append_event(
        conn, time=now.unix, actor=actor, action="institution.scope", subject=code, data={"scope": scope}
    )


def set_status(
    conn: Connection, code: str, status: str, effective: date | None, reason: str, now: Now, actor: str
) -> None:
    """Append a status change; effective today unless the centre names another day (retroactive)."""
    _institution_row(conn, code)
    if status not in INSTITUTION_STATUSES:
        raise RegistryError("status_invalid", f"status must be one of {INSTITUTION_STATUSES}")
    day = effective or now.today
    last = conn.execute(
        select(institution_statuses.c.recorded)
        .where(institution_statuses.c.institution_code == code)
        .order_by(institution_statuses.c.recorded.desc())
        .limit(1)
    ).scalar()
    # Strictly increasing, so "recorded last" is never a tie even within one second.
    recorded = max(now.unix, (last or 0) + 1)
    conn.execute(
        institution_statuses.insert().values(
            institution_code=code, status=status, effective=day, recorded=recorded, reason=reason
        )
    )
    bump_directory(conn)
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="institution.status",
        subject=code,
        data={"status": status, "effective": day.isoformat(), "reason": reason},
    )


def register_key(
    conn: Connection,
    code: str,
    jwk: object,
    valid_from: date,
    valid_until: date | None,
    now: Now,
    actor: str,
    *,
    by_admin: bool,
) -> str:
    """Register an institution's public key; returns its kid (base64url).

    An institution registers keys valid from today on only: a stolen institution token must not be
    able to vouch for certificates dated before the theft. The administrator may set any day.
    """
    require_active(conn, code, now, by_admin=by_admin)
    if not by_admin and valid_from < now.today:
        raise RegistryError("key_backdated", f"valid_from {valid_from.isoformat()} < {now.today.isoformat()}")
    try:
        key = from_jwk(jwk)
    except PublicKeyError as e:
        raise RegistryError("key_invalid", e.message_en) from e
    if valid_until is not None and valid_until < valid_from:
        raise RegistryError("key_invalid", "valid_until is before valid_from")
    if conn.execute(select(institution_keys.c.kid).where(institution_keys.c.kid == key.kid_b64)).first():
        raise RegistryError("key_exists", key.kid_b64)
    conn.execute(
        institution_keys.insert().values(
            kid=key.kid_b64,
            institution_code=code,
            public_key=b64url(key.raw),
            valid_from=valid_from,
            valid_until=valid_until,
            revoke_reason="",
            recorded=now.unix,
        )
    )
    bump_directory(conn)
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="key.register",
        subject=code,
        data={
            "kid": key.kid_b64,
            "x": b64url(key.raw),
            "valid_from": valid_from.isoformat(),
            "valid_until": iso_day(valid_until),
        },
    )
    return key.kid_b64


def retire_key(
    conn: Connection, code: str, kid: str, retired: date, now: Now, actor: str, *, by_admin: bool
) -> None:
    """Mark a rotated key retired: it keeps vouching for what it signed up to that day.

    An institution retires from today on only: an earlier day would take back what the key already
    vouched for, and a stolen institution token must not be able to do that. The administrator may.
    """
    require_active(conn, code, now, by_admin=by_admin)
    if not by_admin and retired < now.today:
        raise RegistryError(
            "key_change_backdated", f"retired {retired.isoformat()} < {now.today.isoformat()}"
        )
    row = _key_row(conn, code, kid)
    if row.retired is not None or row.revoked is not None:
        raise RegistryError("key_state", kid)
    if retired < row.valid_from:
        raise RegistryError("key_retire_early", f"{retired.isoformat()} < {row.valid_from.isoformat()}")
    conn.execute(update(institution_keys).where(institution_keys.c.kid == kid).values(retired=retired))
    bump_directory(conn)
    append_event(
        conn,
        time=now.unix,
        actor=actor,
        action="key.retire",
        subject=code,
        data={"kid": kid, "retired": retired.isoformat()},
    )


def revoke_key(
    conn: Connection,
    code: str,
    kid: str,
    revoked: date,
    reason: str,
    now: Now,
    actor: str,
    *,
    by_admin: bool,
    digests: Digests,
) -> None:
    """Revoke a compromised key from a day: credentials issued from then on fail.

    The day is never in the future (a revocation is a finding, not a plan). An institution token
    revokes from today only: back-dating invalidates certificates already issued, and nothing could
    undo it if a stolen token did it, so that needs the administrator. A key already revoked may be
    revoked again only from an EARLIER day (the compromise turned out to be older): the key shows
    the earlier day, and the audit log keeps both events, so no history is rewritten. A wrong day is
    put right by ``correct_revocation``.
    """
    require_active(conn, code, now, by_admin=by_admin)
    if revoked > now.today:
        raise RegistryError("key_revoke_future", f"{revoked.isoformat()} > {now.today.isoformat()}")
    if not by_admin and revoked < now.today:
        raise RegistryError(
            "key_change_backdated", f"revoked {revoked.isoformat()} < {now.today.isoformat()}"
        )
    row = _key_row(conn, code, kid)
    if row.revoked is not None and revoked >= row.revoked:
        raise RegistryError(
            "key_state", f"{kid} is revoked from {row.revoked.isoformat()}; only an earlier day"
        )
    conn.execute(
        update(institution_keys)
        .where(institution_keys.c.kid == kid)
        .values(revoked=revoked, revoke_reason=reason)
    )
    bump_directory(conn)
    data = {"kid": kid, "revoked": revoked.isoformat(), "reason": digests.of("reason", reason)}
    if row.revoked is not None:
        data["previously_revoked"] = row.revoked.isoformat()
    append_event(conn, time=now.unix, actor=actor, action="key.revoke", subject=code, data=data)


def correct_revocation(
    conn: Connection,
    code: str,
    kid: str,
    revoked: date | None,
    reason: str,
    now: Now,
    actor: str,
    digests: Digests,
) -> None:
    """The appraisal centre puts a wrong revocation day right: a later day, or none (withdrawn).

    Only for a revoked key, never to a future day. The key shows the corrected day; the audit log
    keeps the revocation and this correction (old and new day, who, why), so nothing is deleted.
    """
    _institution_row(conn, code)
    row = _key_row(conn, code, kid)
    if row.revoked is None:
        raise RegistryError("key_state", f"{kid} is not revoked")
    if revoked is not None and revoked > now.today:
        raise RegistryError("key_revoke_future", f"{revoked.isoformat()} > {now.today.isoformat()}")
    if revoked == row.revoked:
        raise RegistryError("key_state", f"{kid} is already revoked from {row.revoked.isoformat()}")
    conn.execute(
        update(institution_keys)
        .where(institution_keys.c.kid == kid)
        .values(revoked=revoked, revoke_reason=reason if revoked is not None else "")
    )
    bump_directory(conn)
    data = {
        "kid": kid,
        "revoked": iso_day(revoked),
        "previously_revoked": row.revoked.isoformat(),
        "reason": digests.of("reason", reason),
    }
    append_event(conn, time=now.unix, actor=actor, action="key.revocation_correct", subject=code, data=data)


def require_active(conn: Connection, code: str, now: Now, *, by_admin: bool) -> None:
    """The institution exists; and, unless the administrator acts, it is active today.

    A suspended institution may read its own records but change nothing: no keys, batches,
    publication or certificate status (a removed one's tokens are refused outright). Its
    certificates are then the appraisal centre's to act on. Otherwise a stolen token of an
    institution under suspension would still vouch for new credentials or lift suspensions.
    """
    institution = load_institution(conn, code)
    if not by_admin and institution.status_on(now.today) != ACTIVE:
        raise RegistryError("institution_not_active", f"{code} is {institution.status_on(now.today)} today")


def _institution_row(conn: Connection, code: str) -> Any:
    row = conn.execute(select(institutions).where(institutions.c.code == code)).first()
    if row is None:
        raise RegistryError("institution_unknown", code)
    return row


def _key_row(conn: Connection, code: str, kid: str) -> Any:
    row = conn.execute(
        select(institution_keys).where(
            institution_keys.c.kid == kid, institution_keys.c.institution_code == code
        )
    ).first()
    if row is None:
        raise RegistryError("key_unknown", kid)
    return row


def load_institutions(conn: Connection, code: str | None = None) -> list[Institution]:
    """The directory's institutions (or one), as the credential layer's dataclasses."""
    where = [institutions.c.code == code] if code is not None else []
    found = conn.execute(select(institutions).where(*where).order_by(institutions.c.code)).all()
    if not found:
        return []
    codes = [r.code for r in found]
    statuses: dict[str, list[StatusChange]] = {c: [] for c in codes}
    for s in conn.execute(
        select(institution_statuses)
        .where(institution_statuses.c.institution_code.in_(codes))
        .order_by(institution_statuses.c.id)
    ):
        statuses[s.institution_code].append(StatusChange(s.status, s.effective, s.recorded, s.reason))
    scope_rows: dict[str, list[Scope]] = {c: [] for c in codes}
    for s in conn.execute(select(scopes).where(scopes.c.institution_code.in_(codes)).order_by(scopes.c.id)):
        scope_rows[s.institution_code].append(
            Scope(
                occupation_code=s.occupation_code,
                occupation_name=s.occupation_name,
                levels=tuple(int(level) for level in s.levels.split(",")),
                valid_from=s.valid_from,
                valid_until=s.valid_until,
                work_types=tuple(json.loads(s.work_types)),
            )
        )
    keys: dict[str, list[KeyEntry]] = {c: [] for c in codes}
    for k in conn.execute(
        select(institution_keys)
        .where(institution_keys.c.institution_code.in_(codes))
        .order_by(institution_keys.c.recorded, institution_keys.c.kid)
    ):
        keys[k.institution_code].append(
            KeyEntry(
                kid=b64url_decode(k.kid),
                public_key=b64url_decode(k.public_key),
                valid_from=k.valid_from,
                valid_until=k.valid_until,
                retired=k.retired,
                revoked=k.revoked,
            )
        )
    return [
        Institution(
            code=r.code,
            name=r.name,
            uscc=r.uscc,
            category=r.category,
            statuses=tuple(statuses[r.code]),
            scopes=tuple(scope_rows[r.code]),
            keys=tuple(keys[r.code]),
        )
        for r in found
    ]


def load_institution(conn: Connection, code: str) -> Institution:
    """One institution, or ``institution_unknown``."""
    found = load_institutions(conn, code)
    if not found:
        raise RegistryError("institution_unknown", code)
    return found[0]


def institution_json(institution: Institution, today: date) -> dict[str, Any]:
    """The public directory record of one institution."""
    return {
        "code": institution.code,
        "name": institution.name,
        "uscc": institution.uscc,
        "category": institution.category,
        "status": institution.status_on(today),
        "statuses": [
            {
                "status": s.status,
                "effective": s.effective.isoformat(),
                "recorded": s.recorded,
                "reason": s.reason,
            }
            for s in institution.statuses
        ],
        "scopes": [
            {
                "occupation_code": s.occupation_code,
                "occupation_name": s.occupation_name,
                "levels": list(s.levels),
                "work_types": list(s.work_types),
                "valid_from": s.valid_from.isoformat(),
                "valid_until": iso_day(s.valid_until),
            }
            for s in institution.scopes
        ],
        "keys": [
            {
                "kid": b64url(k.kid),
                "x": b64url(k.public_key),
                "valid_from": k.valid_from.isoformat(),
                "valid_until": iso_day(k.valid_until),
                "retired": iso_day(k.retired),
                "revoked": iso_day(k.revoked),
            }
            for k in institution.keys
        ],
    }


def _opt_date(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value))
