"""Talent statistics (人才统计): certificates issued and in force, grouped by any of year, month,
occupation, level, province, institution and category.

Only certificates that are published (publicly queryable, "可在全国联网查询系统上查询的人员") count;
"in force" means published and neither revoked nor suspended today. Every answer names the audit
checkpoint it is as of: the counts are taken in one database snapshot together with the audit log's
size N, and a checkpoint of size N is signed, so an auditor can recount the same figures from the
log's first N entries plus the public directory (``registry.recount``, ``scripts/recount_statistics``).

The database is read once per log size into "fine cells" (institution, occupation, level, month,
status → count); any grouping is a roll-up of those cells, so a query costs no database time while
the log stands still. A running registry re-checks the log at most once per ``statistics_refresh``
seconds, in the background: figures lag by about that long, and each says exactly which checkpoint
it describes. Public cells
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
_ANSWERS_MAX = 512
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
    """Fine cells as of audit log size ``as_of_checkpoint``, last checked against the log at ``checked_at``."""

    as_of_checkpoint: int
    cells: tuple[Cell, ...]
    checked_at: int


class Statistics:
    """The per-process cache of fine cells and of the answers rolled up from them.

    With ``refresh`` > 0 (a running service) figures older than ``refresh`` seconds are re-checked
    in a background thread while requests keep getting the figures they have, each labelled with its
    checkpoint: a cold read at a million certificates takes seconds and must not stall every
    request behind it. Only the very first request waits. With ``refresh`` = 0 (tests, tools) every
    request re-checks the log size and re-reads synchronously when it grew.
    """

    def __init__(self, db: Database, audit: AuditLog, refresh: int = REFRESH_SECONDS) -> None:
        self._db = db
        self._audit = audit
        self._refresh = refresh
        self._figures: Figures | None = None
        self._answers: dict[tuple[int, Query], list[dict[str, Any]]] = {}
        self._refreshing = False
        self._lock = threading.Lock()

    def figures(self, now: Now) -> Figures:
        """The figures to answer with now (see the class's note on refreshing)."""
        with self._lock:
            current = self._figures
            if current is None or self._refresh == 0:
                self._store(self._checked(current, now))
                assert self._figures is not None
                return self._figures
            if now.unix - current.checked_at < self._refresh or self._refreshing:
                return current
            self._refreshing = True
        threading.Thread(target=self._refresh_in_background, args=(current, now), daemon=True).start()
        return current

    def _refresh_in_background(self, current: Figures, now: Now) -> None:
        try:
            fresh = self._checked(current, now)
            with self._lock:
                self._store(fresh)
        except RegistryError:
            pass  # the database is busy or down: keep answering with the figures we have
        finally:
            self._refreshing = False

    def _checked(self, current: Figures | None, now: Now) -> Figures:
        """``current`` if the log has not grown since, else a fresh read."""
        with self._db.read() as conn:
            size = _log_size(conn)
        if current is not None and size == current.as_of_checkpoint:
            return Figures(current.as_of_checkpoint, current.cells, now.unix)
        return self.read(now)

    def _store(self, figures: Figures) -> None:
        if self._figures is None or figures.as_of_checkpoint != self._figures.as_of_checkpoint:
            self._answers = {}
        self._figures = figures

    def read(self, now: Now) -> Figures:
        """Read the fine cells from the database now (the cold path), with the log size they match."""
        with snapshot(self._db) as conn:
            size = _log_size(conn)
            cells = tuple(read_cells(conn))
        self._audit.checkpoint_at(size, now.unix)
        return Figures(size, cells, now.unix)

    def _groups(self, figures: Figures, query: Query) -> list[dict[str, Any]]:
        """Suppressed groups, rolled up once per checkpoint and query (a bounded cache)."""
        key = (figures.as_of_checkpoint, query)
        with self._lock:
            found = self._answers.get(key)
        if found is None:
            found = suppress(roll_up(figures.cells, query))
            with self._lock:
                if len(self._answers) >= _ANSWERS_MAX:
                    self._answers.clear()
                if figures is self._figures:
                    self._answers[key] = found
        return found

    def answer(self, query: Query, now: Now) -> dict[str, Any]:
        """The public JSON answer."""
        figures = self.figures(now)
        return {
            "as_of_checkpoint": figures.as_of_checkpoint,
            "suppressed_below": SUPPRESS_BELOW,
            "group_by": list(query.group_by),
            "from": query.start,
            "to": query.end,
            "groups": self._groups(figures, query),
        }


def _log_size(conn: Connection) -> int:
    return int(conn.execute(select(counters.c.value).where(counters.c.name == AUDIT_COUNTER)).scalar_one())
