"""One caller must not stall every write: a submission is checked before the write lock is taken
(a refusal never waits for it), and one token has a bounded number of heavy writes in flight.

The test itself holds the database's write lock, as a long write by someone else would: SQLite's
``BEGIN IMMEDIATE``, or on PostgreSQL the audit counter row the registry locks first. Whatever needs
the lock waits until the test lets go; nothing here depends on how long anything takes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from sqlalchemy import create_engine, select
from test_registry_support import roster_row, running_registry

from registry.db import AUDIT_COUNTER
from registry.schema import counters

CODE = "Y000011000001"


@contextlib.contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Hold the lock every registry write takes first, until the block ends."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                conn.execute(
                    select(counters.c.value).where(counters.c.name == AUDIT_COUNTER).with_for_update()
                )
            try:
                yield
            finally:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("ROLLBACK")
                else:
                    conn.rollback()
    finally:
        engine.dispose()


def _batch(batch_id: str, count: int) -> dict[str, object]:
    return {"batch_id": batch_id, "institution_code": CODE, "rows": [roster_row(i) for i in range(count)]}


def test_a_refused_submission_never_waits_for_the_write_lock(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, max_batch_rows=3) as api:
        api.add_institution(CODE)
        with write_lock_held(database_url):
            too_large = api.call("POST", "/api/v1/batches", CODE, json=_batch("L", 4))
            other = {**_batch("O", 1), "institution_code": "S000011000002"}
            forbidden = api.call("POST", "/api/v1/batches", CODE, json=other)
        assert (too_large.status_code, too_large.json()["code"]) == (413, "batch_too_large")
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")


def test_one_token_has_a_bounded_number_of_heavy_writes_in_flight(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, max_in_flight_per_token=1) as api:
        api.add_institution(CODE)
        with ThreadPoolExecutor(2) as pool:
            with write_lock_held(database_url):
                calls = [
                    pool.submit(api.call, "POST", "/api/v1/batches", CODE, json=_batch(name, 2))
                    for name in ("A", "B")
                ]
                # One holds the token's only slot and waits for the lock; the other is answered now.
                done, waiting = wait(calls, return_when=FIRST_COMPLETED)
                [busy] = [f.result() for f in done]
                assert (busy.status_code, busy.json()["code"]) == (429, "too_busy")
                assert busy.headers["retry-after"] == "1"
                assert len(waiting) == 1
            [stored] = [f.result() for f in waiting]
        assert stored.status_code == 200, stored.text
        assert api.ok("POST", "/api/v1/batches", CODE, json=_batch("C", 2))["state"] == "submitted"
