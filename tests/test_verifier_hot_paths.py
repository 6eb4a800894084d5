"""The verifier service's hot paths (``POST /api/v1/verify`` and ``GET /api/v1/ping``), answered
before FastAPI's router: the same answers, headers and refusals as the routes they stand in front of,
for bodies sent whole or chunked.

Offline trust data from `verifier_fixtures`; the service runs on uvicorn as `serve` runs it
(httptools + uvloop).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from harness.servers import serve_app
from verifier_fixtures import NOW, World, make_verifier

from verifier.service import create_app


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def client(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with (
        serve_app(create_app(verifier), http="httptools", loop="uvloop") as base,
        httpx.Client(base_url=base, timeout=30.0) as http,
    ):
        yield http


def _chunks(data: bytes) -> Iterator[bytes]:
    """A body without Content-Length (chunked), in pieces."""
    for start in range(0, len(data), 7):
        yield data[start : start + 7]


def test_a_chunked_body_verifies_like_a_whole_one(client: httpx.Client, world: World) -> None:
    body = f'{{"qr": "{world.qr()}"}}'.encode()
    whole = client.post("/api/v1/verify", content=body, headers={"content-type": "application/json"})
    chunked = client.post(
        "/api/v1/verify", content=_chunks(body), headers={"content-type": "application/json"}
    )
    assert "content-length" not in chunked.request.headers
    assert whole.status_code == chunked.status_code == 200
    assert whole.json() == chunked.json()
    assert whole.json()["result"] == "valid" and whole.json()["notes"] == []
    assert whole.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (b'{"qr": 5}', 422, "/body/qr"),
        (b'{"qr": "SP1:x", "extra": 1}', 422, "/body/extra"),
        (b'{"qr": ', 400, None),
    ],
)
def test_a_body_the_hot_path_cannot_parse_is_refused_by_the_route(
    client: httpx.Client, body: bytes, status: int, pointer: str | None
) -> None:
    for content in (body, _chunks(body)):
        answer = client.post("/api/v1/verify", content=content, headers={"content-type": "application/json"})
        assert answer.status_code == status
        error = answer.json()
        assert error["code"] == "invalid_request" and error["message_zh"] and error["message_en"]
        if pointer is not None:
            assert pointer in [detail["pointer"] for detail in error["details"]]


def test_hot_answers_carry_the_security_headers(client: httpx.Client, world: World) -> None:
    for answer in (client.get("/api/v1/ping"), client.post("/api/v1/verify", json={"qr": world.qr()})):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert client.get("/api/v1/ping").json() == {"pong": True}


def test_other_methods_on_the_hot_paths_reach_the_router(client: httpx.Client) -> None:
    assert client.get("/api/v1/verify").json()["code"] == "method_not_allowed"
    assert client.post("/api/v1/ping").status_code in (404, 405)


def test_hot_answers_carry_every_header_a_routed_answer_gets(client: httpx.Client) -> None:
    """The hot paths answer in front of the security-headers middleware and add its headers
    themselves: the same names and values as an API answer that went through it."""
    routed, hot = client.get("/api/v1/trust"), client.get("/api/v1/ping")
    assert routed.status_code == hot.status_code == 200
    added = {name for name in routed.headers if name not in ("content-length", "content-type", "date")}
    assert {"cache-control", "content-security-policy", "permissions-policy"} <= added
    assert {name: hot.headers.get(name) for name in added} == {name: routed.headers[name] for name in added}


def test_a_declared_body_over_the_limit_is_refused_before_the_hot_path(client: httpx.Client) -> None:
    """A well-formed verify body over 16 KiB is not verified by the hot path: 413 with the error shape."""
    answer = client.post("/api/v1/verify", json={"qr": "SP1:" + "0" * 17_000})
    assert answer.status_code == 413
    assert answer.json()["code"] == "body_too_large"
    assert answer.headers["x-frame-options"] == "DENY"
