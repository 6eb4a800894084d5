"""The record online verifiers read (``GET /api/v1/certificates/{n}/record``), answered in front of
FastAPI (``registry.hot_record``): the route's very answers, on SQLite and PostgreSQL, a status change
seen by the next look-up, and every unusual request handed to the whole app with its usual answer.

The parity test asks the front and the app behind it (``app.layers``, where the route still is) the
same questions in process; everything else goes over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from harness.servers import serve_app
from test_registry_support import PASSPHRASE, Api, SettableClock, roster_row, sign_row

from common.calendar import registry_day
from credential.constants import DEFAULT_LIMITS
from credential.qr_text import from_qr_text
from keys import Signer
from registry.app import create_app
from registry.setup import init_registry

CODE = "Y000011000001"
KEY = Signer.generate()
RECORD = "/api/v1/certificates/{}/record"


@contextlib.contextmanager
def _registry(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[tuple[Api, Any]]:
    clock = SettableClock()
    made = init_registry(tmp_path / "registry", database_url, PASSPHRASE, clock=clock)
    app = create_app(replace(made.settings, **overrides))
    try:
        with serve_app(app) as url:
            api = Api(url, clock, tmp_path / "registry", {"admin": made.admin_token}, made.settings)
            api.tokens["reviewer"] = api.new_token("reviewer")
            yield api, app
    finally:
        app.state.registry.db.dispose()


def _published(api: Api) -> tuple[str, str]:
    """One published certificate: its number and the SHA-256 of its credential."""
    api.add_institution(CODE, KEY)
    row = roster_row(1)
    [approved] = api.approved_batch(CODE, "B-1", [row])["rows"]
    qr = sign_row(approved, str(row["id_number"]), KEY)
    api.ok("POST", "/api/v1/batches/B-1/publish", CODE, json={"credentials": [{"row": 1, "qr": qr}]})
    return approved["certificate"]["certificate_number"], hashlib.sha256(
        from_qr_text(qr, DEFAULT_LIMITS)[0]
    ).hexdigest()


def test_the_record_and_a_revocation_seen_at_once(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path) as (api, _):
        number, digest = _published(api)
        answer = api.call("GET", RECORD.format(number), params={"sha256": digest})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        record = answer.json()
        assert record == {
            "certificate_number": number,
            "status": "valid",
            "status_date": None,
            "reason_category": None,
            "reason_category_zh": None,
            "reason_category_en": None,
            "credential_sha256": digest,
            "published_at": record["published_at"],
            "institution_code": CODE,
        }
        assert roster_row(1)["id_number"] not in answer.text and "张三丰" not in answer.text
        body = {"action": "revoke", "reason": "test", "category": "fraud_found"}
        api.ok("POST", f"/api/v1/certificates/{number}/status", CODE, json=body)
        revoked = api.ok("GET", RECORD.format(number), params={"sha256": digest})
        day = registry_day(api.clock().timestamp()).isoformat()
        assert (revoked["status"], revoked["status_date"], revoked["reason_category"]) == (
            "revoked",
            day,
            "fraud_found",
        )


def test_the_front_answers_as_the_route_does(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path) as (api, app):
        number, digest = _published(api)
        questions = [
            RECORD.format(number) + f"?sha256={digest}",
            RECORD.format(number) + f"?sha256={digest.upper()}",
            RECORD.format(number) + f"?sha256=00&sha256={digest}",  # the last one counts
            RECORD.format(number) + f"?sha256={digest}&sha256=00",
            RECORD.format(number) + f"?sha256={digest[:-1]}",
            RECORD.format(number) + "?sha256=",
            RECORD.format(number),
            RECORD.format(number[:-1] + "9") + f"?sha256={digest}",
            RECORD.format("%E8%AF%81" + number) + f"?sha256={digest}",
        ]

        async def ask(target: Any) -> list[tuple[int, str, bytes]]:
            transport = httpx.ASGITransport(app=target)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
                answers = [await client.get(question) for question in questions]
            return [(a.status_code, a.headers["content-type"], a.content) for a in answers]

        front, routed = asyncio.run(ask(app)), asyncio.run(ask(app.layers))
        assert front == routed
        assert [status for status, _, _ in front] == [200, 200, 200, 404, 404, 404, 404, 404, 404]


def test_unusual_requests_get_the_whole_apps_answers(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path, max_body_bytes=1024) as (api, _):
        number, digest = _published(api)
        path, query = RECORD.format(number), {"sha256": digest}
        assert api.call("HEAD", path, params=query).status_code == 405  # FastAPI's GET routes answer no HEAD
        posted = api.call("POST", path, params=query, json={})
        assert (posted.status_code, posted.json()["code"]) == (405, "method_not_allowed")
        nul = api.call("GET", path + "?sha256=%00")
        assert (nul.status_code, nul.json()["code"]) == (400, "invalid_characters")
        nul_path = api.call("GET", RECORD.format(number + "%00"), params=query)
        assert (nul_path.status_code, nul_path.json()["code"]) == (400, "invalid_characters")
        oversized = api.call("GET", path, params=query, content=b"x" * 2048)
        assert (oversized.status_code, oversized.json()["code"]) == (413, "body_too_large")
        assert api.ok("GET", path, params=query, content=b"")["status"] == "valid"
