"""The directory in the console over real HTTP on SQLite and PostgreSQL: filing an institution
(and a refused filing that changes nothing), adding a scope with its window, a status change with
its effective day and reason, API tokens created (shown once) and revoked, and what an institution
issued with each certificate's status; every change audited under the administrator's name."""

from __future__ import annotations

import json
from pathlib import Path

from console_support import PASSWORDS, Console, add_staff
from harness.records import uscc
from test_registry_support import Api, roster_row, running_registry

CODE = "S000011000007"


def _filing(**changes: str) -> dict[str, str]:
    fields = {
        "name": "测试职业技能评价中心",
        "uscc": uscc(7),
        "category": "S",
        "national_code": "0000",
        "province": "11",
        "site": "000007",
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_types": "--",
        "valid_from": "2024-01-01",
    }
    fields.update(changes)
    return fields


def _audit_actors(api: Api) -> list[tuple[str, str]]:
    size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size})["entries"]
    return [(e["action"], e["actor"]) for e in (json.loads(x["data"]) for x in entries)]


def _post_with_levels(console: Console, path: str, fields: dict[str, str], levels: list[int]) -> int:
    body: dict[str, str | list[str]] = {
        **fields,
        "levels": [str(n) for n in levels],
        "csrf_token": console.csrf,
    }
    return console.client.post(path, data=body).status_code


def test_an_admin_files_and_changes_an_institution(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        add_staff(api, "li.admin", "admin")
        console = Console(api)
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303
        assert console.get("/console/institutions/new").status_code == 200
        bad = console.client.post(
            "/console/institutions",
            data={**_filing(uscc="911100000000000000"), "levels": "3", "csrf_token": console.csrf},
        )
        assert bad.status_code == 422 and "/uscc" in bad.text
        assert api.call("GET", f"/api/v1/institutions/{CODE}").status_code == 404
        assert _post_with_levels(console, "/console/institutions", _filing(), [3, 4]) == 303
        record = api.ok("GET", f"/api/v1/institutions/{CODE}")
        assert record["name"] == "测试职业技能评价中心" and record["scopes"][0]["levels"] == [3, 4]
        scope = _filing(
            occupation_code="4-07-02-01",
            occupation_name="保安员",
            valid_from="2026-07-01",
            valid_until="2027-06-30",
        )
        assert _post_with_levels(console, f"/console/institutions/{CODE}/scopes", scope, [5]) == 303
        record = api.ok("GET", f"/api/v1/institutions/{CODE}")
        assert record["scopes"][1]["valid_until"] == "2027-06-30" and record["scopes"][1]["levels"] == [5]
        no_reason = console.post(
            f"/console/institutions/{CODE}/status", {"status": "suspended", "reason": ""}
        )
        assert no_reason.status_code == 422
        changed = console.post(
            f"/console/institutions/{CODE}/status",
            {"status": "suspended", "effective": "2026-06-20", "reason": "投诉查实"},
        )
        assert changed.status_code == 303
        statuses = api.ok("GET", f"/api/v1/institutions/{CODE}")["statuses"]
        assert statuses[-1] == {
            **statuses[-1],
            "status": "suspended",
            "effective": "2026-06-20",
            "reason": "投诉查实",
        }
        page = console.get(f"/console/institutions/{CODE}").text
        assert "投诉查实" in page and "保安员" in page and "2026-06-20" in page
        actors = _audit_actors(api)
        for action in ("institution.create", "institution.scope", "institution.status"):
            assert (action, "console:li.admin") in actors
        console.close()


def test_tokens_are_shown_once_and_revoked(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        api.add_institution("Y000011000001")
        add_staff(api, "li.admin", "admin")
        console = Console(api)
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303
        wrong = console.post("/console/tokens", {"role": "institution", "institution_code": ""})
        assert wrong.status_code == 422
        made = console.post(
            "/console/tokens", {"role": "institution", "institution_code": "Y000011000001", "days": "30"}
        )
        assert made.status_code == 201
        token = made.text.split('id="new-token">', 1)[1].split("<", 1)[0]
        assert token.startswith("skp_") and token not in console.get("/console/tokens").text
        body = {"batch_id": "B-9", "institution_code": "Y000011000001", "rows": [roster_row(1)]}
        assert api.call("POST", "/api/v1/batches", token, json=body).status_code == 200
        listing = console.get("/console/tokens").text
        token_id = listing.split('name="id" value="')[-1].split('"', 1)[0]
        assert (
            console.post("/console/tokens/revoke", {"id": token_id, "reason": "人员离职"}).status_code == 303
        )
        refused = api.call("GET", "/api/v1/batches/B-9", token)
        assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
        assert ("token.revoke", "console:li.admin") in _audit_actors(api)
        console.close()


def test_what_an_institution_issued(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        code = api.add_institution("Y000011000001")
        api.approved_batch(code, "B-1", [roster_row(1), roster_row(2, holder_name="李四")])
        report = api.ok("GET", "/api/v1/batches/B-1", "admin")
        number = report["rows"][1]["certificate"]["certificate_number"]
        api.ok(
            "POST",
            f"/api/v1/certificates/{number}/status",
            "admin",
            json={"action": "suspend", "reason": "核查"},
        )
        add_staff(api, "zhou.supervisor", "supervisor")
        console = Console(api)
        assert console.sign_in("zhou.supervisor", PASSWORDS["supervisor"]).status_code == 303
        page = console.get(f"/console/institutions/{code}/issued").text
        assert "B-1" in page and number in page and "李四" in page
        assert "status-suspended" in page and "status-valid" in page
        assert roster_row(1)["id_number"] not in page
        assert console.get("/console/institutions/Y999999999999/issued").status_code == 404
        console.close()
