"""Who may undo what: an institution token changes its keys only from today (back-dating and its
correction are the appraisal centre's, through new audited events); a suspension is lifted only by
the authority that placed it or a higher one; a suspended institution may read but change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from test_registry_support import Api, roster_row, running_registry, sign_row

from keys import Signer, to_jwk
from registry.db import Database
from registry.status_authority import certificate_status_changes

CODE = "Y000011000001"
KEY = Signer.generate()
BASE = f"/api/v1/institutions/{CODE}"


def _events(api: Api, action: str) -> list[dict[str, Any]]:
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
    return [e for e in (json.loads(x["data"]) for x in entries) if e["action"] == action]


def _key(api: Api, kid: str) -> dict[str, Any]:
    return next(k for k in api.ok("GET", BASE)["keys"] if k["kid"] == kid)


def _new_key(api: Api) -> str:
    body = {"jwk": to_jwk(Signer.generate().public_key), "valid_from": "2024-01-01"}
    return str(api.ok("POST", f"{BASE}/keys", "admin", json=body)["kid"])


def test_an_institution_token_retires_or_revokes_keys_only_from_today(
    database_url: str, tmp_path: Path
) -> None:
    """A stolen token used to revoke from any past day: every certificate ever issued, beyond undoing."""
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        kid, other = _new_key(api), _new_key(api)
        refused = [
            api.call(
                "POST", f"{BASE}/keys/{kid}/revoke", CODE, json={"revoked": "2026-06-14", "reason": "x"}
            ),
            api.call("POST", f"{BASE}/keys/{kid}/retire", CODE, json={"retired": "2026-06-14"}),
        ]
        assert [(r.status_code, r.json()["code"]) for r in refused] == [(422, "key_change_backdated")] * 2
        assert _key(api, kid)["revoked"] is None and _key(api, kid)["retired"] is None
        api.ok("POST", f"{BASE}/keys/{kid}/retire", CODE, json={"retired": "2026-06-15"})
        api.ok("POST", f"{BASE}/keys/{other}/revoke", CODE, json={"reason": "leaked today"})
        assert _key(api, other)["revoked"] == "2026-06-15"
        api.ok(
            "POST", f"{BASE}/keys/{other}/revoke", "admin", json={"revoked": "2025-01-01", "reason": "older"}
        )
        assert _key(api, other)["revoked"] == "2025-01-01"


def test_the_centre_corrects_a_wrong_revocation_through_a_new_audited_event(
    database_url: str, tmp_path: Path
) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        kid = _new_key(api)
        path = f"{BASE}/keys/{kid}/revocation-correction"
        unrevoked = api.call("POST", path, "admin", json={"revoked": None, "reason": "x"})
        assert (unrevoked.status_code, unrevoked.json()["code"]) == (409, "key_state")
        api.ok("POST", f"{BASE}/keys/{kid}/revoke", "admin", json={"revoked": "2025-01-01", "reason": "typo"})
        by_institution = api.call("POST", path, CODE, json={"revoked": None, "reason": "mine"})
        assert (by_institution.status_code, by_institution.json()["code"]) == (403, "forbidden")
        future = api.call("POST", path, "admin", json={"revoked": "2026-06-16", "reason": "x"})
        assert (future.status_code, future.json()["code"]) == (422, "key_revoke_future")
        api.ok("POST", path, "admin", json={"revoked": "2026-05-01", "reason": "the right day"})
        assert _key(api, kid)["revoked"] == "2026-05-01"
        api.ok("POST", path, "admin", json={"revoked": None, "reason": "never compromised"})
        assert _key(api, kid)["revoked"] is None
        corrections = [e["data"] for e in _events(api, "key.revocation_correct")]
        assert [(c["previously_revoked"], c["revoked"]) for c in corrections] == [
            ("2025-01-01", "2026-05-01"),
            ("2026-05-01", None),
        ]
        assert len(_events(api, "key.revoke")) == 1  # the revocation itself stays in the log


def _published(api: Api) -> str:
    api.add_institution(CODE, KEY)
    rows = [roster_row(1), roster_row(2)]
    report = api.approved_batch(CODE, "B", rows)
    qr = sign_row(report["rows"][0], rows[0]["id_number"], KEY)
    api.ok("POST", "/api/v1/batches/B/publish", CODE, json={"credentials": [{"row": 1, "qr": qr}]})
    return str(report["rows"][0]["certificate"]["certificate_number"])


def _status(api: Api, number: str, action: str, who: str) -> Any:
    return api.call(
        "POST", f"/api/v1/certificates/{number}/status", who, json={"action": action, "reason": "r"}
    )


def test_only_the_same_or_a_higher_authority_lifts_a_suspension(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)
        assert _status(api, number, "suspend", "admin").status_code == 200
        lifted = _status(api, number, "reinstate", CODE)
        assert (lifted.status_code, lifted.json()["code"]) == (403, "status_authority")
        assert lifted.json()["message_zh"] and lifted.json()["message_en"]
        assert api.ok("GET", "/api/v1/batches/B", CODE)["rows"][0]["certificate_status"] == "suspended"
        assert _status(api, number, "reinstate", "admin").status_code == 200
        assert _status(api, number, "suspend", CODE).status_code == 200
        assert _status(api, number, "reinstate", CODE).status_code == 200
        assert _status(api, number, "suspend", CODE).status_code == 200
        again = _status(api, number, "suspend", CODE)
        assert (again.status_code, again.json()["code"]) == (409, "status_change_invalid")
        assert _status(api, number, "suspend", "admin").status_code == 200  # the centre takes it over
        assert _status(api, number, "reinstate", CODE).json()["code"] == "status_authority"
        assert _status(api, number, "revoke", CODE).status_code == 200  # revoking only ever tightens


def test_a_suspended_institution_may_read_but_change_nothing(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)
        approved = api.ok("GET", "/api/v1/batches/B", CODE)["rows"][1]
        api.ok("POST", f"{BASE}/status", "admin", json={"status": "suspended", "reason": "inspection"})
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        qr = sign_row(approved, roster_row(2)["id_number"], KEY)
        refused = [
            api.call("POST", "/api/v1/batches", CODE, json={"batch_id": "C", "institution_code": CODE, "rows": [roster_row(3)]}),
            api.call("POST", "/api/v1/batches/B/publish", CODE, json={"credentials": [{"row": 2, "qr": qr}]}),
            _status(api, number, "suspend", CODE),
            _status(api, number, "revoke", CODE),
            api.call("POST", f"{BASE}/keys", CODE, json={"jwk": to_jwk(Signer.generate().public_key), "valid_from": "2026-06-15"}),
        ]  # fmt: skip
        assert [(r.status_code, r.json()["code"]) for r in refused] == [(409, "institution_not_active")] * 5
        assert api.ok("GET", "/api/v1/audit/checkpoint")["size"] == size
        assert api.ok("GET", "/api/v1/batches/B", CODE)["rows"][0]["certificate_status"] == "valid"
        assert _status(api, number, "suspend", "admin").status_code == 200  # the centre acts for it
        api.ok("POST", f"{BASE}/status", "admin", json={"status": "removed", "reason": "struck off"})
        gone = api.call("GET", "/api/v1/batches/B", CODE)
        assert (gone.status_code, gone.json()["code"]) == (401, "token_revoked")


def test_each_status_change_records_its_authority_and_category(database_url: str, tmp_path: Path) -> None:
    """The two halves of a status change: who placed it (the authority that may lift it) and the
    public reason category (issue 12); the centre's take-over brings its own category."""
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)
        for action, who, category in (
            ("suspend", CODE, "holder_request"),
            ("suspend", "admin", "under_investigation"),
            ("reinstate", "admin", None),
            ("revoke", CODE, "issued_in_error"),
        ):
            body = {"action": action, "reason": "r"} | ({} if category is None else {"category": category})
            api.ok("POST", f"/api/v1/certificates/{number}/status", who, json=body)
        engine = create_engine(Database(database_url).url)
        try:
            with engine.connect() as conn:
                changes = conn.execute(
                    select(
                        certificate_status_changes.c.action,
                        certificate_status_changes.c.authority,
                        certificate_status_changes.c.category,
                    ).order_by(certificate_status_changes.c.id)
                ).all()
        finally:
            engine.dispose()
        assert [tuple(c) for c in changes] == [
            ("suspend", "institution", "holder_request"),
            ("suspend", "admin", "under_investigation"),
            ("reinstate", "admin", None),
            ("revoke", "institution", "issued_in_error"),
        ]
        query = {"certificate_number": number, "holder_name": "张三丰"}
        answer = api.ok("POST", "/api/v1/certificates/query", json=query)["certificates"][0]
        assert (answer["status"], answer["reason_category"]) == ("revoked", "issued_in_error")
