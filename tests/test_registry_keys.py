"""Key writes: an institution registers, retires and revokes keys from today on (the registry's China
Standard Time calendar) and changes keys only while active; revocation days are never in the future
and move only earlier (a wrong day is corrected by the administrator, tests/test_registry_authority.py); a key is never retired before it became valid. The administrator may do all of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from test_registry_support import Api, running_registry

from keys import Signer, to_jwk

CODE = "Y000011000001"


def _keys(api: Api, role: str, signer: Signer, valid_from: str) -> Any:
    body = {"jwk": to_jwk(signer.public_key), "valid_from": valid_from}
    return api.call("POST", f"/api/v1/institutions/{CODE}/keys", role, json=body)


def _key_events(api: Api) -> list[dict[str, Any]]:
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
    events = [json.loads(e["data"]) for e in entries]
    return [e for e in events if e["action"].startswith("key.")]


def test_an_institution_registers_keys_valid_from_today_on(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        # 17:30 UTC on 14 June is 01:30 on 15 June in Beijing: "today" is the 15th.
        api.clock.at = datetime(2026, 6, 14, 17, 30, tzinfo=UTC)
        backdated = _keys(api, CODE, Signer.generate(), "2026-06-14")
        assert (backdated.status_code, backdated.json()["code"]) == (422, "key_backdated")
        assert backdated.json()["message_zh"] and backdated.json()["message_en"]
        assert _keys(api, CODE, Signer.generate(), "2026-06-15").status_code == 201
        assert _keys(api, CODE, Signer.generate(), "2026-07-01").status_code == 201
        assert _keys(api, "admin", Signer.generate(), "2020-01-01").status_code == 201


def test_only_an_active_institution_changes_its_keys(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        first, second = Signer.generate(), Signer.generate()
        kid = _keys(api, CODE, first, "2026-06-15").json()["kid"]
        api.ok("POST", f"/api/v1/institutions/{CODE}/status", "admin", json={"status": "suspended"})
        base = f"/api/v1/institutions/{CODE}/keys"
        refused = [
            _keys(api, CODE, second, "2026-06-15"),
            api.call("POST", f"{base}/{kid}/retire", CODE, json={}),
            api.call("POST", f"{base}/{kid}/revoke", CODE, json={"reason": "x"}),
        ]
        assert [(r.status_code, r.json()["code"]) for r in refused] == [(409, "institution_not_active")] * 3
        assert _keys(api, "admin", second, "2026-06-15").status_code == 201
        api.ok("POST", f"{base}/{kid}/revoke", "admin", json={"reason": "suspended institution"})
        api.ok("POST", f"/api/v1/institutions/{CODE}/status", "admin", json={"status": "active"})
        third = _keys(api, CODE, Signer.generate(), "2026-06-15")
        assert third.status_code == 201


def test_revocation_days_move_only_earlier(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        kid = _keys(api, "admin", Signer.generate(), "2025-01-01").json()["kid"]
        path = f"/api/v1/institutions/{CODE}/keys/{kid}/revoke"
        for role in (CODE, "admin"):
            future = api.call("POST", path, role, json={"revoked": "2026-06-16", "reason": "x"})
            assert (future.status_code, future.json()["code"]) == (422, "key_revoke_future")
        # Back-dating is the administrator's (an institution token revokes from today only).
        api.ok("POST", path, "admin", json={"revoked": "2026-06-10", "reason": "leaked"})
        for later in ("2026-06-10", "2026-06-12"):
            again = api.call("POST", path, "admin", json={"revoked": later, "reason": "x"})
            assert (again.status_code, again.json()["code"]) == (409, "key_state")
        api.ok("POST", path, "admin", json={"revoked": "2026-03-01", "reason": "older leak"})
        [key] = [k for k in api.ok("GET", f"/api/v1/institutions/{CODE}")["keys"] if k["kid"] == kid]
        assert key["revoked"] == "2026-03-01"
        revokes = [e["data"] for e in _key_events(api) if e["action"] == "key.revoke"]
        assert [r["revoked"] for r in revokes] == ["2026-06-10", "2026-03-01"]
        assert revokes[1]["previously_revoked"] == "2026-06-10"


def test_a_key_is_never_retired_before_it_is_valid(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        kid = _keys(api, CODE, Signer.generate(), "2026-07-01").json()["kid"]
        path = f"/api/v1/institutions/{CODE}/keys/{kid}/retire"
        early = api.call("POST", path, CODE, json={"retired": "2026-06-30"})
        assert (early.status_code, early.json()["code"]) == (422, "key_retire_early")
        today = api.call("POST", path, CODE, json={})  # today (15 June) is before valid_from too
        assert today.json()["code"] == "key_retire_early"
        api.ok("POST", path, CODE, json={"retired": "2026-07-01"})
