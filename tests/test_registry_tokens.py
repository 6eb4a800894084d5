"""Token revocation: by the id answered at creation, admin only, append-only and audited; revoked
tokens and tokens of an institution removed as of today are refused; the CLI revokes too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_registry_support import Api, running_registry

from skillpass.cli import main

CODE = "Y000011000001"


def _new(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = api.ok("POST", "/api/v1/tokens", "admin", json=body)
    return made


def _events(api: Api, action: str) -> list[dict[str, Any]]:
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
    return [e for e in (json.loads(x["data"]) for x in entries) if e["action"] == action]


def test_the_admin_revokes_a_token_by_its_id(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        made = _new(api, {"role": "reviewer"})
        assert re.fullmatch(r"[0-9a-f]{12}", made["id"])
        assert _events(api, "token.create")[-1]["subject"] == made["id"]
        token = made["token"]
        assert api.call("GET", "/api/v1/batches/none", token).json()["code"] == "not_found"
        body = {"id": made["id"], "reason": "left the centre"}
        for role in ("reviewer", token):
            denied = api.call("POST", "/api/v1/tokens/revoke", role, json=body)
            assert denied.json()["code"] == "forbidden"
        answer = api.ok("POST", "/api/v1/tokens/revoke", "admin", json=body)
        assert answer["id"] == made["id"]
        refused = api.call("GET", "/api/v1/batches/none", token)
        assert (refused.status_code, refused.json()["code"]) == (401, "token_revoked")
        again = api.call("POST", "/api/v1/tokens/revoke", "admin", json=body)
        assert (again.status_code, again.json()["code"]) == (409, "token_state")
        for unknown in ("0" * 12, "not-an-id", made["id"][:6]):
            missing = api.call("POST", "/api/v1/tokens/revoke", "admin", json={"id": unknown})
            assert (missing.status_code, missing.json()["code"]) == (404, "token_unknown"), unknown
        [event] = _events(api, "token.revoke")
        assert event["subject"] == made["id"] and set(event["data"]) == {"reason"}
        assert "left the centre" not in json.dumps(event)  # free text only as a keyed digest
        assert api.call("GET", "/api/v1/batches/none", "reviewer").json()["code"] == "not_found"


def test_tokens_of_a_removed_institution_are_refused(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        status = f"/api/v1/institutions/{CODE}/status"
        api.ok("POST", status, "admin", json={"status": "suspended", "reason": "inspection"})
        assert api.call("GET", "/api/v1/batches/none", CODE).json()["code"] == "not_found"
        api.ok(
            "POST", status, "admin", json={"status": "removed", "reason": "closed", "effective": "2026-06-20"}
        )
        assert api.call("GET", "/api/v1/batches/none", CODE).json()["code"] == "not_found"  # not yet
        api.clock.advance(days=5)
        removed = api.call("GET", "/api/v1/batches/none", CODE)
        assert (removed.status_code, removed.json()["code"]) == (401, "token_revoked")


def test_the_cli_revokes_a_token(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_registry(database_url, tmp_path) as api:
        made = _new(api, {"role": "reviewer"})
        args = ["registry", "admin", "revoke-token", "--data-dir", str(api.data_dir)]
        args += ["--database-url", database_url, "--id", made["id"], "--reason", "lost laptop"]
        assert main(args) == 0
        assert api.call("GET", "/api/v1/batches/none", made["token"]).json()["code"] == "token_revoked"
        assert main(args) != 0
        captured = capsys.readouterr()
        assert "token_state" in captured.err + captured.out
        assert _events(api, "token.revoke")[0]["actor"] == "cli"
