"""The registry client's error handling and retries, over real HTTP against a stub.

The stub app below STANDS IN FOR THE REGISTRY: it answers the few paths of docs/api.md these tests
need, with scripted failures (5xx, 401, 404, 409, non-JSON), and counts the requests it received so
the tests can tell what was retried and what was not. The real registry is exercised by the
end-to-end tests in test_issuer_run_flow.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from harness.servers import free_port, serve_app

from common.errors import SkillpassError
from issuer.client import (
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    RegistryRejectedError,
    RegistryUnavailableError,
)

INSTITUTION = {
    "code": "Y000011000001",
    "name": "中国国家铁路集团有限公司",
    "scopes": [
        {
            "occupation_code": "6-31-01-03",
            "occupation_name": "电工",
            "levels": [3, 4, 5],
            "work_types": ["--"],
            "valid_from": "2020-01-01",
            "valid_until": None,
        }
    ],
    "keys": [],
}


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message_zh": f"中文{code}", "message_en": f"english {code}", "details": [{"row": 1}]},
        status_code=status,
    )


def _conflict(status: str) -> JSONResponse:
    body = {
        "code": "status_change_invalid",
        "message_zh": "不允许",
        "message_en": "no",
        "details": [{"status": status}],
    }
    return JSONResponse(body, status_code=409)


def _stub() -> tuple[FastAPI, dict[str, int]]:
    app = FastAPI()
    calls: dict[str, int] = {}

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        calls[request.url.path] = calls.get(request.url.path, 0) + 1
        response: Response = await call_next(request)
        return response

    @app.get("/api/v1/institutions/Y000011000001")
    def institution(request: Request) -> Any:
        # Fails twice with 503, then answers: a retried call must succeed.
        if calls[request.url.path] <= 2:
            return _error(503, "database_unavailable")
        return INSTITUTION

    @app.get("/api/v1/institutions/{code}")
    def unknown(code: str) -> Any:
        return _error(404, "institution_unknown")

    @app.get("/api/v1/batches/broken")
    def broken() -> Any:
        return PlainTextResponse("internal error", status_code=500)

    @app.get("/api/v1/batches/garbled")
    def garbled() -> Any:
        return PlainTextResponse("not json", status_code=200)

    @app.post("/api/v1/batches")
    def submit(request: Request) -> Any:
        auth = request.headers.get("authorization", "")
        if auth != "Bearer skp_good":
            return _error(401, "unauthenticated")
        return _error(409, "batch_conflict")

    @app.post("/api/v1/batches/b1/publish")
    async def publish(request: Request) -> Any:
        body = await request.json()
        return {"results": [{"row": c["row"], "state": "published"} for c in body["credentials"]]}

    @app.post("/api/v1/institutions/{code}/keys")
    def register_key(code: str) -> Any:
        return _error(503, "database_unavailable")

    @app.post("/api/v1/certificates/Y000011000001263000002/status")
    def applied_but_answer_lost(request: Request) -> Any:
        # The first attempt changes the status but its answer is a 503; the repeat finds it done.
        if calls[request.url.path] == 1:
            return _error(503, "database_unavailable")
        return _conflict("revoked")

    @app.post("/api/v1/certificates/Y000011000001263000003/status")
    def conflicting_state(request: Request) -> Any:
        if calls[request.url.path] == 1:
            return _error(503, "database_unavailable")
        return _conflict("suspended")

    @app.post("/api/v1/certificates/Y000011000001263000004/status")
    def refused_at_once() -> Any:
        return _conflict("revoked")

    @app.post("/api/v1/certificates/{number}/status")
    def status(number: str) -> Any:
        return _error(403, "forbidden")

    return app, calls


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[str, dict[str, int]]]:
    app, calls = _stub()
    with serve_app(app) as url:
        yield url, calls


GOOD_TOKEN = "skp_good"


def _client(url: str, token: str | None = GOOD_TOKEN, retries: int = 3) -> RegistryClient:
    return RegistryClient(url, token, retries=retries, sleep=lambda _: None, timeout=5.0)


def test_5xx_is_retried_until_the_registry_answers(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    with _client(url) as client:
        scopes = client.scopes("Y000011000001")
    assert calls["/api/v1/institutions/Y000011000001"] == 3
    assert [(s.occupation_code, s.levels, s.valid_from, s.valid_until) for s in scopes] == [
        ("6-31-01-03", (3, 4, 5), date(2020, 1, 1), None)
    ]


def test_5xx_after_every_retry_is_unavailable(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    with _client(url, retries=2) as client, pytest.raises(RegistryUnavailableError) as raised:
        client.batch("broken")
    assert calls["/api/v1/batches/broken"] == 3
    assert raised.value.code == "registry_server_error"
    assert raised.value.status == 500
    assert "HTTP 500" in raised.value.message_zh and "retry" in raised.value.message_en


def test_401_is_an_auth_error_and_is_not_retried(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    before = calls.get("/api/v1/batches", 0)
    with _client(url, token="skp_wrong") as client, pytest.raises(RegistryAuthError) as raised:
        client.submit_batch("b1", "Y000011000001", [{"holder_name": "王建国"}])
    assert calls["/api/v1/batches"] == before + 1
    assert raised.value.code == "unauthenticated"
    assert raised.value.status == 401
    assert "token" in raised.value.message_en and "令牌" in raised.value.message_zh


def test_403_is_an_auth_error(stub: tuple[str, dict[str, int]]) -> None:
    url, _ = stub
    with _client(url) as client, pytest.raises(RegistryAuthError) as raised:
        client.change_status("Y000011000001263000001", "revoke", "错误签发", "issued_in_error")
    assert raised.value.code == "forbidden"


def test_404_keeps_the_registry_code_and_messages(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    with _client(url) as client, pytest.raises(RegistryNotFoundError) as raised:
        client.institution("S000011000009")
    assert calls["/api/v1/institutions/S000011000009"] == 1
    assert (raised.value.code, raised.value.message_zh, raised.value.message_en) == (
        "institution_unknown",
        "中文institution_unknown",
        "english institution_unknown",
    )
    assert raised.value.details == [{"row": 1}]


def test_other_4xx_is_rejected_without_retry(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    before = calls.get("/api/v1/batches", 0)
    with _client(url) as client, pytest.raises(RegistryRejectedError) as raised:
        client.submit_batch("b1", "Y000011000001", [])
    assert calls["/api/v1/batches"] == before + 1
    assert (raised.value.code, raised.value.status) == ("batch_conflict", 409)


def test_a_success_that_is_not_json_is_a_malformed_answer(stub: tuple[str, dict[str, int]]) -> None:
    url, _ = stub
    with _client(url) as client, pytest.raises(RegistryError) as raised:
        client.batch("garbled")
    assert raised.value.code == "registry_answer_invalid"


def test_publish_returns_one_result_per_credential(stub: tuple[str, dict[str, int]]) -> None:
    url, _ = stub
    with _client(url) as client:
        results = client.publish("b1", [(1, "SP2:A"), (2, "SP2:B")])
    assert results == [{"row": 1, "state": "published"}, {"row": 2, "state": "published"}]


def test_an_unreachable_registry_is_unavailable_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    slept: list[float] = []
    client = RegistryClient(url, "skp_good", retries=3, sleep=slept.append, timeout=2.0)
    with client, pytest.raises(RegistryUnavailableError) as raised:
        client.institution("Y000011000001")
    assert raised.value.code == "registry_unreachable"
    assert url in raised.value.message_en
    assert slept == [0.25, 0.5, 1.0]


def test_key_registration_is_sent_once(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    with _client(url) as client, pytest.raises(RegistryUnavailableError):
        client.register_key("Y000011000001", {"kty": "OKP"}, date(2026, 6, 15))
    assert calls["/api/v1/institutions/Y000011000001/keys"] == 1


def test_a_retried_status_change_found_done_is_a_success(stub: tuple[str, dict[str, int]]) -> None:
    url, calls = stub
    with _client(url) as client:
        answer = client.change_status("Y000011000001263000002", "revoke", "错误签发", "issued_in_error")
        assert answer == {"certificate_number": "Y000011000001263000002", "status": "revoked"}
        assert calls["/api/v1/certificates/Y000011000001263000002/status"] == 2
        with pytest.raises(RegistryRejectedError) as other_state:
            client.change_status("Y000011000001263000003", "revoke", "错误签发", "issued_in_error")
        assert other_state.value.code == "status_change_invalid"
        with pytest.raises(RegistryRejectedError) as first_try:
            client.change_status("Y000011000001263000004", "revoke", "错误签发", "issued_in_error")
        assert first_try.value.code == "status_change_invalid"
        assert calls["/api/v1/certificates/Y000011000001263000004/status"] == 1


def test_registry_errors_share_the_root_error_type() -> None:
    assert issubclass(RegistryError, SkillpassError)
