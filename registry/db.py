"""Connections and transactions: every change is one transaction, and writers take turns.

Writers are serialised: on SQLite by ``BEGIN IMMEDIATE`` (the database's own write lock), on PostgreSQL
by locking the audit counter row first (``SELECT ... FOR UPDATE``). Every change appends to the audit
log anyway, which is a sequence, so this costs no real concurrency, rules out deadlocks, and makes
allocation of serials and status indices race-free; unique constraints back it up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from registry.errors import RegistryError
from registry.schema import counters

T = TypeVar("T")
AUDIT_COUNTER = "audit_size"
DIRECTORY_COUNTER = "directory_seq"
_RETRIES = 8
_BUSY_SECONDS = 30


def default_database_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file inside the data directory."""
    return f"sqlite:///{data_dir / 'registry.sqlite3'}"


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": _BUSY_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the only PostgreSQL driver we ship)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """A writer engine and a reader engine over one SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = _normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self._writer = _sqlite_engine(self.url, immediate=True)
            self._reader = _sqlite_engine(self.url, immediate=False)
        else:
            self._writer = create_engine(self.url, pool_pre_ping=True, pool_size=10)
            self._reader = self._writer

    @property
    def engine(self) -> Engine:
        """The writer engine (for migrations)."""
        return self._writer

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        try:
            with self._reader.begin() as conn:
                yield conn
        except OperationalError as e:
            raise RegistryError("database_unavailable", type(e.orig).__name__) from e

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one exclusive write transaction; retried when the database is busy."""
        for attempt in range(_RETRIES):
            try:
                with self._writer.begin() as conn:
                    if not self.is_sqlite:
                        conn.execute(
                            select(counters.c.value).where(counters.c.name == AUDIT_COUNTER).with_for_update()
                        )
                    return work(conn)
            except IntegrityError as e:
                # Checks run before every insert; a constraint that still fires means the write raced
                # something we did not foresee. The transaction rolled back whole: say so, not 500.
                raise RegistryError("write_conflict", type(e.orig).__name__) from e
            except OperationalError as e:
                if attempt == _RETRIES - 1:
                    raise RegistryError("database_unavailable", type(e.orig).__name__) from e
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._writer.dispose()
        self._reader.dispose()
