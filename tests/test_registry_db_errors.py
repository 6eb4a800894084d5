"""Database failures leave as stable codes with nothing written, on SQLite and on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from harness.servers import serve_app
from sqlalchemy import Connection, func, insert, select

from registry.db import Database
from registry.errors import RegistryError
from registry.http_errors import install
from registry.migrate import upgrade
from registry.schema import counters


def _counter_rows(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(counters)).scalar_one())


def test_a_constraint_that_fires_is_write_conflict_and_the_whole_write_rolls_back(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db.engine)
    try:
        before = _counter_rows(db)

        def two_inserts_second_duplicate(conn: Connection) -> None:
            conn.execute(insert(counters).values(name="test_first", value=1))
            conn.execute(insert(counters).values(name="test_first", value=2))

        with pytest.raises(RegistryError) as raised:
            db.write(two_inserts_second_duplicate)
        assert raised.value.code == "write_conflict"
        assert raised.value.status == 409
        assert _counter_rows(db) == before  # the first insert went back too
    finally:
        db.dispose()


def test_a_defect_answers_the_error_json_without_a_trace() -> None:
    app = FastAPI()
    install(app)

    @app.get("/broken")
    def broken() -> None:
        raise ZeroDivisionError("a defect, planted for this test")

    with serve_app(app) as url:
        answer = httpx.get(f"{url}/broken", timeout=30)
    assert answer.status_code == 500
    body = answer.json()
    assert body["code"] == "internal_error"
    assert body["message_zh"].startswith("登记系统内部错误")
    assert "ZeroDivisionError" not in answer.text and "Traceback" not in answer.text
