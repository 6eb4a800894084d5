"""Authorisation: every write endpoint (and the batch report) × every role, including an institution
acting on another institution's batch or certificate, wrong and expired tokens, and replays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.records import institution_record
from sqlalchemy import select
from test_registry_support import Api, roster_row, running_registry, sign_row

from keys import Signer, to_jwk
from registry.db import Database
from registry.schema import metadata

OWN, OTHER = "Y000011000001", "S000011000002"
OWN_KEY, OTHER_KEY, SPARE_KEY = Signer.generate(), Signer.generate(), Signer.generate()
ROLES = ("none", "wrong", "admin", "reviewer", "own", "other")
DENIED = {401, 403, 404}


def _setup(api: Api) -> dict[str, Any]:
    api.add_institution(OWN, OWN_KEY)
    api.add_institution(OTHER, OTHER_KEY)
    api.tokens["own"], api.tokens["other"] = api.tokens[OWN], api.tokens[OTHER]
    api.tokens["wrong"] = "skp_" + "A" * 43
    rows = [roster_row(i) for i in range(1, 8)]
    report = api.approved_batch(OWN, "B-own", rows)
    number = report["rows"][0]["certificate"]["certificate_number"]
    return {"report": report, "rows": rows, "number": number}


def _cases(state: dict[str, Any]) -> list[tuple[str, str, Any, set[str]]]:
    """(method, path, body, roles allowed)."""
    rec = institution_record("Y000011000009")
    rows, report = state["rows"], state["report"]
    publish = {"credentials": [{"row": 2, "qr": sign_row(report["rows"][1], rows[1]["id_number"], OWN_KEY)}]}
    return [
        ("POST", "/api/v1/institutions", rec, {"admin"}),
        ("POST", f"/api/v1/institutions/{OWN}/scopes", rec["scopes"][0], {"admin"}),
        ("POST", f"/api/v1/institutions/{OWN}/status", {"status": "active", "reason": "ok"}, {"admin"}),
        ("POST", "/api/v1/tokens", {"role": "reviewer"}, {"admin"}),
        (
            "POST",
            f"/api/v1/institutions/{OWN}/keys",
            {"jwk": to_jwk(SPARE_KEY.public_key), "valid_from": "2026-06-15"},
            {"admin", "own"},
        ),
        (
            "POST",
            f"/api/v1/institutions/{OWN}/keys/{SPARE_KEY.public_key.kid_b64}/retire",
            {},
            {"admin", "own"},
        ),
        (
            "POST",
            f"/api/v1/institutions/{OWN}/keys/{SPARE_KEY.public_key.kid_b64}/revoke",
            {"reason": "x"},
            {"admin", "own"},
        ),
        (
            "POST",
            f"/api/v1/institutions/{OWN}/keys/{SPARE_KEY.public_key.kid_b64}/revocation-correction",
            {"revoked": None, "reason": "wrongly revoked"},
            {"admin"},
        ),
        (
            "POST",
            "/api/v1/batches",
            {"batch_id": "B-new", "institution_code": OWN, "rows": [roster_row(50)]},
            {"admin", "own"},
        ),
        ("GET", "/api/v1/batches/B-own", None, {"admin", "reviewer", "own"}),
        ("POST", "/api/v1/batches/B-new/review", {"approve_all_valid": True}, {"admin", "reviewer"}),
        ("POST", "/api/v1/batches/B-own/publish", publish, {"admin", "own"}),
        (
            "POST",
            f"/api/v1/certificates/{state['number']}/status",
            {"action": "suspend", "reason": "x", "category": "under_investigation"},
            {"admin", "own"},
        ),
    ]


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every registry table: the audit log, the batches and their rows, the directory."""
    with db.read() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def test_every_write_endpoint_by_every_role(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        with running_registry(database_url, tmp_path) as api:
            state = _setup(api)
            for method, path, body, allowed in _cases(state):
                # Denied roles first, so the allowed call still finds the state it expects.
                for role in [r for r in ROLES if r not in allowed] + [r for r in ROLES if r in allowed]:
                    token = None if role == "none" else role
                    before = None if role in allowed else _snapshot(db)
                    response = api.call(method, path, token, json=body)
                    where = f"{method} {path} as {role}: {response.status_code} {response.text[:200]}"
                    if role in allowed:
                        assert response.status_code < 300 or response.status_code == 409, where
                    else:
                        assert response.status_code in DENIED, where
                        assert response.json()["code"] in {"unauthenticated", "forbidden", "not_found"}, where
                        after = _snapshot(db)
                        assert after == before, (
                            where
                            + ": a denied call changed "
                            + ", ".join(name for name in after if after[name] != (before or {}).get(name))
                        )
            other_batch = api.call("GET", "/api/v1/batches/B-own", "other")
            assert other_batch.status_code == 404  # another institution's batch does not even exist for it
            own_view = api.ok("GET", "/api/v1/batches/B-own", "own")
            assert own_view["rows"][0]["certificate_status"] == "suspended"
    finally:
        db.dispose()  # before the fixture drops the PostgreSQL database


def test_expired_and_malformed_tokens(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        body = {"role": "reviewer", "expires_in_days": 1}
        short = api.ok("POST", "/api/v1/tokens", "admin", json=body)["token"]
        assert api.call("GET", "/api/v1/batches/none", short).json()["code"] == "not_found"
        api.clock.advance(days=2)
        expired = api.call("GET", "/api/v1/batches/none", short)
        assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")
        for header in ("Basic abc", "Bearer", "Bearer skp_", f"Bearer {short}x", "bearer " + short[:-1]):
            response = api.call("GET", "/api/v1/batches/none", headers={"Authorization": header})
            assert (response.status_code, response.json()["code"]) == (401, "unauthenticated"), header


def test_replayed_requests_change_nothing(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        state = _setup(api)
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        submit = {"batch_id": "B-own", "institution_code": OWN, "rows": state["rows"]}
        assert api.ok("POST", "/api/v1/batches", OWN, json=submit) == state["report"]
        review = api.call(
            "POST",
            "/api/v1/batches/B-own/review",
            "reviewer",
            json={"decisions": [{"row": 1, "approve": True}]},
        )
        assert (review.status_code, review.json()["code"]) == (409, "row_not_pending")
        qr = sign_row(state["report"]["rows"][0], state["rows"][0]["id_number"], OWN_KEY)
        publish = {"credentials": [{"row": 1, "qr": qr}]}
        first = api.ok("POST", "/api/v1/batches/B-own/publish", OWN, json=publish)
        size_after_publish = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        assert size_after_publish == size + 1
        assert api.ok("POST", "/api/v1/batches/B-own/publish", OWN, json=publish) == first
        revoke = {"action": "revoke", "reason": "fraud", "category": "fraud_found"}
        api.ok("POST", f"/api/v1/certificates/{state['number']}/status", OWN, json=revoke)
        again = api.call("POST", f"/api/v1/certificates/{state['number']}/status", OWN, json=revoke)
        assert (again.status_code, again.json()["code"]) == (409, "status_change_invalid")
        assert again.json()["details"] == [{"status": "revoked"}]
        assert api.ok("GET", "/api/v1/audit/checkpoint")["size"] == size_after_publish + 1
        changed = dict(submit, rows=state["rows"][:3])
        conflict = api.call("POST", "/api/v1/batches", OWN, json=changed)
        assert (conflict.status_code, conflict.json()["code"]) == (409, "batch_conflict")
