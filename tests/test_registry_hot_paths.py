"""The record and the holder confirmation online verifiers ask for (``GET /api/v1/certificates/{n}/record``,
``POST …/confirm-holder``) and the public query (``POST /api/v1/certificates/query``), answered in
front of FastAPI (``registry.hot_paths``): the routes' very answers, on SQLite and PostgreSQL, a
status change seen by the next look-up, the rate limit taken once and only for a valid body, and
every unusual request handed to the whole app with its usual answer.

The parity tests ask the front and the app behind it (``app.layers``, where the routes still are)
the same questions in process; everything else goes over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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


HOLDER = roster_row(1)
CONFIRM = "/api/v1/certificates/{}/confirm-holder"
QUERY = "/api/v1/certificates/query"
JSON_TYPE = {"content-type": "application/json"}


def _published(api: Api) -> tuple[str, str]:
    """One published certificate: its number and the SHA-256 of its credential."""
    api.add_institution(CODE, KEY)
    row = HOLDER
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

        front = _ask(app, [("GET", question, None, {}) for question in questions])
        assert front == _ask(app.layers, [("GET", question, None, {}) for question in questions])
        assert [status for status, _, _, _ in front] == [200, 200, 200, 404, 404, 404, 404, 404, 404]


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


def _ask(target: Any, requests: Sequence[tuple[str, str, bytes | None, dict[str, str]]]) -> list[Any]:
    """Each request's status, content type, Retry-After and body from ``target``, in process."""

    async def ask() -> list[Any]:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            answers = [
                await client.request(method, url, content=body, headers=headers)
                for method, url, body, headers in requests
            ]
        return [
            (a.status_code, a.headers.get("content-type"), a.headers.get("retry-after"), a.content)
            for a in answers
        ]

    # A thread of its own: in a worker where Playwright ran, this thread already has a running loop.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, ask()).result()


def test_the_confirmation_answers_as_the_route_does(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path, query_burst=1000) as (api, app):
        number, _ = _published(api)
        url = CONFIRM.format(number)
        name, id_number = str(HOLDER["holder_name"]), str(HOLDER["id_number"])
        json_type = {"content-type": "application/json"}
        bodies = [
            {"holder_name": name, "id_number": id_number},
            {"holder_name": f" {name} ", "id_number": id_number.lower()},
            {"holder_name": name, "id_number": id_number[:-1] + "0"},
            {"holder_name": "李四", "id_number": id_number},
            {"holder_name": name},
            {"holder_name": name, "id_number": id_number, "extra": 1},
            {"holder_name": name, "id_number": 5},
            {"holder_name": "", "id_number": id_number},
            {"holder_name": name + "\u0000", "id_number": id_number},
            [name, id_number],
        ]
        requests = [("POST", url, json.dumps(body).encode(), json_type) for body in bodies]
        requests += [
            ("POST", url, b'{"holder_name": "\\ud800", "id_number": "1"}', json_type),
            ("POST", url, b"{not json", json_type),
            ("POST", url, b"", json_type),
            ("POST", url, json.dumps(bodies[0]).encode(), {"content-type": "text/plain"}),
            (
                "POST",
                url,
                json.dumps(bodies[0]).encode(),
                {"content-type": "application/json; charset=utf-8"},
            ),
            ("POST", CONFIRM.format(number[:-1] + "9"), json.dumps(bodies[0]).encode(), json_type),
        ]
        front = _ask(app, requests)
        assert front == _ask(app.layers, requests)
        statuses = [status for status, _, _, _ in front]
        assert statuses[:4] == [200] * 4 and statuses[4:13] == [422, 422, 422, 422, 400, 422, 400, 400, 422]
        assert [json.loads(body)["match"] for _, _, _, body in front[:4]] == [True, True, False, False]


def test_the_confirmation_takes_one_token_and_only_for_a_valid_body(
    database_url: str, tmp_path: Path
) -> None:
    with _registry(database_url, tmp_path, query_burst=2, query_rate_per_second=0.001) as (api, _):
        number, _ = _published(api)
        url = CONFIRM.format(number)
        valid = {"holder_name": str(HOLDER["holder_name"]), "id_number": str(HOLDER["id_number"])}
        for _ in range(3):  # refused bodies take no token
            assert api.call("POST", url, json={"holder_name": "x"}).status_code == 422
        assert api.ok("POST", url, json=valid) == {"match": True}
        assert api.ok("POST", url, json=valid) == {"match": True}
        limited = api.call("POST", url, json=valid)
        assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
        assert limited.headers["retry-after"] == "1"


def test_the_query_answers_as_the_route_does(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path, query_burst=1000) as (api, app):
        number, _ = _published(api)
        name, id_number = str(HOLDER["holder_name"]), str(HOLDER["id_number"])
        bodies: list[Any] = [
            {"certificate_number": number, "holder_name": name},
            {"certificate_number": number, "holder_name": f" {name} "},
            {"holder_name": name, "id_number": id_number},
            {"holder_name": name, "id_number": id_number.lower()},
            {"certificate_number": number, "holder_name": "李四"},
            {"certificate_number": number[:-1] + "9", "holder_name": name},
            {"holder_name": name, "id_number": id_number[:-1] + "0"},
            {"certificate_number": number, "holder_name": name, "id_number": id_number},
            {"holder_name": name},
            {"certificate_number": number, "holder_name": name, "extra": 1},
            {"certificate_number": number + "0", "holder_name": name},
            {"certificate_number": 5, "holder_name": name},
            {"certificate_number": number, "holder_name": ""},
            {"certificate_number": number, "holder_name": name + "\u0000"},
            [number, name],
        ]
        requests = [("POST", QUERY, json.dumps(body).encode(), JSON_TYPE) for body in bodies]
        requests += [
            ("POST", QUERY, b"{not json", JSON_TYPE),
            ("POST", QUERY, json.dumps(bodies[0]).encode(), {"content-type": "text/plain"}),
            ("POST", QUERY + "/", json.dumps(bodies[0]).encode(), JSON_TYPE),
        ]
        front = _ask(app, requests)
        assert front == _ask(app.layers, requests)
        statuses = [status for status, _, _, _ in front]
        assert statuses == [200] * 4 + [404] * 3 + [422] * 6 + [400, 422, 400, 422, 307]
        found = [json.loads(body)["certificates"][0]["certificate"] for _, _, _, body in front[:4]]
        assert {c["certificate_number"] for c in found} == {number}
        assert all(id_number not in body.decode() for _, _, _, body in front)


def test_the_query_takes_one_token_and_only_for_a_valid_body(database_url: str, tmp_path: Path) -> None:
    with _registry(database_url, tmp_path, query_burst=2, query_rate_per_second=0.001) as (api, _):
        number, _ = _published(api)
        valid = {"certificate_number": number, "holder_name": str(HOLDER["holder_name"])}
        for _ in range(3):  # refused bodies take no token
            assert api.call("POST", QUERY, json={"certificate_number": number}).status_code == 422
        both = api.call("POST", QUERY, json=valid | {"id_number": str(HOLDER["id_number"])})
        assert (both.status_code, both.json()["code"]) == (422, "invalid_request")  # checked after the token
        assert api.ok("POST", QUERY, json=valid)["certificates"][0]["status"] == "valid"
        limited = api.call("POST", QUERY, json=valid)
        assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
        assert limited.headers["retry-after"] == "1"
