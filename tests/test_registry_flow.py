"""The whole registry flow over real HTTP on SQLite and PostgreSQL: directory, keys, review,
numbering, publication, public query, status changes, status list tokens, trust list, keys."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from test_registry_support import Api, roster_row, running_registry, sign_row

from credential.constants import DEFAULT_LIMITS
from credential.directory import Directory
from credential.qr_text import from_qr_text
from credential.signed_document import TYP_DIRECTORY, open_document
from credential.status_list import Status
from credential.status_token import open_status_list_token
from keys import Signer, from_jwk

INSTITUTION_KEY = Signer.generate()
CODE = "Y000011000001"


def _publish_two(api: Api) -> tuple[list[dict[str, Any]], list[str]]:
    api.add_institution(CODE, INSTITUTION_KEY)
    rows = [roster_row(1), roster_row(2, holder_name="李四", level=4)]
    report = api.approved_batch(CODE, "B-1", rows)
    assert [r["state"] for r in report["rows"]] == ["approved", "approved"]
    qrs = [
        sign_row(r, str(row["id_number"]), INSTITUTION_KEY)
        for r, row in zip(report["rows"], rows, strict=True)
    ]
    result = api.ok(
        "POST",
        "/api/v1/batches/B-1/publish",
        CODE,
        json={"credentials": [{"row": i + 1, "qr": qr} for i, qr in enumerate(qrs)]},
    )
    assert result == {"results": [{"row": 1, "state": "published"}, {"row": 2, "state": "published"}]}
    return report["rows"], [str(row["id_number"]) for row in rows]


def test_flow_numbers_publishes_and_answers_queries(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        rows, ids = _publish_two(api)
        first, second = (r["certificate"] for r in rows)
        assert first["certificate_number"] == "Y000011000001263000001"
        assert second["certificate_number"] == "Y000011000001264000001"
        assert first["issue_date"] == "2026-06-15"
        assert first["id_number_masked"].endswith(ids[0][-4:]) and ids[0] not in str(rows)
        found = api.ok(
            "POST",
            "/api/v1/certificates/query",
            json={"certificate_number": first["certificate_number"], "holder_name": "张三丰"},
        )
        [answer] = found["certificates"]
        assert answer["status"] == "valid"
        assert answer["institution"] == {"code": CODE, "name": "中国国家铁路集团有限公司"}
        assert answer["certificate"]["occupation_name"] == "电工"
        by_id = api.ok(
            "POST", "/api/v1/certificates/query", json={"holder_name": "李四", "id_number": ids[1]}
        )
        assert [c["certificate"]["certificate_number"] for c in by_id["certificates"]] == [
            second["certificate_number"]
        ]
        wrong_name = api.call(
            "POST",
            "/api/v1/certificates/query",
            json={"certificate_number": first["certificate_number"], "holder_name": "王五"},
        )
        wrong_number = api.call(
            "POST",
            "/api/v1/certificates/query",
            json={"certificate_number": "Y000011000001263999999", "holder_name": "张三丰"},
        )
        assert wrong_name.status_code == wrong_number.status_code == 404
        assert wrong_name.json() == wrong_number.json()
        confirm = f"/api/v1/certificates/{first['certificate_number']}/confirm-holder"
        assert api.ok("POST", confirm, json={"holder_name": "张三丰", "id_number": ids[0]}) == {"match": True}
        assert api.ok("POST", confirm, json={"holder_name": "张三丰", "id_number": ids[1]}) == {
            "match": False
        }
        # The right ID number under another name is no match either: both must agree.
        assert api.ok("POST", confirm, json={"holder_name": "王五", "id_number": ids[0]}) == {"match": False}
        assert api.ok("POST", confirm, json={"holder_name": "李四", "id_number": ids[0]}) == {"match": False}


def test_status_changes_show_in_signed_status_list(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        rows, ids = _publish_two(api)
        numbers = [r["certificate"]["certificate_number"] for r in rows]
        refs = [r["certificate"]["status"] for r in rows]
        aggregation = api.call("GET", "/api/v1/status-lists")
        assert aggregation.json() == {"status_lists": ["http://127.0.0.1:8700/api/v1/status-lists/0"]}
        before = api.call("GET", "/api/v1/status-lists/0", headers={"Accept": "application/statuslist+cwt"})
        assert before.headers["content-type"] == "application/statuslist+cwt"
        assert before.headers["cache-control"] == "public, max-age=300"
        assert (
            api.call(
                "GET", "/api/v1/status-lists/0", headers={"If-None-Match": before.headers["etag"]}
            ).status_code
            == 304
        )
        api.ok(
            "POST",
            f"/api/v1/certificates/{numbers[0]}/status",
            CODE,
            json={"action": "revoke", "reason": "fraud", "category": "fraud_found"},
        )
        api.ok(
            "POST",
            f"/api/v1/certificates/{numbers[1]}/status",
            "admin",
            json={"action": "suspend", "reason": "check", "category": "under_investigation"},
        )
        after = api.call("GET", "/api/v1/status-lists/0")
        assert after.headers["etag"] != before.headers["etag"]
        claims = open_status_list_token(after.content, _registry_key(api))
        assert claims.ttl == 300 and claims.exp > claims.iat
        assert claims.status_list.get(refs[0]["index"]) == Status.INVALID
        assert claims.status_list.get(refs[1]["index"]) == Status.SUSPENDED
        set_entries = sum(1 for i in range(2**20) if claims.status_list.get(i) != Status.VALID)
        assert set_entries == 2
        reinstate = {"action": "reinstate", "reason": "cleared"}
        assert api.call("POST", f"/api/v1/certificates/{numbers[0]}/status", CODE, json=reinstate).json()[
            "code"
        ] == ("status_change_invalid")
        # The centre suspended it, so the centre lifts it (an institution may not).
        api.ok("POST", f"/api/v1/certificates/{numbers[1]}/status", "admin", json=reinstate)
        qr = sign_row(rows[1], ids[1], INSTITUTION_KEY)  # Ed25519 is deterministic: the published bytes
        digest = hashlib.sha256(from_qr_text(qr, DEFAULT_LIMITS)[0]).hexdigest()
        record = api.ok("GET", f"/api/v1/certificates/{numbers[1]}/record", params={"sha256": digest})
        assert record["status"] == "valid" and record["credential_sha256"] == digest


def _registry_key(api: Api):  # type: ignore[no-untyped-def]
    return from_jwk(api.ok("GET", "/api/v1/registry-key"))


def test_trust_list_and_keys_describe_the_directory(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, INSTITUTION_KEY)
        response = api.call("GET", "/api/v1/trust-list")
        assert response.headers["content-type"] == "application/cose"
        directory = Directory.from_payload(open_document(response.content, _registry_key(api), TYP_DIRECTORY))
        found = directory.find_key(INSTITUTION_KEY.kid)
        assert found is not None and found[0].code == CODE
        assert directory.expires_at - directory.issued_at == 24 * 3600
        api.ok(
            "POST",
            f"/api/v1/institutions/{CODE}/status",
            "admin",
            json={"status": "suspended", "reason": "audit"},
        )
        again = Directory.from_payload(
            open_document(api.call("GET", "/api/v1/trust-list").content, _registry_key(api), TYP_DIRECTORY)
        )
        assert again.sequence > directory.sequence
        institution = next((i for i in again.institutions if i.code == CODE), None)
        assert institution is not None and institution.status_on(date(2026, 6, 15)) == "suspended"
        assert institution.status_on(date(2026, 6, 14)) == "active"
        jwks = api.ok("GET", "/api/v1/keys")["keys"]
        assert jwks == [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": jwks[0]["x"],
                "kid": INSTITUTION_KEY.public_key.kid_b64,
                "institution": CODE,
                "valid_from": "2024-01-01",
                "valid_until": None,
                "retired": None,
                "revoked": None,
            }
        ]


def test_public_trust_endpoints_allow_any_origin_to_get_them(database_url: str, tmp_path: Path) -> None:
    """A verifier page on another origin reads trust data straight from the registry (issue 10.5)."""
    with running_registry(database_url, tmp_path) as api:
        _publish_two(api)
        origin = {"Origin": "https://verifier.example.org"}
        for path in ("/api/v1/registry-key", "/api/v1/trust-list", "/api/v1/keys", "/api/v1/status-lists",
                     "/api/v1/status-lists/0"):  # fmt: skip
            response = api.call("GET", path, headers=origin)
            assert response.status_code == 200, path
            assert response.headers["access-control-allow-origin"] == "*", path
            assert "etag" in response.headers["access-control-expose-headers"].lower(), path
        private = api.call("GET", "/api/v1/institutions", headers=origin)  # not trust data
        assert "access-control-allow-origin" not in private.headers
