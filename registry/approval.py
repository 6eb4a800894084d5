"""Reviewing a batch: approving allocates certificate numbers and status-list indices, all in one
transaction, together with the decisions and their audit event.

Serials come from a counter row per (institution, year, level), advanced with one atomic
``UPDATE ... RETURNING``; status indices are drawn at random among the unused ones of the open list
and recorded in ``status_allocations`` (primary key: never handed out twice). Writers are already
serialised (``db.Database.write``); the unique constraints are the second line of defence.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from credential.directory import ACTIVE, Institution
from registry import bulk
from registry.audit import Digests, append_event
from registry.batches import (
    APPROVED,
    INVALID,
    PENDING,
    REJECTED,
    REVIEWED,
    certified_keys,
    holder_key,
    pending_rows,
    stored_json,
)
from registry.clock import Now
from registry.errors import RegistryError
from registry.institutions import load_institution
from registry.problems import problem
from registry.schema import batches, rows, serials, status_allocations, status_lists
from registry.settings import Settings
from registry.supervision import require_record_before_approval
from registry.tokens import Principal

_MAX_SERIAL = 999_999
# What review reads of each row (not the stored credential nor the texts it does not check).
_REVIEWED_COLUMNS = (
    rows.c.id,
    rows.c.row_no,
    rows.c.state,
    rows.c.id_digest,
    rows.c.occupation_code,
    rows.c.level,
    rows.c.work_type,
)
_HOLDER = slice(3, 6)  # id_digest, occupation_code, level in _REVIEWED_COLUMNS
_REJECTED = (rows.c.state, rows.c.reason)
_INVALID = (rows.c.state, rows.c.problems)
_NUMBERED = (
    rows.c.certificate_number,
    rows.c.issue_date,
    rows.c.status_list,
    rows.c.status_index,
    rows.c.state,
)
_ALLOCATED = (status_allocations.c.list_id, status_allocations.c.idx)


def review_batch(
    conn: Connection, batch: Any, body: dict[str, Any], principal: Principal, settings: Settings, now: Now
) -> None:
    """Apply the reviewer's decisions (or approve every pending row) to one batch.

    Nothing pending and "approve all valid" asked: nothing happens, and no event is appended, so a
    replayed request is harmless (explicit decisions on rows no longer pending are 409)."""
    query = select(*_REVIEWED_COLUMNS).where(rows.c.batch_pk == batch.id)
    found = {r.row_no: r for r in conn.execute(query).all()}
    decisions = _decisions(body, found)
    if not decisions:
        return  # a replayed "approve all valid" finds nothing pending: it changes and logs nothing
    rejected = [(found[n], reason) for n, approve, reason in decisions if not approve]
    to_approve = [found[n] for n, approve, _ in decisions if approve]
    if to_approve:
        require_record_before_approval(conn, batch.institution_code, batch.batch_id)
    institution = load_institution(conn, batch.institution_code)
    approvable, invalid = _recheck(conn, to_approve, institution, now)
    bulk.update_many(
        conn, rows, rows.c.id, _REJECTED, [(REJECTED, reason, row.id) for row, reason in rejected]
    )
    bulk.update_many(
        conn, rows, rows.c.id, _INVALID, [(INVALID, stored_json(ps), row.id) for row, ps in invalid]
    )
    approved = _approve(conn, approvable, batch.institution_code, settings, now)
    if pending_rows(conn, batch.id) == 0:
        conn.execute(update(batches).where(batches.c.id == batch.id).values(state=REVIEWED))
    digests = Digests(settings.hmac_secret)
    append_event(
        conn,
        time=now.unix,
        actor=principal.actor,
        action="batch.review",
        subject=batch.institution_code,
        data={
            "batch_id": digests.batch_id(batch.institution_code, batch.batch_id),
            "approved": approved,
            "rejected": [[row.row_no, digests.of("reason", reason)] for row, reason in rejected],
            "invalid": [[row.row_no, [p["code"] for p in ps]] for row, ps in invalid],
        },
    )


def _decisions(body: dict[str, Any], found: dict[int, Any]) -> list[tuple[int, bool, str]]:
    if body.get("approve_all_valid"):
        return [(n, True, "") for n, r in sorted(found.items()) if r.state == PENDING]
    decisions: list[tuple[int, bool, str]] = []
    seen: set[int] = set()
    for decision in body.get("decisions") or []:
        number = decision["row"]
        if number not in found or number in seen:
            raise RegistryError("row_unknown", f"row {number}")
        if found[number].state != PENDING:
            raise RegistryError("row_not_pending", f"row {number} is {found[number].state}")
        seen.add(number)
        decisions.append((number, bool(decision["approve"]), decision.get("reason") or ""))
    return decisions


def _recheck(
    conn: Connection, candidates: list[Any], institution: Institution, now: Now
) -> tuple[list[Any], list[tuple[Any, list[dict[str, Any]]]]]:
    """Issue-day checks: the certificate is dated today, so scope and status must hold today, and
    no other batch may have certified the same holder, occupation and level in the meantime."""
    today = now.today
    # Each row's columns read once (a result row's attribute costs a look-up by name).
    checked = [(row, holder_key(*row[_HOLDER]), row.work_type) for row in candidates]
    certified = certified_keys(conn, (key for _, key, _ in checked))
    active = institution.status_on(today) == ACTIVE
    in_scope: dict[tuple[str, int, str], bool] = {}  # most rows share their occupation, level and work type
    approvable, invalid = [], []
    for row, key, work_type in checked:
        found = []
        if not active:
            found.append(problem("/assessment_date", "institution_not_active_at_issue"))
        scope = (key[1], key[2], work_type)
        if scope not in in_scope:
            in_scope[scope] = institution.scope_for(*scope, today) is not None
        if not in_scope[scope]:
            found.append(problem("/occupation_code", "out_of_scope_at_issue"))
        if key in certified:
            found.append(problem("/id_number", "duplicate_certified"))
        if found:
            invalid.append((row, found))
        else:
            approvable.append(row)
    return approvable, invalid


def _approve(
    conn: Connection, approvable: list[Any], institution_code: str, settings: Settings, now: Now
) -> list[list[Any]]:
    if not approvable:
        return []
    year2 = now.today.year % 100
    by_level: dict[int, list[Any]] = defaultdict(list)
    for row in approvable:
        by_level[row.level].append(row)
    numbers: dict[int, str] = {}
    for level in sorted(by_level):
        first = allocate_serials(conn, institution_code, year2, level, len(by_level[level]))
        for offset, row in enumerate(by_level[level]):
            numbers[row.id] = f"{institution_code}{year2:02d}{level}{first + offset:06d}"
    indices = allocate_indices(conn, len(approvable), settings)
    today = now.today
    bulk.update_many(
        conn,
        rows,
        rows.c.id,
        _NUMBERED,
        [
            (numbers[row.id], today, list_id, index, APPROVED, row.id)
            for row, (list_id, index) in zip(approvable, indices, strict=True)
        ],
    )
    # The occupation code is public (it is on every query answer) and lets anyone recount the
    # statistics by occupation from the log (registry.recount).
    return [[row.row_no, numbers[row.id], row.occupation_code] for row in approvable]


def allocate_serials(conn: Connection, institution_code: str, year2: int, level: int, count: int) -> int:
    """Reserve ``count`` consecutive serials atomically; returns the first."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(serials)
        .values(institution_code=institution_code, year2=year2, level=level, value=0)
        .on_conflict_do_nothing()
    )
    last = conn.execute(
        update(serials)
        .where(
            serials.c.institution_code == institution_code, serials.c.year2 == year2, serials.c.level == level
        )
        .values(value=serials.c.value + count)
        .returning(serials.c.value)
    ).scalar_one()
    if last > _MAX_SERIAL:
        raise RegistryError("serial_exhausted", f"{institution_code} 20{year2:02d} level {level}")
    return int(last) - count + 1


def allocate_indices(conn: Connection, count: int, settings: Settings) -> list[tuple[int, int]]:
    """``count`` random, never-used (list, index) pairs, opening new lists as they fill."""
    result: list[tuple[int, int]] = []
    while len(result) < count:
        list_id, room = _open_list(conn, settings)
        take = min(room, count - len(result))
        chosen = _random_unused(conn, list_id, take, settings.status_list_size)
        bulk.insert_many(conn, status_allocations, _ALLOCATED, [(list_id, i) for i in chosen])
        conn.execute(
            update(status_lists)
            .where(status_lists.c.id == list_id)
            .values(allocated=status_lists.c.allocated + take)
        )
        result.extend((list_id, i) for i in chosen)
    return result


def _open_list(conn: Connection, settings: Settings) -> tuple[int, int]:
    """The newest list with room (creating list 0, or the next one, when needed) and its room."""
    newest = conn.execute(select(status_lists).order_by(status_lists.c.id.desc()).limit(1)).first()
    if newest is not None and newest.allocated < settings.status_list_fill:
        return int(newest.id), settings.status_list_fill - int(newest.allocated)
    list_id = 0 if newest is None else int(newest.id) + 1
    conn.execute(status_lists.insert().values(id=list_id, allocated=0, version=0))
    return list_id, settings.status_list_fill


_TAKEN_SQL = "SELECT idx FROM status_allocations WHERE list_id = {fixed} AND idx IN ({values})"


def _random_unused(conn: Connection, list_id: int, count: int, size: int) -> list[int]:
    """``count`` distinct indices of list ``list_id`` that no certificate holds, in random order.

    Indices are drawn one after another from the operating system's CSPRNG, each uniform below ``size``,
    and a draw already made or already taken is dropped: the survivors, in the order drawn, are a uniform
    random sequence of distinct free indices (so no shuffle is needed). The draws come eight bytes each
    from one ``token_bytes`` call (SystemRandom's ``sample`` and a shuffle asked the OS twice an index);
    the modulo's bias is below ``size`` / 2**64."""
    chosen: dict[int, None] = {}  # insertion-ordered: the order drawn
    while len(chosen) < count:
        drawn = [i for i in dict.fromkeys(_draw(count - len(chosen), size)) if i not in chosen]
        taken = {int(i) for (i,) in bulk.select_in(conn, _TAKEN_SQL, (list_id,), drawn)}
        chosen.update((i, None) for i in drawn if i not in taken)
    return list(chosen)


def _draw(count: int, size: int) -> list[int]:
    data = secrets.token_bytes(8 * count)
    return [int.from_bytes(data[i : i + 8], "little") % size for i in range(0, len(data), 8)]
