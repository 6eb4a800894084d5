"""Employer accounts (issue 12, point 8): lookups by number and name for lists without QR codes,
through an account the administrator creates, with a daily quota per account instead of per-IP
blocking. Each answer is the public query's; a request beyond the quota is refused whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.records import uscc
from test_registry_support import Api, roster_row, running_registry, sign_row

from keys import Signer

CODE = "Y000011000001"
KEY = Signer.generate()
LOOKUP = "/api/v1/employers/lookup"
MISSING = "Y000011000001263999999"


def _published(api: Api) -> list[str]:
    """Three published certificates of 张三丰; the second revoked, the third suspended."""
    api.add_institution(CODE, KEY)
    rows = [roster_row(1), roster_row(2, level=4), roster_row(3, level=5)]
    report = api.approved_batch(CODE, "B", rows)["rows"]
    credentials = [{"row": i + 1, "qr": sign_row(report[i], rows[i]["id_number"], KEY)} for i in range(3)]
    api.ok("POST", "/api/v1/batches/B/publish", CODE, json={"credentials": credentials})
    numbers = [str(r["certificate"]["certificate_number"]) for r in report]
    for number, action, category in ((numbers[1], "revoke", "fraud_found"), (numbers[2], "suspend", "other")):
        body = {"action": action, "reason": "内部 internal", "category": category}
        api.ok("POST", f"/api/v1/certificates/{number}/status", CODE, json=body)
    return numbers


def _employer(api: Api, name: str, quota: int, seed: int) -> str:
    body = {"name": name, "uscc": uscc(seed), "daily_quota": quota}
    made = api.ok("POST", "/api/v1/employers", "admin", json=body)
    assert (made["daily_quota"], made["used_today"], made["remaining_today"]) == (quota, 0, quota)
    api.tokens[name] = made["token"]
    return str(made["id"])


def _queries(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"queries": [{"certificate_number": n, "holder_name": name} for n, name in pairs]}


def _size(api: Api) -> int:
    return int(api.ok("GET", "/api/v1/audit/checkpoint")["size"])


def test_each_answer_is_the_public_querys(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        numbers = _published(api)
        _employer(api, "甲公司", 10, 1)
        pairs = [(numbers[0], "张三丰"), (numbers[1], "张三丰"), (numbers[2], "张三丰"), (numbers[0], "李四"),
                 (MISSING, "张三丰")]  # fmt: skip
        answer = api.ok("POST", LOOKUP, "甲公司", json=_queries(*pairs))
        results = answer["results"]
        assert [r["found"] for r in results] == [True, True, True, False, False]
        for (number, name), result in zip(pairs[:3], results, strict=False):
            public = api.ok("POST", "/api/v1/certificates/query", json={"certificate_number": number,
                                                                        "holder_name": name})  # fmt: skip
            assert result["certificates"] == public["certificates"]
            assert result["certificate_number"] == number
        statuses = [
            (r["certificates"][0]["status"], r["certificates"][0]["reason_category"]) for r in results[:3]
        ]
        assert statuses == [("valid", None), ("revoked", "fraud_found"), ("suspended", "other")]
        assert results[3]["certificates"] == results[4]["certificates"] == []  # a wrong name looks missing
        assert (answer["account"]["used_today"], answer["account"]["remaining_today"]) == (5, 5)


def test_the_quota_is_enforced_per_account_and_day(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)[0]
        first = _employer(api, "甲公司", 3, 1)
        _employer(api, "乙公司", 100, 2)
        api.ok("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰"), (number, "张三丰")))
        size = _size(api)
        refused = api.call("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰"), (number, "张三丰")))
        body = refused.json()
        assert (refused.status_code, body["code"]) == (429, "quota_exceeded")
        assert "额度" in body["message_zh"] and "quota" in body["message_en"]
        assert body["details"] == [{"daily_quota": 3, "used_today": 2, "asked": 2}]
        assert api.ok("GET", "/api/v1/employers/me", "甲公司")["used_today"] == 2  # nothing counted
        assert _size(api) == size  # and nothing logged
        other = api.ok("POST", LOOKUP, "乙公司", json=_queries(*[(number, "张三丰")] * 50))
        assert other["account"]["used_today"] == 50  # another account is unaffected
        api.ok("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰")))
        assert api.call("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰"))).status_code == 429
        api.clock.advance(days=1)  # a new day in China Standard Time
        assert api.ok("GET", "/api/v1/employers/me", "甲公司")["remaining_today"] == 3
        raised = api.ok("POST", f"/api/v1/employers/{first}/quota", "admin", json={"daily_quota": 5})
        assert (raised["daily_quota"], raised["remaining_today"]) == (5, 5)
        api.ok("POST", LOOKUP, "甲公司", json=_queries(*[(number, "张三丰")] * 5))
        assert api.call("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰"))).status_code == 429


def test_only_the_right_token_may_act(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)[0]
        _employer(api, "甲公司", 10, 1)
        one = _queries((number, "张三丰"))
        create = {"name": "乙公司", "uscc": uscc(2), "daily_quota": 10}
        refusals = [
            (api.call("POST", LOOKUP, None, json=one), 401, "unauthenticated"),
            (api.call("POST", LOOKUP, CODE, json=one), 403, "forbidden"),
            (api.call("GET", "/api/v1/employers/me", "reviewer"), 403, "forbidden"),
            (api.call("POST", "/api/v1/employers", "甲公司", json=create), 403, "forbidden"),
            (api.call("POST", "/api/v1/employers", CODE, json=create), 403, "forbidden"),
            (api.call("POST", "/api/v1/employers/1/quota", "甲公司", json={"daily_quota": 10**6}), 403, "forbidden"),
            (api.call("POST", "/api/v1/employers", "admin", json=create | {"uscc": "91110000000000000X"}), 422,
             "employer_invalid"),
            (api.call("POST", "/api/v1/employers/99/quota", "admin", json={"daily_quota": 5}), 404, "employer_unknown"),
            (api.call("POST", "/api/v1/employers/0/quota", "admin", json={"daily_quota": 5}), 422, "invalid_request"),
            (api.call("POST", LOOKUP, "甲公司", json=_queries(*[(number, "张三丰")] * 501)), 422, "invalid_request"),
            (api.call("POST", LOOKUP, "甲公司", json={"queries": []}), 422, "invalid_request"),
            (api.call("POST", LOOKUP, "甲公司", json={"queries": [{"certificate_number": number}]}), 422,
             "invalid_request"),
        ]  # fmt: skip
        assert [(r.status_code, r.json()["code"]) for r, _, _ in refusals] == [(s, c) for _, s, c in refusals]
        assert api.ok("GET", "/api/v1/employers/me", "甲公司")["used_today"] == 0
        token_id = api.ok("GET", "/api/v1/employers/me", "甲公司")["token_id"]
        api.ok("POST", "/api/v1/tokens/revoke", "admin", json={"id": token_id, "reason": "合同到期"})
        gone = api.call("POST", LOOKUP, "甲公司", json=one)
        assert (gone.status_code, gone.json()["code"]) == (401, "token_revoked")


def test_the_audit_log_names_the_account_and_count_never_whom(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _published(api)[0]
        account = _employer(api, "甲公司", 10, 1)
        api.ok("POST", LOOKUP, "甲公司", json=_queries((number, "张三丰"), (MISSING, "王五")))
        entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
        events = [json.loads(e["data"]) for e in entries]
        created = next(e for e in events if e["action"] == "employer.create")
        assert (created["subject"], created["data"]["daily_quota"]) == (account, 10)
        assert created["data"]["token"] == api.ok("GET", "/api/v1/employers/me", "甲公司")["token_id"]
        assert api.tokens["甲公司"] not in json.dumps(events)  # only the token's id, never the token
        looked = [e for e in events if e["action"] == "employer.lookup"]
        assert [(e["subject"], e["data"]) for e in looked] == [(account, {"count": 2})]
        log = json.dumps(looked, ensure_ascii=False)
        assert number not in log and MISSING not in log and "王五" not in log and "张三丰" not in log
