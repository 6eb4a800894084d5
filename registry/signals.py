"""Signals for the regulator: institutions whose pattern deserves a look. Each signal states its rule
and threshold, lists the institutions it fires for with the figures behind it, and decides nothing:
staff read it and act (or not) through the credit file.

Windows are in registry days (China Standard Time) ending today. The thresholds are constants here so
the page, the API and the tests state the same numbers.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from registry.batches import APPROVED, PUBLISHED
from registry.clock import Now
from registry.complaints import UPHELD
from registry.db import AUDIT_COUNTER
from registry.schema import audit_events, batches, counters, rows
from registry.schema_supervision import complaint_steps, complaints

SURGE_DAYS, SURGE_FACTOR, SURGE_MIN = 30, 3.0, 50
SCOPE_DAYS, SCOPE_MIN, SCOPE_SHARE = 90, 20, 0.10
REVOKE_DAYS, REVOKE_MIN, REVOKE_SHARE = 30, 10, 0.05
UPHELD_DAYS, UPHELD_MIN = 90, 1
_CERTIFIED = (APPROVED, PUBLISHED)


@dataclass(frozen=True)
class Signal:
    """One rule: its code, words, threshold and the function that finds institutions."""

    code: str
    title_zh: str
    title_en: str
    rule_zh: str
    rule_en: str
    threshold: dict[str, float]
    find: Callable[[Connection, Now], dict[str, dict[str, Any]]]


def _issuing_surge(conn: Connection, now: Now) -> dict[str, dict[str, Any]]:
    recent_start = now.today - timedelta(days=SURGE_DAYS)
    history_start = recent_start - timedelta(days=SURGE_DAYS * 12)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # Grouped by day and split here: PostgreSQL refuses to group by a comparison with a parameter.
    found = conn.execute(
        select(batches.c.institution_code, rows.c.issue_date, func.count())
        .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
        .where(
            rows.c.state.in_(_CERTIFIED), rows.c.issue_date >= history_start, rows.c.issue_date <= now.today
        )
        .group_by(batches.c.institution_code, rows.c.issue_date)
    ).all()
    for code, day, count in found:
        per[code][0 if day >= recent_start else 1] += int(count)
    hits = {}
    for code, (recent, history) in per.items():
        monthly = history / 12
        if recent >= SURGE_MIN and recent > SURGE_FACTOR * monthly:
            hits[code] = {"last_30_days": recent, "monthly_average_before": round(monthly, 1)}
    return hits


def _out_of_scope(conn: Connection, now: Now) -> dict[str, dict[str, Any]]:
    since = now.unix - SCOPE_DAYS * 86400
    found = conn.execute(
        select(batches.c.institution_code, rows.c.problems)
        .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
        .where(batches.c.submitted_at >= since)
    ).all()
    total: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for code, problems in found:
        total[code] += 1
        if any(p.get("code", "").startswith("out_of_scope") for p in json.loads(problems)):
            refused[code] += 1
    return {
        code: {"refused_out_of_scope": n, "rows": total[code]}
        for code, n in refused.items()
        if n >= SCOPE_MIN and n >= SCOPE_SHARE * total[code]
    }


def _duplicate_holder(conn: Connection, _now: Now) -> dict[str, dict[str, Any]]:
    holders = (
        select(rows.c.id_digest, rows.c.occupation_code, rows.c.level)
        .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
        .where(rows.c.state.in_(_CERTIFIED))
        .group_by(rows.c.id_digest, rows.c.occupation_code, rows.c.level)
        .having(func.count(distinct(batches.c.institution_code)) >= 2)
        .subquery()
    )
    found = conn.execute(
        select(batches.c.institution_code, func.count())
        .select_from(
            rows.join(batches, rows.c.batch_pk == batches.c.id).join(
                holders,
                (holders.c.id_digest == rows.c.id_digest)
                & (holders.c.occupation_code == rows.c.occupation_code)
                & (holders.c.level == rows.c.level),
            )
        )
        .where(rows.c.state.in_(_CERTIFIED))
        .group_by(batches.c.institution_code)
    ).all()
    return {code: {"certificates_shared_with_another_institution": int(n)} for code, n in found}


def _first_index_since(conn: Connection, since: int) -> int:
    """The first audit index whose event time is >= ``since`` (times never go back; binary search)."""
    low, high = (
        0,
        int(conn.execute(select(counters.c.value).where(counters.c.name == AUDIT_COUNTER)).scalar_one()),
    )
    while low < high:
        middle = (low + high) // 2
        data = conn.execute(select(audit_events.c.data).where(audit_events.c.idx == middle)).scalar_one()
        if json.loads(bytes(data))["time"] < since:
            low = middle + 1
        else:
            high = middle
    return low


def _revocation_burst(conn: Connection, now: Now) -> dict[str, dict[str, Any]]:
    start = _first_index_since(conn, now.unix - REVOKE_DAYS * 86400)
    revoked: Counter[str] = Counter()
    for (data,) in conn.execute(select(audit_events.c.data).where(audit_events.c.idx >= start)):
        event = json.loads(bytes(data))
        if event["action"] == "certificate.revoke":
            revoked[str(event["subject"])[:13]] += 1
    if not revoked:
        return {}
    counted = conn.execute(
        select(batches.c.institution_code, func.count())
        .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
        .where(rows.c.state == PUBLISHED, batches.c.institution_code.in_(list(revoked)))
        .group_by(batches.c.institution_code)
    ).all()
    published = {str(code): int(n) for code, n in counted}
    return {
        code: {"revoked_last_30_days": n, "published": int(published.get(code, 0))}
        for code, n in revoked.items()
        if n >= REVOKE_MIN and n >= REVOKE_SHARE * int(published.get(code, 0))
    }


def _complaints_upheld(conn: Connection, now: Now) -> dict[str, dict[str, Any]]:
    since = now.unix - UPHELD_DAYS * 86400
    found = conn.execute(
        select(complaints.c.institution_code, func.count())
        .select_from(complaint_steps.join(complaints, complaint_steps.c.complaint_id == complaints.c.id))
        .where(complaint_steps.c.state == UPHELD, complaint_steps.c.at >= since)
        .group_by(complaints.c.institution_code)
    ).all()
    return {code: {"upheld_last_90_days": int(n)} for code, n in found if n >= UPHELD_MIN}


SIGNALS = (
    Signal(
        "issuing_surge",
        "发证量远超自身历史水平",
        "issuing far above its own history",
        f"近 {SURGE_DAYS} 天发证数不少于 {SURGE_MIN}，且超过此前 12 个月月均的 {SURGE_FACTOR:g} 倍",
        f"at least {SURGE_MIN} certificates in the last {SURGE_DAYS} days and more than {SURGE_FACTOR:g}× "
        "the monthly average of the 12 months before",
        {"days": SURGE_DAYS, "factor": SURGE_FACTOR, "minimum": SURGE_MIN},
        _issuing_surge,
    ),
    Signal(
        "out_of_scope_refusals",
        "大量超范围被拒",
        "many rows refused as outside scope",
        f"近 {SCOPE_DAYS} 天提交的行中因超范围被拒不少于 {SCOPE_MIN} 行，且占比不低于 {SCOPE_SHARE:.0%}",
        f"at least {SCOPE_MIN} rows submitted in the last {SCOPE_DAYS} days refused as outside scope, "
        f"and at least {SCOPE_SHARE:.0%} of them",
        {"days": SCOPE_DAYS, "minimum": SCOPE_MIN, "share": SCOPE_SHARE},
        _out_of_scope,
    ),
    Signal(
        "duplicate_holder",
        "同一证件号码同职业同等级由两家机构发证",
        "same ID number, occupation and level certified by two institutions",
        "同一证件号码（按密钥摘要比对）、同一职业和等级的证书出自至少 2 家机构",
        "certificates for one ID number (compared as keyed digests), occupation and level from at least 2 institutions",
        {"institutions": 2},
        _duplicate_holder,
    ),
    Signal(
        "revocation_burst",
        "集中撤销证书",
        "a burst of revocations",
        f"近 {REVOKE_DAYS} 天撤销不少于 {REVOKE_MIN} 张，且不低于该机构已发布证书的 {REVOKE_SHARE:.0%}",
        f"at least {REVOKE_MIN} revocations in the last {REVOKE_DAYS} days, and at least {REVOKE_SHARE:.0%} "
        "of the institution's published certificates",
        {"days": REVOKE_DAYS, "minimum": REVOKE_MIN, "share": REVOKE_SHARE},
        _revocation_burst,
    ),
    Signal(
        "complaints_upheld",
        "近期有投诉被查实",
        "complaints upheld recently",
        f"近 {UPHELD_DAYS} 天至少 {UPHELD_MIN} 件投诉被查实",
        f"at least {UPHELD_MIN} complaint upheld in the last {UPHELD_DAYS} days",
        {"days": UPHELD_DAYS, "minimum": UPHELD_MIN},
        _complaints_upheld,
    ),
)


def evaluate(conn: Connection, now: Now) -> list[dict[str, Any]]:
    """Every signal with its rule, threshold and the institutions it fires for (sorted by code)."""
    return [
        {
            "code": s.code,
            "title_zh": s.title_zh,
            "title_en": s.title_en,
            "rule_zh": s.rule_zh,
            "rule_en": s.rule_en,
            "threshold": s.threshold,
            "institutions": [
                {"institution_code": c, "figures": f} for c, f in sorted(s.find(conn, now).items())
            ],
        }
        for s in SIGNALS
    ]
