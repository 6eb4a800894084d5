"""Bad input on every endpoint gives a 4xx with our error JSON, never a 500; review reports every
problem per row (schema, scope, status, duplicates)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from harness.servers import serve_app
from test_registry_support import Api, SettableClock, resident_id, roster_row, running_registry

from common.clients import TrustedProxies
from keys import Signer
from registry.app import create_app
from registry.setup import init_registry

CODE = "Y000011000001"
LOOPBACK = TrustedProxies.parse(["127.0.0.1"])
POSTS = [
    "/api/v1/institutions",
    f"/api/v1/institutions/{CODE}/scopes",
    f"/api/v1/institutions/{CODE}/status",
    "/api/v1/tokens",
    f"/api/v1/institutions/{CODE}/keys",
    f"/api/v1/institutions/{CODE}/keys/AAAAAAAAAAA/retire",
    f"/api/v1/institutions/{CODE}/keys/AAAAAAAAAAA/revoke",
    "/api/v1/batches",
    "/api/v1/batches/B/review",
    "/api/v1/batches/B/publish",
    "/api/v1/certificates/Y000011000001263000001/status",
    "/api/v1/certificates/query",
    "/api/v1/certificates/Y000011000001263000001/confirm-holder",
]
BAD_BODIES: list[bytes] = [
    b"\xff\xfe not utf-8",
    b"{not json",
    b"[]",
    b'"text"',
    b'{"unknown_field": 1}',
    b'{"status": 5, "role": [], "rows": "x", "decisions": {}, "credentials": 1, "action": null, "holder_name": 1}',
]


@contextlib.contextmanager
def _client(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[tuple[httpx.Client, str]]:
    """A fresh registry on ``database_url`` (every input test runs on SQLite and on PostgreSQL), served
    as ``skillpass registry serve`` serves it: uvicorn's own X-Forwarded-For handling off."""
    made = init_registry(tmp_path / "r", database_url, "passphrase-1234", clock=SettableClock(), **overrides)
    app = create_app(made.settings)
    try:
        with serve_app(app, proxy_headers=False) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client, made.admin_token
    finally:
        app.state.registry.db.dispose()


def test_bad_bodies_on_every_post_endpoint(database_url: str, tmp_path: Path) -> None:
    with _client(database_url, tmp_path, query_burst=10_000) as (client, token):
        client.post(
            "/api/v1/institutions",
            headers={"Authorization": f"Bearer {token}"},
            json={"code": CODE},
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for path in POSTS:
            for body in BAD_BODIES:
                response = client.post(path, content=body, headers=headers)
                where = f"{path} {body!r}: {response.status_code} {response.text[:300]}"
                assert 400 <= response.status_code < 500, where
                error = response.json()
                assert set(error) == {"code", "message_zh", "message_en", "details"}, where
            invalid_utf8 = client.post(path, content=BAD_BODIES[0], headers=headers)
            assert invalid_utf8.json()["code"] == "invalid_json", path


def test_oversized_unknown_and_wrong_method(database_url: str, tmp_path: Path) -> None:
    with _client(database_url, tmp_path, max_body_bytes=1000) as (client, token):
        big = b'{"rows": ["' + b"x" * 2000 + b'"]}'
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = client.post("/api/v1/batches", content=big, headers=headers)
        assert (response.status_code, response.json()["code"]) == (413, "body_too_large")

        def chunks() -> object:
            for _ in range(5):
                yield b"x" * 400

        streamed = client.post("/api/v1/batches", content=chunks(), headers=headers)  # type: ignore[arg-type]
        assert (streamed.status_code, streamed.json()["code"]) == (413, "body_too_large")
        assert client.get("/api/v1/nothing").json()["code"] == "not_found"
        assert client.delete("/api/v1/trust-list").json()["code"] == "method_not_allowed"
        assert client.get("/api/v1/status-lists/notanumber").json()["code"] == "invalid_request"
        assert client.get("/api/v1/status-lists/7").json()["code"] == "not_found"
        assert client.get("/api/v1/audit/entries", params={"start": -1}).json()["code"] == "invalid_request"
        assert (
            client.get("/api/v1/audit/proof/inclusion", params={"index": 5, "size": 1}).json()["code"]
            == "audit_range"
        )
        assert client.get("/api/v1/institutions/Y000099000001").json()["code"] == "institution_unknown"


def test_public_queries_are_rate_limited(database_url: str, tmp_path: Path) -> None:
    with _client(database_url, tmp_path, query_burst=3, query_rate_per_second=0.001) as (client, _):
        body = {"certificate_number": "Y000011000001263000001", "holder_name": "张三"}
        codes = [client.post("/api/v1/certificates/query", json=body).status_code for _ in range(5)]
        assert codes == [404, 404, 404, 429, 429]
        limited = client.post("/api/v1/certificates/query", json=body)
        assert limited.json()["code"] == "rate_limited" and limited.headers["retry-after"] == "1"


def test_a_client_cannot_name_itself_someone_else(database_url: str, tmp_path: Path) -> None:
    """Without a trusted proxy X-Forwarded-For is ignored; behind one, only what the proxy observed
    (the rightmost entry) counts, never what the client wrote before it."""
    body = {"certificate_number": "Y000011000001263000001", "holder_name": "张三"}
    with _client(database_url, tmp_path, query_burst=3, query_rate_per_second=0.001) as (client, _):
        codes = [
            client.post("/api/v1/certificates/query", json=body, headers={"X-Forwarded-For": f"10.0.0.{i}"})
            for i in range(5)
        ]
        assert [c.status_code for c in codes] == [404, 404, 404, 429, 429]
    proxied = {"query_burst": 3, "query_rate_per_second": 0.001, "trusted_proxies": LOOPBACK}
    with _client(database_url, tmp_path / "p", **proxied) as (client, _):
        spoofs = [{"X-Forwarded-For": f"10.0.0.{i}, 198.51.100.7"} for i in range(4)]
        codes = [client.post("/api/v1/certificates/query", json=body, headers=h) for h in spoofs]
        assert [c.status_code for c in codes] == [404, 404, 404, 429]
        other = client.post(
            "/api/v1/certificates/query", json=body, headers={"X-Forwarded-For": "198.51.100.8"}
        )
        assert other.status_code == 404


def test_the_record_endpoint_serves_busy_verifiers_without_a_rate_limit(
    database_url: str, tmp_path: Path
) -> None:
    """It reveals nothing without the credential's exact bytes, and a verifier service asks from one
    address for every employer it serves; the name-based query keeps its limit."""
    with _client(database_url, tmp_path, query_burst=3, query_rate_per_second=0.001) as (client, _):
        path = "/api/v1/certificates/Y000011000001263000001/record"
        codes = [client.get(path, params={"sha256": "a" * 64}).status_code for _ in range(5)]
        assert codes == [404] * 5


def _wrong_check(id_number: str) -> str:
    return id_number[:-1] + ("0" if id_number[-1] != "0" else "1")


def _report(api: Api, batch_id: str, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    body = {"batch_id": batch_id, "institution_code": CODE, "rows": rows}
    return api.ok("POST", "/api/v1/batches", CODE, json=body)["rows"]  # type: ignore[no-any-return]


def test_review_reports_every_problem_per_row(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        api.approved_batch(CODE, "earlier", [roster_row(9)])
        rows: list[object] = [
            roster_row(1),
            roster_row(1),  # same holder, occupation and level twice
            roster_row(9),  # already certified
            roster_row(2, level=1),  # level outside the scope
            roster_row(3, assessment_date="2023-06-01"),  # before the institution was active
            roster_row(4, occupation_name="电气工"),
            roster_row(5, id_number=_wrong_check(resident_id(5))),
            "not an object",
            roster_row(6, level=4),
        ]
        report = _report(api, "B", rows)  # type: ignore[arg-type]
        codes = [[p["code"] for p in r["problems"]] for r in report]  # type: ignore[attr-defined]
        assert codes[0] == [] and codes[8] == []
        assert codes[1] == ["duplicate_in_batch"]
        assert codes[2] == ["duplicate_certified"]
        assert codes[3] == ["out_of_scope"]
        assert set(codes[4]) == {"institution_not_active", "out_of_scope"}
        assert codes[5] == ["occupation_name_mismatch"]
        assert "id_check_char" in codes[6]
        assert codes[7] == ["not_an_object"]
        assert [r["state"] for r in report] == ["pending", *["invalid"] * 7, "pending"]
        assert all(p["message_zh"] and p["message_en"] for r in report for p in r["problems"])  # type: ignore[attr-defined]
        # A holder pending in two batches: the second approval finds the first one's certificate.
        _report(api, "C", [roster_row(1)])
        api.ok("POST", "/api/v1/batches/B/review", "reviewer", json={"approve_all_valid": True})
        late = api.ok("POST", "/api/v1/batches/C/review", "reviewer", json={"approve_all_valid": True})
        assert late["rows"][0]["state"] == "invalid"
        assert late["rows"][0]["problems"][0]["code"] == "duplicate_certified"
        _report(api, "D", [roster_row(7, assessment_date="2026-06-01")])
        suspended = {"status": "suspended", "reason": "inspection"}  # after submission, before review
        api.ok("POST", f"/api/v1/institutions/{CODE}/status", "admin", json=suspended)
        blocked = api.ok("POST", "/api/v1/batches/D/review", "reviewer", json={"approve_all_valid": True})
        assert blocked["rows"][0]["problems"][0]["code"] == "institution_not_active_at_issue"


HUGE = 10**30


def test_out_of_range_integers_are_refused(database_url: str, tmp_path: Path) -> None:
    with _client(database_url, tmp_path) as (client, _):
        for path, params in [
            (f"/api/v1/status-lists/{HUGE}", {}),
            ("/api/v1/status-lists/-1", {}),
            ("/api/v1/audit/entries", {"start": HUGE}),
            ("/api/v1/audit/entries", {"start": 0, "end": HUGE}),
            ("/api/v1/audit/proof/inclusion", {"index": HUGE, "size": 1}),
            ("/api/v1/audit/proof/inclusion", {"index": 0, "size": HUGE}),
            ("/api/v1/audit/proof/consistency", {"old": 0, "new": HUGE}),
            ("/api/v1/audit/proof/consistency", {"old": HUGE, "new": 1}),
        ]:
            response = client.get(path, params=params)
            assert (response.status_code, response.json()["code"]) == (422, "invalid_request"), path


def test_lone_surrogates_are_invalid_json_everywhere(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, query_burst=10_000) as api:
        api.add_institution(CODE, Signer.generate())
        row = json.dumps(roster_row(1), ensure_ascii=False)
        bodies = [
            b'{"holder_name": "\\ud800"}',
            b'{"\\udfff": 1}',
            b'{"batch_id": "S", "institution_code": "'
            + CODE.encode()
            + b'", "rows": ['
            + row.encode()[:-1]
            + b', "note": ["x", {"deep": "a\\udc00b"}]}]}',
            (
                '{"batch_id": "S2", "institution_code": "'
                + CODE
                + '", "rows": ['
                + row.replace("张三丰", "\\ud800")
                + "]}"
            ).encode(),
        ]
        headers = {"Content-Type": "application/json"}
        for path in POSTS:
            for body in bodies:
                response = api.call("POST", path, "admin", content=body, headers=headers)
                assert (response.status_code, response.json()["code"]) == (400, "invalid_json"), (path, body)
        pair = '{"holder_name": "\\ud83d\\ude00", "certificate_number": "Y000011000001263000001"}'
        answer = api.call("POST", "/api/v1/certificates/query", content=pair.encode(), headers=headers)
        assert answer.json()["code"] == "not_found"  # a surrogate PAIR is an ordinary character


def test_huge_level_marks_the_row_invalid(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        report = _report(api, "H", [roster_row(1, level=HUGE), roster_row(2, level=-HUGE), roster_row(3)])
        assert [r["state"] for r in report] == ["invalid", "invalid", "pending"]
        assert all(r["problems"] for r in report[:2])


def test_a_batch_with_nothing_to_review_is_reviewed_at_once(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        hopeless = {"batch_id": "X", "institution_code": CODE, "rows": [roster_row(1, level=1), "x"]}
        report = api.ok("POST", "/api/v1/batches", CODE, json=hopeless)
        assert report["state"] == "reviewed" and [r["state"] for r in report["rows"]] == ["invalid"] * 2
        mixed = {"batch_id": "Y", "institution_code": CODE, "rows": [roster_row(2), roster_row(3, level=1)]}
        assert api.ok("POST", "/api/v1/batches", CODE, json=mixed)["state"] == "submitted"
        both = {"approve_all_valid": True, "decisions": [{"row": 1, "approve": True}]}
        refused = api.call("POST", "/api/v1/batches/Y/review", "reviewer", json=both)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request")
        assert api.ok("GET", "/api/v1/batches/Y", CODE)["rows"][0]["state"] == "pending"


def test_a_submitted_photo_is_never_stored_or_answered(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        report = api.approved_batch(CODE, "P", [roster_row(1, photo="photos/zhang.jpg")])
        [row] = report["rows"]
        assert row["state"] == "approved", row
        assert "photo" not in row["certificate"] and "zhang.jpg" not in json.dumps(report)
        assert "zhang.jpg" not in json.dumps(api.ok("GET", "/api/v1/batches/P", CODE))


NUL_GETS = [
    "/api/v1/institutions/a%00b",
    "/api/v1/institutions/Y00001100000%00",
    "/api/v1/batches/a%00b",
    "/api/v1/batches/B?institution_code=Y00001100000%00",
    "/api/v1/certificates/Y%00/record?sha256=" + "a" * 64,
    "/api/v1/certificates/Y000011000001263000001/record?sha256=%00",
    "/api/v1/status-lists/%00",
    "/api/v1/audit/entries?start=%00",
    "/certificates?number=Y%00&name=a",
    "/certificates?number=Y000011000001263000001&name=%E5%BC%A0%00",
    "/institutions?q=%00",
    "/institutions/Y%00",
    "/%00",
]


def _with_nul(value: object) -> object:
    """``value`` with a NUL put into every string in it (member names too)."""
    if isinstance(value, str):
        return value[:1] + "\x00" + value[1:]
    if isinstance(value, dict):
        return {_with_nul(k): _with_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nul(v) for v in value]
    return value


def test_nul_anywhere_in_a_request_is_refused_the_same_on_both_databases(
    database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL cannot store a NUL; before this check it answered 500 where SQLite answered 404."""
    with running_registry(database_url, tmp_path, query_burst=10_000) as api:
        api.add_institution(CODE, Signer.generate())
        api.approved_batch(CODE, "B", [roster_row(1)])
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        for path in NUL_GETS:
            response = api.call("GET", path, "admin")
            assert (response.status_code, response.json()["code"]) == (400, "invalid_characters"), path
        for path in POSTS:
            cut = path.rindex("/")
            spoilt = path[:cut] + "/x%00" + path[cut + 1 :]
            response = api.call("POST", spoilt, "admin", json={"reason": "x"})
            assert (response.status_code, response.json()["code"]) == (400, "invalid_characters"), spoilt
        bodies: dict[str, object] = {
            "/api/v1/institutions": {"code": CODE, "name": "机构"},
            "/api/v1/batches": {"batch_id": "N", "institution_code": CODE, "rows": [roster_row(2)]},
            "/api/v1/batches/B/review": {"decisions": [{"row": 1, "approve": False, "reason": "r"}]},
            "/api/v1/certificates/query": {"certificate_number": "Y1", "holder_name": "张三丰"},
        }
        for path in POSTS:
            body = _with_nul(bodies.get(path, {"reason": "a reason", "holder_name": "张三丰"}))
            response = api.call("POST", path, "admin", json=body)
            assert (response.status_code, response.json()["code"]) == (400, "invalid_characters"), path
        assert api.ok("GET", "/api/v1/audit/checkpoint")["size"] == size


def test_an_over_long_field_of_an_invalid_row_does_not_reach_its_column(
    database_url: str, tmp_path: Path
) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        report = _report(api, "L", [roster_row(1, occupation_code="6-31-01-03" * 50), roster_row(2)])
        assert [r["state"] for r in report] == ["invalid", "pending"]


def test_a_replayed_approve_all_valid_changes_and_logs_nothing(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, Signer.generate())
        first = api.approved_batch(CODE, "R", [roster_row(1), roster_row(2)])
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        again = api.ok("POST", "/api/v1/batches/R/review", "reviewer", json={"approve_all_valid": True})
        assert again == first
        assert api.ok("GET", "/api/v1/audit/checkpoint")["size"] == size
