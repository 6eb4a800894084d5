"""Supervision over real HTTP on SQLite and PostgreSQL: a complaint's whole life (public filing with a
proof of work, staff handling accepted → investigating → upheld, the finding in the credit file and on
the public directory page, audited, the filer's contact details and description in no public answer
or log leaf); bad input with its code (oversized or wrongly typed evidence, unknown institution or
certificate, wrong tracking secret, unsolved or replayed challenge, wrong role, illegal step); rate
limits; removal that must link credit events; supervision records and the rule that a batch needs
one before approval."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import FilePayload, Page
from test_registry_support import Api, roster_row, running_registry

from keys import Signer, to_jwk
from registry.challenge import pow_ok

CODE = "Y000011000001"
OTHER = "Y000011000002"
CONTACT = "联系电话 13800138000 wang@example.cn"
DESCRIPTION = "考场内有人代考，监考人员未制止"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def solve(challenge: dict[str, Any]) -> str:
    """The client's side of the proof of work (what any API client does)."""
    for n in itertools.count():
        if pow_ok(challenge["challenge"], str(n), challenge["bits"]):
            return str(n)
    raise AssertionError("unreachable")


def complaint(api: Api, **changes: Any) -> httpx.Response:
    challenge = api.ok("GET", "/api/v1/complaints/challenge")
    body: dict[str, Any] = {
        "institution_code": CODE,
        "category": "exam_fraud",
        "description": DESCRIPTION,
        "contact": CONTACT,
        "challenge": challenge["challenge"],
        "nonce": solve(challenge),
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    return api.call("POST", "/api/v1/complaints", json=body)


def evidence(data: bytes, name: str = "photo.png") -> dict[str, str]:
    return {"filename": name, "data": base64.b64encode(data).decode()}


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with running_registry(database_url, tmp_path, complaint_burst=20) as made:
        made.add_institution(CODE)
        made.add_institution(OTHER)
        made.tokens["supervisor"] = made.new_token("supervisor")
        yield made


def _public_answers(api: Api, tracking: str, secret: str) -> str:
    """Everything public that could mention the complaint, concatenated."""
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})
    parts = [
        api.call("GET", f"/api/v1/complaints/{tracking}", headers={"X-Complaint-Secret": secret}).text,
        api.call("GET", f"/api/v1/institutions/{CODE}/credit").text,
        api.call("GET", f"/api/v1/institutions/{CODE}").text,
        httpx.get(f"{api.url}/institutions/{CODE}", timeout=30).text,
        json.dumps(entries, ensure_ascii=False),
    ]
    return "\n".join(parts)


def test_complaint_lifecycle_to_an_upheld_finding_in_the_credit_file(api: Api) -> None:
    filed = complaint(api, evidence=[evidence(PNG), evidence(PDF, "receipt.pdf")])
    assert filed.status_code == 201, filed.text
    tracking, secret = filed.json()["tracking"], filed.json()["secret"]
    mine = {"X-Complaint-Secret": secret}
    assert api.ok("GET", f"/api/v1/complaints/{tracking}", headers=mine)["state"] == "received"
    finding = "查实：2026 年 6 月考核中存在代考，责令整改"
    for state, reason in (("accepted", "材料齐全"), ("investigating", "调取监控"), ("upheld", "属实")):
        body = {"state": state, "reason": reason}
        if state == "upheld":
            body["public_finding"] = finding
        api.ok("POST", f"/api/v1/complaints/{tracking}/steps", "reviewer", json=body)
    seen = api.ok("GET", f"/api/v1/complaints/{tracking}", params={"secret": secret})
    assert seen["state"] == "upheld" and seen["public_finding"] == finding
    assert [s["state"] for s in seen["steps"]] == ["received", "accepted", "investigating", "upheld"]
    assert "contact" not in seen and "description" not in seen and "reason" not in seen["steps"][1]
    staff = api.ok("GET", f"/api/v1/complaints/{tracking}/file", "reviewer")
    assert staff["contact"] == CONTACT and staff["description"] == DESCRIPTION
    assert [s["reason"] for s in staff["steps"][1:]] == ["材料齐全", "调取监控", "属实"]
    assert all(s["actor"].startswith("reviewer:") for s in staff["steps"][1:])
    first = staff["evidence"][0]
    got = api.call("GET", f"/api/v1/complaints/{tracking}/evidence/{first['id']}", "reviewer")
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    credit = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [(e["kind"], e["reason"], e["reference"]) for e in credit] == [
        ("complaint_upheld", finding, tracking)
    ]
    page = httpx.get(f"{api.url}/institutions/{CODE}", timeout=30).text
    assert "信用档案" in page and "投诉查证属实" in page and finding in page
    actions = [json.loads(e["data"])["action"] for e in api.ok("GET", "/api/v1/audit/entries")["entries"]]
    assert actions.count("complaint.step") == 3 and "complaint.file" in actions and "credit.append" in actions
    public = _public_answers(api, tracking, secret)
    for private in (CONTACT, "13800138000", DESCRIPTION, "材料齐全", "调取监控"):
        assert private not in public


def test_complaint_against_a_certificate_number_names_its_issuer(api: Api) -> None:
    unknown = complaint(api, institution_code=None, certificate_number=CODE + "263000001")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "certificate_unknown")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"evidence": [evidence(b"GIF89a" + b"\x00" * 10, "x.gif")]}, 415, "evidence_type"),
        ({"evidence": [evidence(b"MZ\x90\x00", "photo.png")]}, 415, "evidence_type"),
        ({"evidence": [evidence(PNG + b"\x00" * (2 * 1024 * 1024))]}, 413, "evidence_too_large"),
        ({"evidence": [evidence(PNG)] * 4}, 413, "evidence_too_large"),
        ({"institution_code": "Y000099000009"}, 404, "institution_unknown"),
        ({"institution_code": None}, 422, "complaint_invalid"),
        ({"category": "gossip"}, 422, "invalid_request"),
        ({"nonce": "not-a-solution"}, 422, "challenge_failed"),
        ({"challenge": "9999999999.00.pow16.forged"}, 422, "challenge_failed"),
    ],
)
def test_bad_complaints_get_a_code_and_store_nothing(
    api: Api, changes: dict[str, Any], status: int, code: str
) -> None:
    size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
    answer = complaint(api, **changes)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert api.ok("GET", "/api/v1/complaints", "admin")["complaints"] == []
    assert api.ok("GET", "/api/v1/audit/checkpoint")["size"] == size


def test_tracking_secret_roles_steps_and_replays(api: Api) -> None:
    challenge = api.ok("GET", "/api/v1/complaints/challenge")
    body = {"institution_code": CODE, "category": "charging", "description": "乱收费"}
    body |= {"challenge": challenge["challenge"], "nonce": solve(challenge)}
    filed = api.ok("POST", "/api/v1/complaints", json=body)
    replay = api.call("POST", "/api/v1/complaints", json=body)
    assert (replay.status_code, replay.json()["code"]) == (422, "challenge_failed")
    tracking = filed["tracking"]
    wrong = api.call("GET", f"/api/v1/complaints/{tracking}", headers={"X-Complaint-Secret": "guess"})
    assert (wrong.status_code, wrong.json()["code"]) == (404, "complaint_unknown")
    missing = api.call("GET", f"/api/v1/complaints/{tracking}")
    assert missing.status_code == 404
    for role in (CODE, "supervisor", None):
        step = api.call(
            "POST", f"/api/v1/complaints/{tracking}/steps", role, json={"state": "accepted", "reason": "x"}
        )
        assert step.status_code in (401, 403), role
        staff = api.call("GET", f"/api/v1/complaints/{tracking}/file", role)
        assert staff.status_code == (200 if role == "supervisor" else 403 if role else 401)
    skip = api.call(
        "POST",
        f"/api/v1/complaints/{tracking}/steps",
        "admin",
        json={"state": "upheld", "reason": "x", "public_finding": "y"},
    )
    assert (skip.status_code, skip.json()["code"]) == (409, "complaint_state")
    api.ok(
        "POST",
        f"/api/v1/complaints/{tracking}/steps",
        "admin",
        json={"state": "dismissed", "reason": "无证据", "public_finding": "证据不足，不予支持"},
    )
    again = api.call(
        "POST", f"/api/v1/complaints/{tracking}/steps", "admin", json={"state": "accepted", "reason": "x"}
    )
    assert again.status_code == 409
    assert api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"] == []


def test_filing_is_rate_limited_per_client(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, complaint_burst=2) as limited:
        limited.add_institution(CODE)
        assert [complaint(limited).status_code for _ in range(3)] == [201, 201, 429]


def test_removal_links_the_credit_events_that_justify_it(api: Api) -> None:
    lonely = api.call(
        "POST", f"/api/v1/institutions/{CODE}/credit", "admin", json={"kind": "removal", "reason": "严重违规"}
    )
    assert (lonely.status_code, lonely.json()["code"]) == (422, "credit_event_unknown")
    warned = api.ok(
        "POST",
        f"/api/v1/institutions/{CODE}/credit",
        "admin",
        json={"kind": "warning", "reason": "超范围评价", "reference": "人社鉴函〔2026〕1号"},
    )
    other = api.ok(
        "POST", f"/api/v1/institutions/{OTHER}/credit", "admin", json={"kind": "warning", "reason": "x"}
    )
    foreign = api.call(
        "POST",
        f"/api/v1/institutions/{CODE}/credit",
        "admin",
        json={"kind": "removal", "reason": "y", "links": [other["id"]]},
    )
    assert foreign.status_code == 422
    assert api.ok("GET", f"/api/v1/institutions/{CODE}")["status"] == "active"
    by_reviewer = api.call(
        "POST", f"/api/v1/institutions/{CODE}/credit", "reviewer", json={"kind": "warning", "reason": "x"}
    )
    assert by_reviewer.status_code == 403
    removed = api.ok(
        "POST",
        f"/api/v1/institutions/{CODE}/credit",
        "admin",
        json={"kind": "removal", "reason": "屡次违规，移出目录", "links": [warned["id"]]},
    )
    events = removed["events"]
    assert [(e["kind"], e["links"]) for e in events] == [("warning", []), ("removal", [warned["id"]])]
    record = api.ok("GET", f"/api/v1/institutions/{CODE}")
    assert record["status"] == "removed" and record["statuses"][-1]["reason"] == "屡次违规，移出目录"
    page = httpx.get(f"{api.url}/institutions/{CODE}", timeout=30).text
    assert "移出目录" in page and f"#{warned['id']}" in page


def test_a_batch_needs_a_supervision_record_when_the_institution_requires_it(api: Api) -> None:
    api.ok(
        "POST", f"/api/v1/institutions/{CODE}/supervision-rule", "admin", json={"batch_needs_record": True}
    )
    api.ok(
        "POST",
        "/api/v1/batches",
        CODE,
        json={"batch_id": "S-1", "institution_code": CODE, "rows": [roster_row(1)]},
    )
    refused = api.call("POST", "/api/v1/batches/S-1/review", "reviewer", json={"approve_all_valid": True})
    assert (refused.status_code, refused.json()["code"]) == (409, "supervision_required")
    visit = {
        "institution_code": CODE,
        "batch_id": "S-1",
        "day": "2026-06-14",
        "site": "北京考点",
        "findings": "考场秩序良好",
        "rating": "good",
    }
    by_institution = api.call("POST", "/api/v1/supervision", CODE, json=visit)
    assert by_institution.status_code == 403
    future = api.call("POST", "/api/v1/supervision", "supervisor", json=visit | {"day": "2027-01-01"})
    assert (future.status_code, future.json()["code"]) == (422, "supervision_invalid")
    wrong_batch = api.call("POST", "/api/v1/supervision", "supervisor", json=visit | {"batch_id": "S-9"})
    assert wrong_batch.status_code == 422
    api.ok("POST", "/api/v1/supervision", "supervisor", json=visit)
    logged = [json.loads(e["data"]) for e in api.ok("GET", "/api/v1/audit/entries")["entries"]]
    visit_leaf = next(e["data"] for e in logged if e["action"] == "supervision.record")
    assert len(visit_leaf["batch_id"]) == 64 and "北京考点" not in json.dumps(visit_leaf, ensure_ascii=False)
    approved = api.ok("POST", "/api/v1/batches/S-1/review", "reviewer", json={"approve_all_valid": True})
    assert approved["rows"][0]["state"] == "approved"
    bad_visit = visit | {"batch_id": None, "rating": "unsatisfactory", "findings": "考评员资质不符"}
    api.ok(
        "POST",
        "/api/v1/supervision",
        "supervisor",
        json={k: v for k, v in bad_visit.items() if v is not None},
    )
    records = api.ok("GET", f"/api/v1/institutions/{CODE}/supervision", "supervisor")
    assert records["batch_needs_record"] is True and [r["rating"] for r in records["records"]] == [
        "good",
        "unsatisfactory",
    ]
    credit = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [(e["kind"], e["reason"]) for e in credit] == [("supervision_finding", "考评员资质不符")]
    assert api.call("GET", f"/api/v1/institutions/{CODE}/supervision").status_code == 401


def _batch(api: Api, code: str, batch_id: str, serials: range, **changes: Any) -> list[str]:
    """Submit rows and approve every valid one; the certificate numbers."""
    rows = [roster_row(s, **changes) for s in serials]
    report = api.approved_batch(code, batch_id, rows)["rows"]
    return [r["certificate"]["certificate_number"] for r in report if "certificate" in r]


def _revoke(api: Api, number: str) -> None:
    body = {"action": "revoke", "reason": "信号测试"}
    api.ok("POST", f"/api/v1/certificates/{number}/status", number[:13], json=body)


def _fired(api: Api) -> dict[str, list[str]]:
    found = api.ok("GET", "/api/v1/signals", "supervisor")["signals"]
    for signal in found:
        assert signal["rule_zh"] and signal["rule_en"] and signal["threshold"]
    return {s["code"]: [i["institution_code"] for i in s["institutions"]] for s in found}


def _uphold(api: Api, code: str, final: str) -> None:
    tracking = complaint(api, institution_code=code).json()["tracking"]
    for state in ("accepted", "investigating", final):
        body = {"state": state, "reason": "核查", "public_finding": "结论"}
        api.ok("POST", f"/api/v1/complaints/{tracking}/steps", "admin", json=body)


def test_each_signal_is_silent_on_a_clean_case_and_fires_on_a_constructed_one(api: Api) -> None:
    # Clean: OTHER's activity stays under every threshold.
    other = _batch(api, OTHER, "O-1", range(1000, 1005))
    _revoke(api, other[0])
    _batch(api, OTHER, "O-2", range(1100, 1101), occupation_code="4-01-02-01", occupation_name="营销员")
    _uphold(api, OTHER, "dismissed")
    assert _fired(api) == {
        "issuing_surge": [],
        "out_of_scope_refusals": [],
        "duplicate_holder": [],
        "revocation_burst": [],
        "complaints_upheld": [],
    }
    assert api.call("GET", "/api/v1/signals", CODE).status_code == 403
    # Constructed: CODE crosses each threshold; one holder is certified again by OTHER.
    surge = _batch(api, CODE, "C-1", range(2000, 2050))
    for number in surge[:10]:
        _revoke(api, number)
    _batch(api, OTHER, "O-3", range(2000, 2001))
    _batch(api, CODE, "C-2", range(3000, 3020), occupation_code="4-01-02-01", occupation_name="营销员")
    _uphold(api, CODE, "upheld")
    assert _fired(api) == {
        "issuing_surge": [CODE],
        "out_of_scope_refusals": [CODE],
        "duplicate_holder": [CODE, OTHER],
        "revocation_burst": [CODE],
        "complaints_upheld": [CODE],
    }
    api.clock.advance(days=120)  # every window has passed; a certificate shared stays a finding
    assert _fired(api) == {
        "issuing_surge": [],
        "out_of_scope_refusals": [],
        "duplicate_holder": [CODE, OTHER],
        "revocation_burst": [],
        "complaints_upheld": [],
    }


_ZH_DIGITS = "零一二三四五六七八九"


def test_complaint_page_in_chromium_files_and_tracks(api: Api, page: Page, tmp_path: Path) -> None:
    """A person files through the script-free form (answering the question), keeps the receipt,
    then follows the complaint; desktop and phone screenshots are taken."""
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(api.url + "/complaints")
    page.screenshot(path=str(tmp_path / "complaints-phone.png"), full_page=True)
    page.fill("#institution_code", CODE)
    page.select_option("#category", "charging")
    page.fill("#description", "收取高额“包过费”")
    page.fill("#contact", CONTACT)
    page.fill("#answer", "0")  # a wrong answer first: the form comes back with the reason
    page.click("form[enctype] button[type=submit]")
    assert "防刷校验未通过" in page.content()
    question = page.locator("label[for=answer]").inner_text()
    a, b = (_ZH_DIGITS.index(ch) for ch in question.split("：")[1][:3:2])
    assert page.input_value("#description") == "收取高额“包过费”"  # what was typed is kept
    page.fill("#answer", str(a + b))
    page.set_input_files(
        "#evidence", files=[FilePayload(name="receipt.png", mimeType="image/png", buffer=PNG)]
    )
    page.click("form[enctype] button[type=submit]")
    codes = page.locator("table.fields code").all_inner_texts()
    assert len(codes) == 2 and codes[0].startswith("C"), page.content()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(tmp_path / "complaints-receipt-desktop.png"), full_page=True)
    page.fill("#tracking", codes[0])
    page.fill("#secret", codes[1])
    page.click("form:not([enctype]) button[type=submit]")
    text = page.content()
    assert "已提交" in text and "违规收费" in text and CONTACT not in text
    page.screenshot(path=str(tmp_path / "complaints-track-desktop.png"), full_page=True)
    staff = api.ok("GET", f"/api/v1/complaints/{codes[0]}/file", "admin")
    assert staff["contact"] == CONTACT and staff["evidence"][0]["media_type"] == "image/png"


def _sanction(api: Api, role: str, kind: str, reason: str, links: list[int] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"kind": kind, "reason": reason}
    if links:
        body["links"] = links
    return api.call("POST", f"/api/v1/institutions/{CODE}/credit", role, json=body)


def test_the_exit_mechanism_suspends_reinstates_and_removes(api: Api) -> None:
    """A suspended institution reads but changes nothing; a reinstatement lifts it and is in the credit
    file; a removal is the exit (its tokens refused, no reinstatement); complaints still reach it."""
    key = {"jwk": to_jwk(Signer.generate().public_key), "valid_from": "2026-06-15"}
    keys = f"/api/v1/institutions/{CODE}/keys"
    suspended = _sanction(api, "admin", "suspension", "停业整顿").json()
    assert api.ok("GET", f"/api/v1/institutions/{CODE}", CODE)["status"] == "suspended"
    refused = api.call("POST", keys, CODE, json=key)
    assert (refused.status_code, refused.json()["code"]) == (409, "institution_not_active")
    assert complaint(api).status_code == 201
    assert _sanction(api, "reviewer", "reinstatement", "整改完成").status_code == 403
    assert _sanction(api, "admin", "reinstatement", "整改完成").status_code == 201
    again = _sanction(api, "admin", "reinstatement", "重复")
    assert (again.status_code, again.json()["code"]) == (422, "status_invalid")
    assert api.call("POST", keys, CODE, json=key).status_code == 201
    page = httpx.get(f"{api.url}/institutions/{CODE}", timeout=30).text
    assert "解除暂停" in page and "整改完成" in page
    _sanction(api, "admin", "removal", "整改后再次违规", [suspended["id"]])
    gone = api.call("POST", keys, CODE, json=key)
    assert (gone.status_code, gone.json()["code"]) == (401, "token_revoked")
    final = _sanction(api, "admin", "reinstatement", "恢复")
    assert (final.status_code, final.json()["code"]) == (422, "status_invalid")
    assert complaint(api).status_code == 201
    events = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [e["kind"] for e in events] == ["suspension", "reinstatement", "removal"]
    statuses = api.ok("GET", f"/api/v1/institutions/{CODE}")["statuses"]
    assert [s["status"] for s in statuses][-3:] == ["suspended", "active", "removed"]


def test_a_status_set_through_the_directory_endpoint_lands_in_the_credit_file(api: Api) -> None:
    """The directory's plain status endpoint is a second door to the same sanctions: each one it
    makes is in the credit file too; confirming a status already in force adds nothing."""
    status = f"/api/v1/institutions/{CODE}/status"
    api.ok("POST", status, "admin", json={"status": "active", "reason": "复核无误"})
    api.ok("POST", status, "admin", json={"status": "suspended", "reason": "考场秩序混乱"})
    api.ok("POST", status, "admin", json={"status": "suspended", "reason": "仍在整改"})
    api.ok("POST", status, "admin", json={"status": "active", "reason": "整改完成"})
    api.ok("POST", status, "admin", json={"status": "removed", "reason": "主动申请退出"})
    events = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [(e["kind"], e["reason"]) for e in events] == [
        ("suspension", "考场秩序混乱"),
        ("reinstatement", "整改完成"),
        ("removal", "主动申请退出"),
    ]
    wrong = api.call("POST", status, "admin", json={"status": "closed", "reason": "x"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_request")
    assert len(api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]) == 3
