"""The registry client's error handling and retries, over real HTTP against a real registry.

The client talks to a real registry (SQLite, loopback) through the fault-injecting proxy of
harness/faulty_proxy.py. The proxy STANDS IN FOR THE NETWORK AND THE LOAD BALANCER, which we do not
own: where a test scripts it, it answers nginx's 502/503 page, a 200 that is not JSON, or cuts the
connection after the registry has done the work. Every 401, 403, 404 and 409 comes from the registry
itself (a wrong token, a role that may not act, an unknown institution, a conflicting batch, a status
change the registry refuses). The proxy counts requests, which tells what the client retried and
what it sent once. The client never sleeps here (``sleep`` is a no-op): no test depends on timing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from harness.faulty_proxy import Answer, FaultyProxy, LoseAnswer, faulty_proxy, nginx_error
from harness.servers import free_port
from test_issuer_run_support import CODE, World, registry_world, resident_id, today
from test_registry_support import sign_row

from common.errors import SkillpassError
from issuer.client import (
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    RegistryRejectedError,
    RegistryUnavailableError,
)
from keys import Signer, to_jwk
from registry.errors import ERRORS

_SERIALS = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One real registry for the module: each test makes its own batches and certificates."""
    tmp = tmp_path_factory.mktemp("registry")
    with registry_world(f"sqlite:///{tmp / 'r.sqlite3'}", tmp) as made:
        yield made


@pytest.fixture
def proxy(world: World) -> Iterator[FaultyProxy]:
    """A fresh proxy (fresh counters) in front of the registry; every fault a test scripts must be met."""
    with faulty_proxy(world.url) as made:
        yield made
        assert made.pending() == {}


def _client(proxy: FaultyProxy, token: str | None, retries: int = 3) -> RegistryClient:
    return RegistryClient(proxy.url, token, retries=retries, sleep=lambda _: None, timeout=30.0)


def _rows(count: int) -> list[dict[str, Any]]:
    """Roster rows as the issuer submits them, each holder new to the registry."""
    assessed = (today() - timedelta(days=10)).isoformat()
    return [
        {
            "holder_name": "王建国",
            "id_type": "居民身份证",
            "id_number": resident_id(next(_SERIALS)),
            "occupation_code": "6-31-01-03",
            "occupation_name": "电工",
            "work_type": "--",
            "level": 3,
            "assessment_date": assessed,
        }
        for _ in range(count)
    ]


def _batch_id() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


def _approved(world: World, count: int) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch of ``count`` rows the reviewer approved (straight to the registry): its id, the rows
    submitted and the batch report's rows."""
    batch_id, rows = _batch_id(), _rows(count)
    world.ok(
        "POST",
        "/api/v1/batches",
        "institution",
        json={"batch_id": batch_id, "institution_code": CODE, "rows": rows},
    )
    world.approve_all(batch_id)
    report = world.ok("GET", f"/api/v1/batches/{batch_id}", "institution")
    return batch_id, rows, report["rows"]


def _certificate(world: World, status_before: str | None = None) -> str:
    """The number of an approved certificate, first revoked or suspended when asked."""
    _, _, [row] = _approved(world, 1)
    number: str = row["certificate"]["certificate_number"]
    if status_before is not None:
        action = {"revoked": "revoke", "suspended": "suspend"}[status_before]
        body = {"action": action, "reason": "准备 setup", "category": "issued_in_error"}
        world.ok("POST", f"/api/v1/certificates/{number}/status", "institution", json=body)
    return number


def _status(world: World, number: str) -> str:
    """The certificate's status as the registry lists it to its institution (published or not)."""
    listed = world.ok("GET", f"/api/v1/institutions/{CODE}/certificates", "institution")["certificates"]
    [found] = [c for c in listed if c["certificate_number"] == number]
    return str(found["status"])


def test_5xx_is_retried_until_the_registry_answers(world: World, proxy: FaultyProxy) -> None:
    path = f"/api/v1/institutions/{CODE}"
    proxy.script("GET", path, nginx_error(503), nginx_error(502))
    with _client(proxy, world.tokens["institution"]) as client:
        scopes = client.scopes(CODE)
    assert proxy.received("GET", path) == 3
    assert [(s.occupation_code, s.levels, s.valid_from, s.valid_until) for s in scopes] == [
        ("6-31-01-03", (3, 4, 5), date(2020, 1, 1), None)
    ]


def test_5xx_after_every_retry_is_unavailable(world: World, proxy: FaultyProxy) -> None:
    batch_id, _, _ = _approved(world, 1)
    path = f"/api/v1/batches/{batch_id}"
    proxy.script("GET", path, *[nginx_error(502)] * 3)
    with (
        _client(proxy, world.tokens["institution"], retries=2) as client,
        pytest.raises(RegistryUnavailableError) as raised,
    ):
        client.batch(batch_id)
    assert proxy.received("GET", path) == 3
    assert raised.value.code == "registry_server_error"
    assert raised.value.status == 502
    assert "HTTP 502" in raised.value.message_zh and "retry" in raised.value.message_en


def test_401_is_an_auth_error_and_is_not_retried(world: World, proxy: FaultyProxy) -> None:
    batch_id = _batch_id()
    with (
        _client(proxy, "skp_wrong") as client,
        pytest.raises(RegistryAuthError) as raised,
    ):
        client.submit_batch(batch_id, CODE, _rows(1))
    assert proxy.received("POST", "/api/v1/batches") == 1
    assert raised.value.code == "unauthenticated"
    assert raised.value.status == 401
    assert "token" in raised.value.message_en and "令牌" in raised.value.message_zh
    assert world.call("GET", f"/api/v1/batches/{batch_id}", "institution").status_code == 404


def test_403_is_an_auth_error(world: World, proxy: FaultyProxy) -> None:
    """A reviewer's token is a real token that may not submit rosters."""
    with (
        _client(proxy, world.tokens["reviewer"]) as client,
        pytest.raises(RegistryAuthError) as raised,
    ):
        client.submit_batch(_batch_id(), CODE, _rows(1))
    assert (raised.value.code, raised.value.status) == ("forbidden", 403)
    assert proxy.received("POST", "/api/v1/batches") == 1


def test_404_keeps_the_registry_code_and_messages(world: World, proxy: FaultyProxy) -> None:
    path = "/api/v1/institutions/S000011000009"
    with (
        _client(proxy, world.tokens["institution"]) as client,
        pytest.raises(RegistryNotFoundError) as raised,
    ):
        client.institution("S000011000009")
    assert proxy.received("GET", path) == 1
    _, zh, en = ERRORS["institution_unknown"]
    assert raised.value.code == "institution_unknown"
    assert raised.value.message_zh == zh and raised.value.message_en.startswith(en)


def test_other_4xx_is_rejected_without_retry(world: World, proxy: FaultyProxy) -> None:
    """The same batch id with other rows is a real conflict the registry refuses."""
    batch_id = _batch_id()
    with _client(proxy, world.tokens["institution"]) as client:
        client.submit_batch(batch_id, CODE, _rows(1))
        with pytest.raises(RegistryRejectedError) as raised:
            client.submit_batch(batch_id, CODE, _rows(1))
    assert proxy.received("POST", "/api/v1/batches") == 2
    assert (raised.value.code, raised.value.status) == ("batch_conflict", 409)


def test_a_lost_batch_submission_is_repeated_and_stored_once(world: World, proxy: FaultyProxy) -> None:
    """Submission is idempotent by batch id, so repeating one whose answer was lost is safe."""
    batch_id, rows = _batch_id(), _rows(2)
    proxy.script("POST", "/api/v1/batches", LoseAnswer())
    with _client(proxy, world.tokens["institution"]) as client:
        answer = client.submit_batch(batch_id, CODE, rows)
    assert proxy.received("POST", "/api/v1/batches") == 2
    assert answer["batch_id"] == batch_id and len(answer["rows"]) == 2
    digest = world.batch_digest(batch_id)
    assert [b["batch_id"] for b in world.batches()].count(digest) == 1


def test_a_success_that_is_not_json_is_a_malformed_answer(world: World, proxy: FaultyProxy) -> None:
    """A 200 with a web page (a captive portal, a misrouted balancer) is not retried: it is not a
    failure of the registry, and what it means cannot be known."""
    batch_id, _, _ = _approved(world, 1)
    path = f"/api/v1/batches/{batch_id}"
    proxy.script("GET", path, Answer(200, b"<html><body>Welcome to the guest network</body></html>"))
    with _client(proxy, world.tokens["institution"]) as client, pytest.raises(RegistryError) as raised:
        client.batch(batch_id)
    assert raised.value.code == "registry_answer_invalid"
    assert proxy.received("GET", path) == 1


def test_publish_returns_one_result_per_credential(world: World, proxy: FaultyProxy) -> None:
    """A lost publication answer is repeated; the registry publishes each certificate once."""
    batch_id, rows, report = _approved(world, 2)
    qrs = [(r["row"], sign_row(r, rows[i]["id_number"], world.signer)) for i, r in enumerate(report)]
    path = f"/api/v1/batches/{batch_id}/publish"
    proxy.script("POST", path, LoseAnswer())
    with _client(proxy, world.tokens["institution"]) as client:
        results = client.publish(batch_id, qrs)
    assert [(r["row"], r["state"]) for r in results] == [(1, "published"), (2, "published")]
    assert proxy.received("POST", path) == 2
    numbers = [r["certificate"]["certificate_number"] for r in report]
    assert [world.publications()[n] for n in numbers] == [1, 1]


def test_an_unreachable_registry_is_unavailable_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    slept: list[float] = []
    client = RegistryClient(url, "skp_good", retries=3, sleep=slept.append, timeout=2.0)
    with client, pytest.raises(RegistryUnavailableError) as raised:
        client.institution("Y000011000001")
    assert raised.value.code == "registry_unreachable"
    assert url in raised.value.message_en
    assert slept == [0.25, 0.5, 1.0]


def test_key_registration_is_sent_once(world: World, proxy: FaultyProxy) -> None:
    """Registration is not repeated even when its answer is lost: the clerk is told to check, not
    handed a second registration (which the registry would refuse as ``key_exists``)."""
    path = f"/api/v1/institutions/{CODE}/keys"
    proxy.script("POST", path, LoseAnswer())
    key = Signer.generate().public_key
    with (
        _client(proxy, world.tokens["institution"]) as client,
        pytest.raises(RegistryUnavailableError) as raised,
    ):
        client.register_key(CODE, to_jwk(key), today())
    assert raised.value.code == "registry_unreachable"  # the connection dropped, nothing answered
    assert proxy.received("POST", path) == 1
    keys = world.ok("GET", path.removesuffix("/keys"))["keys"]
    assert key.kid_b64 in [k["kid"] for k in keys]


def test_a_5xx_for_key_registration_is_not_retried(world: World, proxy: FaultyProxy) -> None:
    path = f"/api/v1/institutions/{CODE}/keys"
    proxy.script("POST", path, nginx_error(503))
    with (
        _client(proxy, world.tokens["institution"]) as client,
        pytest.raises(RegistryUnavailableError) as raised,
    ):
        client.register_key(CODE, to_jwk(Signer.generate().public_key), today())
    assert (raised.value.code, raised.value.status) == ("registry_server_error", 503)
    assert proxy.received("POST", path) == 1


def test_a_retried_status_change_found_done_is_a_success(world: World, proxy: FaultyProxy) -> None:
    """The registry revokes, the answer is lost; the repeat's 409 says revoked: that is our success."""
    number = _certificate(world)
    path = f"/api/v1/certificates/{number}/status"
    proxy.script("POST", path, LoseAnswer())
    with _client(proxy, world.tokens["institution"]) as client:
        answer = client.change_status(number, "revoke", "错误签发", "issued_in_error")
    assert answer == {"certificate_number": number, "status": "revoked"}
    assert proxy.received("POST", path) == 2
    assert _status(world, number) == "revoked"


def test_a_retried_status_change_found_in_another_state_is_refused(world: World, proxy: FaultyProxy) -> None:
    """The first try never reached the registry (503); the repeat finds the certificate revoked,
    which is not the valid state reinstating asks for: the refusal stands."""
    number = _certificate(world, "revoked")
    path = f"/api/v1/certificates/{number}/status"
    proxy.script("POST", path, nginx_error(503))
    with (
        _client(proxy, world.tokens["institution"]) as client,
        pytest.raises(RegistryRejectedError) as raised,
    ):
        client.set_status(number, "reinstate", "复核 review")
    assert raised.value.code == "status_change_invalid"
    assert raised.value.details == [{"status": "revoked"}]
    assert proxy.received("POST", path) == 2
    assert _status(world, number) == "revoked"


def test_a_status_conflict_on_the_first_try_is_refused(world: World, proxy: FaultyProxy) -> None:
    """Without a retry a 409 is not ours: someone else revoked the certificate first."""
    number = _certificate(world, "revoked")
    path = f"/api/v1/certificates/{number}/status"
    with (
        _client(proxy, world.tokens["institution"]) as client,
        pytest.raises(RegistryRejectedError) as raised,
    ):
        client.change_status(number, "revoke", "错误签发", "issued_in_error")
    assert raised.value.code == "status_change_invalid"
    assert proxy.received("POST", path) == 1


def test_registry_errors_share_the_root_error_type() -> None:
    assert issubclass(RegistryError, SkillpassError)
