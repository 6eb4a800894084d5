"""Revocation and suspension carry a day and a reason category (issue 12, point 2).

The institution picks the category from a fixed list and adds free text. The category and the day
are public — the record an online verifier reads, the query API and the query page show them — while
the free text stays in the registry. A change without a valid category is refused whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from test_registry_pages import CODE, KEY, _publish, _query, _registry_with_pages
from test_registry_support import roster_row, sign_row

from common.calendar import registry_day
from credential import decode

SECRET = "内部调查编号 2026-117：考评员代考 / internal case 2026-117"
STATUS = "/api/v1/certificates/{}/status"


def test_a_status_change_takes_a_category_from_the_list(database_url: str, tmp_path: Path) -> None:
    with _registry_with_pages(database_url, tmp_path) as api:
        number, other = _publish(api)[:2]
        for body in (
            {"action": "revoke", "reason": "x", "category": "because"},
            {"action": "suspend", "reason": "x", "category": ""},
        ):
            refused = api.call("POST", STATUS.format(number), CODE, json=body)
            assert (refused.status_code, refused.json()["code"]) == (422, "status_category_invalid"), body
            assert "原因类别" in refused.json()["message_zh"]
        assert "当前有效" in _query(api, number, "张三丰").text  # nothing changed
        api.ok(
            "POST",
            STATUS.format(number),
            CODE,
            json={"action": "suspend", "reason": "x", "category": "other"},
        )
        reinstate = {"action": "reinstate", "reason": "x", "category": "other"}
        refused = api.call("POST", STATUS.format(number), CODE, json=reinstate)
        assert (refused.status_code, refused.json()["code"]) == (422, "status_category_invalid")
        # A client that predates categories (one sending no member at all) still works; none is shown.
        api.ok("POST", STATUS.format(other), CODE, json={"action": "suspend", "reason": "x"})
        answer = api.ok(
            "POST", "/api/v1/certificates/query", json={"holder_name": "李四", "certificate_number": other}
        )
        found = answer["certificates"][0]
        assert (found["status"], found["reason_category"]) == ("suspended", None) and found["status_date"]


def test_day_and_category_are_public_and_the_free_text_is_not(database_url: str, tmp_path: Path) -> None:
    with _registry_with_pages(database_url, tmp_path) as api:
        numbers = _publish(api)
        number = numbers[0]
        body = {"action": "revoke", "reason": SECRET, "category": "fraud_found"}
        api.ok("POST", STATUS.format(number), CODE, json=body)
        day = registry_day(api.clock().timestamp()).isoformat()

        query = api.ok(
            "POST", "/api/v1/certificates/query", json={"holder_name": "张三丰", "certificate_number": number}
        )
        answer = query["certificates"][0]
        assert (answer["status"], answer["status_date"], answer["reason_category"]) == (
            "revoked",
            day,
            "fraud_found",
        )
        assert (answer["reason_category_zh"], answer["reason_category_en"]) == (
            "发现舞弊或造假",
            "fraud found",
        )

        page = _query(api, number, "张三丰")
        assert "撤销日期" in page.text and day in page.text and "发现舞弊或造假" in page.text
        english = _query(api, number, "张三丰", "en")
        assert "Revoked on" in english.text and "fraud found" in english.text

        valid = api.ok(
            "POST",
            "/api/v1/certificates/query",
            json={"holder_name": "李四", "certificate_number": numbers[1]},
        )
        assert (
            valid["certificates"][0]["status_date"] is None
            and valid["certificates"][0]["reason_category"] is None
        )

        audit = httpx.get(f"{api.url}/api/v1/audit/checkpoint", timeout=30).text
        for public in (page.text, english.text, str(query), audit):
            assert "2026-117" not in public and "代考" not in public


def test_the_record_gives_an_online_verifier_day_and_category(database_url: str, tmp_path: Path) -> None:
    with _registry_with_pages(database_url, tmp_path) as api:
        api.add_institution(CODE, KEY)
        rows = [roster_row(1)]
        report = api.approved_batch(CODE, "B-1", rows)["rows"]
        qr = sign_row(report[0], str(rows[0]["id_number"]), KEY)
        api.ok("POST", "/api/v1/batches/B-1/publish", CODE, json={"credentials": [{"row": 1, "qr": qr}]})
        number = report[0]["certificate"]["certificate_number"]
        digest = hashlib.sha256(decode(qr).cose_bytes).hexdigest()
        path = f"/api/v1/certificates/{number}/record"
        before = api.ok("GET", path, params={"sha256": digest})
        assert (before["status"], before["status_date"], before["reason_category"]) == ("valid", None, None)
        api.ok("POST", STATUS.format(number), "admin", json={"action": "suspend", "reason": SECRET,
                                                              "category": "under_investigation"})  # fmt: skip
        day = registry_day(api.clock().timestamp()).isoformat()
        suspended = api.ok("GET", path, params={"sha256": digest})
        assert (suspended["status"], suspended["status_date"], suspended["reason_category"]) == (
            "suspended", day, "under_investigation")  # fmt: skip
        assert SECRET not in str(suspended)
        api.ok("POST", STATUS.format(number), "admin", json={"action": "reinstate", "reason": "cleared"})
        after = api.ok("GET", path, params={"sha256": digest})
        assert (after["status"], after["status_date"], after["reason_category"]) == ("valid", None, None)
