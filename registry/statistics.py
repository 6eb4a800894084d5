"""Talent statistics (人才统计): certificates issued and in force, grouped by any of year, month,
occupation, level, province, institution and category.

Only certificates that are published (publicly queryable, "可在全国联网查询系统上查询的人员") count;
"in force" means published and neither revoked nor suspended today. Every answer names the audit
checkpoint it is as of: the counts are taken in one database snapshot together with the audit log's
size N, and a checkpoint of size N is signed, so an auditor can recount the same figures from the
log's first N entries plus the public directory (``registry.recount``, ``scripts/recount_statistics``).

The database is read once per log size into "fine cells" (institution, occupation, level, month,
status → count); any grouping is a roll-up of those cells, so a query costs no database time while
the log stands still. A changed log is re-read at most once per ``REFRESH_SECONDS`` of registry time:
figures lag by at most that long, and each says exactly which checkpoint it describes. Public cells
under ``SUPPRESS_BELOW`` are answered as ``null`` so nobody can be singled out.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from registry.audit import AuditLog
from registry.batches import PUBLISHED
from registry.clock import Now
from registry.db import AUDIT_COUNTER, Database
from registry.errors import RegistryError
from registry.schema import batches, counters, rows

DIMENSIONS = ("year", "month", "occupation", "level", "province", "institution", "category")
SUPPRESS_BELOW = 5
REFRESH_SECONDS = 60
VALID = "valid"
_MONTH = re.compile(r"(\d{4})(?:-(0[1-9]|1[0-2]))?")


@dataclass(frozen=True)
class Cell:
    """Published certificates of one institution, occupation, level, issue month and status."""

    institution: str
    occupation: str
    level: int
    month: str  # YYYY-MM of the issue date
    status: str
    count: int


@dataclass(frozen=True)
class Query:
    """A grouping and an inclusive range of issue months (``YYYY-MM``; None for an open end)."""

    group_by: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None

    @classmethod
    def parse(cls, group_by: str | None, start: str | None, end: str | None) -> Query:
        """Read the API's parameters; unknown dimensions and malformed months are ``statistics_invalid``."""
        wanted = tuple(d.strip() for d in (group_by or "").split(",") if d.strip())
        unknown = [d for d in wanted if d not in DIMENSIONS]
        if unknown or len(set(wanted)) != len(wanted):
            raise RegistryError(
                "statistics_invalid",
                f"group_by takes distinct names from {', '.join(DIMENSIONS)}",
                [{"pointer": "/group_by", "allowed": list(DIMENSIONS)}],
            )
        first, last = _month_bound(start, "from", first=True), _month_bound(end, "to", first=False)
        if first is not None and last is not None and first > last:
            raise RegistryError("statistics_invalid", "from is after to", [{"pointer": "/from"}])
        return cls(wanted, first, last)


def _month_bound(value: str | None, name: str, *, first: bool) -> str | None:
    """``YYYY`` or ``YYYY-MM`` as an inclusive month bound (a year means its first or last month)."""
    if value is None or value == "":
        return None
    found = _MONTH.fullmatch(value.strip())
    if found is None:
        raise RegistryError(
            "statistics_invalid", f"{name} is a year (YYYY) or a month (YYYY-MM)", [{"pointer": f"/{name}"}]
        )
    return f"{found[1]}-{found[2] or ('01' if first else '12')}"


def key_of(cell: Cell, dimension: str) -> str | int:
    """The value of one grouping dimension for a cell (province and category come from the code)."""
    match dimension:
        case "year":
            return int(cell.month[:4])
        case "month":
            return cell.month
        case "occupation":
            return cell.occupation
        case "level":
            return cell.level
        case "province":
            return cell.institution[5:7]
        case "institution":
            return cell.institution
        case _:
            return cell.institution[0]


def roll_up(cells: Iterable[Cell], query: Query) -> list[dict[str, Any]]:
    """Exact counts per group, sorted by key (no suppression: for staff and for recounting)."""
    issued: dict[tuple[str | int, ...], int] = defaultdict(int)
    in_force: dict[tuple[str | int, ...], int] = defaultdict(int)
    for cell in cells:
        if (query.start and cell.month < query.start) or (query.end and cell.month > query.end):
            continue
        key = tuple(key_of(cell, d) for d in query.group_by)
        issued[key] += cell.count
        if cell.status == VALID:
            in_force[key] += cell.count
    return [
        {"key": dict(zip(query.group_by, key, strict=True)), "in_force": in_force[key], "issued": issued[key]}
        for key in sorted(issued, key=lambda k: tuple(str(part) for part in k))
    ]


def suppress(groups: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public figures: every count under ``SUPPRESS_BELOW`` becomes ``None``."""
    return [
        {
            "key": g["key"],
            "in_force": _public(g["in_force"]),
            "issued": _public(g["issued"]),
        }
        for g in groups
    ]


def _public(count: int) -> int | None:
    return None if count < SUPPRESS_BELOW else count


def read_cells(conn: Connection) -> list[Cell]:
    """The fine cells of every published certificate, straight from the database."""
    if conn.dialect.name == "postgresql":
        month = func.to_char(rows.c.issue_date, "YYYY-MM").label("month")
    else:
        month = func.strftime("%Y-%m", rows.c.issue_date).label("month")
    found = conn.execute(
        select(
            batches.c.institution_code,
            rows.c.occupation_code,
            rows.c.level,
            month,
            rows.c.status,
            func.count().label("n"),
        )
        .select_from(rows.join(batches, rows.c.batch_pk == batches.c.id))
        .where(rows.c.state == PUBLISHED)
        .group_by(batches.c.institution_code, rows.c.occupation_code, rows.c.level, month, rows.c.status)
    ).all()
    return [Cell(r[0], r[1], int(r[2]), str(r[3]), r[4], int(r[5])) for r in found]


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """One consistent view: SQLite's read transactions already are; PostgreSQL needs REPEATABLE READ."""
    if db.is_sqlite:
        with db.read() as conn:
            yield conn
        return
    with db.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


@dataclass(frozen=True)
class Figures:
    """Fine cells as of audit log size ``as_of_checkpoint``."""

    as_of_checkpoint: int
    cells: tuple[Cell, ...]
    computed_at: int


class Statistics:
    """The per-process cache of fine cells, refreshed when the log has grown (at most once a minute)."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        self._figures: Figures | None = None
        self._lock = threading.Lock()

    def figures(self, now: Now) -> Figures:
        """The cached figures, re-read if the log grew and they are older than ``REFRESH_SECONDS``."""
        with self._lock:
            current = self._figures
            if current is not None and now.unix - current.computed_at < REFRESH_SECONDS:
                return current
            with self._db.read() as conn:
                size = _log_size(conn)
            if current is None or size != current.as_of_checkpoint:
                current = self._read(now)
            else:
                current = Figures(current.as_of_checkpoint, current.cells, now.unix)
            self._figures = current
            return current

    def _read(self, now: Now) -> Figures:
        with snapshot(self._db) as conn:
            size = _log_size(conn)
            cells = tuple(read_cells(conn))
        self._audit.checkpoint_at(size, now.unix)
        return Figures(size, cells, now.unix)

    def answer(self, query: Query, now: Now) -> dict[str, Any]:
        """The public JSON answer."""
        figures = self.figures(now)
        return {
            "as_of_checkpoint": figures.as_of_checkpoint,
            "suppressed_below": SUPPRESS_BELOW,
            "group_by": list(query.group_by),
            "from": query.start,
            "to": query.end,
            "groups": suppress(roll_up(figures.cells, query)),
        }


def _log_size(conn: Connection) -> int:
    return int(conn.execute(select(counters.c.value).where(counters.c.name == AUDIT_COUNTER)).scalar_one())
