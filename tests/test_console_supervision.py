"""Supervision in the appraisal console over real HTTP on SQLite and PostgreSQL: a complaint filed in
public is handled by a reviewer through the console's forms to an upheld finding (contact details and
evidence shown to staff only, every step audited under the person's name, the finding in the public
credit file); a supervisor sees but cannot step it; the administrator's sanctions (a removal must
name its grounds, and then the institution's tokens are refused), supervisors' visit records and the
rule that a batch needs one before approval; the signals page; the pages in Chromium, desktop and
phone (screenshots)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_support import PASSWORDS, Console, add_staff
from playwright.sync_api import Page, expect
from test_registry_support import Api, roster_row, running_registry
from test_supervision import CONTACT, DESCRIPTION, PNG, complaint, evidence

CODE = "Y000011000001"
OTHER = "Y000011000002"


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with running_registry(database_url, tmp_path, complaint_burst=20) as made:
        made.add_institution(CODE)
        made.add_institution(OTHER)
        add_staff(made, "li.admin", "admin")
        add_staff(made, "wang.reviewer", "reviewer")
        add_staff(made, "zhou.supervisor", "supervisor")
        yield made


def _signed_in(api: Api, username: str, role: str) -> Console:
    console = Console(api)
    assert console.sign_in(username, PASSWORDS[role]).status_code == 303
    return console


def _audit(api: Api) -> list[tuple[str, str]]:
    size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size})["entries"]
    return [(e["action"], e["actor"]) for e in (json.loads(x["data"]) for x in entries)]


def test_a_reviewer_handles_a_complaint_to_an_upheld_finding(api: Api) -> None:
    filed = complaint(api, evidence=[evidence(PNG)])
    tracking, secret = filed.json()["tracking"], filed.json()["secret"]
    reviewer = _signed_in(api, "wang.reviewer", "reviewer")
    supervisor = _signed_in(api, "zhou.supervisor", "supervisor")
    assert tracking in reviewer.get("/console/complaints").text
    page = reviewer.get(f"/console/complaints/{tracking}")
    assert page.status_code == 200 and CONTACT in page.text and DESCRIPTION in page.text
    link = page.text.split(f"/console/complaints/{tracking}/evidence/")[1].split('"')[0]
    download = reviewer.get(f"/console/complaints/{tracking}/evidence/{link}")
    assert download.content == PNG and download.headers["content-disposition"] == "attachment"
    assert reviewer.get(f"/console/complaints/{tracking}/evidence/999").status_code == 404
    assert reviewer.get("/console/complaints/C000000000000").status_code == 404
    seen = supervisor.get(f"/console/complaints/{tracking}")
    assert CONTACT in seen.text and "只有管理员和审核员可以处理投诉" in seen.text
    steps = f"/console/complaints/{tracking}/steps"
    assert supervisor.post(steps, {"state": "accepted", "reason": "越权"}).status_code == 403
    assert reviewer.post(steps, {"state": "upheld", "reason": "跳步"}).status_code == 409
    for state, reason in (("accepted", "材料齐全"), ("investigating", "调取监控")):
        assert reviewer.post(steps, {"state": state, "reason": reason}).status_code == 303
    no_finding = reviewer.post(steps, {"state": "upheld", "reason": "属实"})
    assert no_finding.status_code == 422 and "/public_finding" in no_finding.text
    finding = "查实：考核中存在代考，责令整改"
    done = reviewer.post(steps, {"state": "upheld", "reason": "属实", "public_finding": finding})
    assert done.status_code == 303
    closed = reviewer.get(f"/console/complaints/{tracking}").text
    assert "该投诉已办结" in closed and "console:wang.reviewer" in closed and "调取监控" in closed
    public = api.ok("GET", f"/api/v1/complaints/{tracking}", headers={"X-Complaint-Secret": secret})
    assert public["state"] == "upheld" and public["public_finding"] == finding
    credit = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [(e["kind"], e["reason"], e["reference"]) for e in credit] == [
        ("complaint_upheld", finding, tracking)
    ]
    steps_logged = [actor for action, actor in _audit(api) if action == "complaint.step"]
    assert steps_logged == ["console:wang.reviewer"] * 3
    directory_page = httpx.get(f"{api.url}/institutions/{CODE}", timeout=30).text
    assert finding in directory_page and CONTACT not in directory_page and DESCRIPTION not in directory_page
    assert tracking not in reviewer.get("/console/complaints").text  # the default queue holds open ones
    assert tracking in reviewer.get("/console/complaints", params={"state": "upheld"}).text


def test_sanctions_visits_and_the_review_rule(api: Api) -> None:
    admin = _signed_in(api, "li.admin", "admin")
    supervisor = _signed_in(api, "zhou.supervisor", "supervisor")
    reviewer = _signed_in(api, "wang.reviewer", "reviewer")
    page = f"/console/supervision/{CODE}"
    warning = {"kind": "warning", "reason": "超范围评价", "reference": "人社鉴函〔2026〕1号"}
    assert supervisor.post(f"{page}/sanctions", warning).status_code == 403
    assert reviewer.post(f"{page}/sanctions", warning).status_code == 403
    assert admin.post(f"{page}/sanctions", warning).status_code == 303
    lonely = admin.post(f"{page}/sanctions", {"kind": "removal", "reason": "严重违规"})
    assert lonely.status_code == 422 and "信用档案记录" in lonely.text
    assert api.ok("GET", f"/api/v1/institutions/{CODE}")["status"] == "active"
    visit = {
        "day": "2026-06-14",
        "site": "北京考点",
        "findings": "考评员资质不符",
        "rating": "unsatisfactory",
    }
    assert reviewer.post(f"{page}/visits", visit).status_code == 403
    assert supervisor.post(f"{page}/visits", visit | {"day": "2027-01-01"}).status_code == 422
    assert supervisor.post(f"{page}/visits", visit).status_code == 303
    assert supervisor.post(f"{page}/rule", {"required": "yes"}).status_code == 403
    assert admin.post(f"{page}/rule", {"required": "yes"}).status_code == 303
    body = {"batch_id": "S-1", "institution_code": CODE, "rows": [roster_row(1)]}
    api.ok("POST", "/api/v1/batches", CODE, json=body)
    refused = api.call("POST", "/api/v1/batches/S-1/review", "reviewer", json={"approve_all_valid": True})
    assert refused.json()["code"] == "supervision_required"
    shown = supervisor.get(page).text
    assert '<option value="S-1">' in shown and "考评员资质不符" in shown and "须先有督导记录" in shown
    good = visit | {"batch_id": "S-1", "findings": "考场秩序良好", "rating": "good"}
    assert supervisor.post(f"{page}/visits", good).status_code == 303
    api.ok("POST", "/api/v1/batches/S-1/review", "reviewer", json={"approve_all_valid": True})
    events = api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"]
    assert [e["kind"] for e in events] == ["warning", "supervision_finding"]
    removal = {"kind": "removal", "reason": "屡次违规，移出目录", "links": [str(e["id"]) for e in events]}
    assert (
        admin.client.post(f"{page}/sanctions", data={**removal, "csrf_token": admin.csrf}).status_code == 303
    )
    record = api.ok("GET", f"/api/v1/institutions/{CODE}")
    assert record["status"] == "removed" and record["statuses"][-1]["reason"] == "屡次违规，移出目录"
    assert api.ok("GET", f"/api/v1/institutions/{CODE}/credit")["events"][-1]["links"] == [
        e["id"] for e in events
    ]
    refused_token = api.call("GET", "/api/v1/batches/S-1", CODE)
    assert (refused_token.status_code, refused_token.json()["code"]) == (401, "token_revoked")
    overview = reviewer.get("/console/supervision").text
    assert CODE in overview and "已移出目录" in overview
    actors = _audit(api)
    assert ("credit.append", "console:li.admin") in actors
    assert ("supervision.record", "console:zhou.supervisor") in actors
    assert ("supervision.rule", "console:li.admin") in actors


def test_the_signals_page_shows_rules_and_who_meets_them(api: Api) -> None:
    tracking = complaint(api).json()["tracking"]
    for state in ("accepted", "investigating", "upheld"):
        body = {"state": state, "reason": "核查", "public_finding": "属实"}
        api.ok("POST", f"/api/v1/complaints/{tracking}/steps", "admin", json=body)
    supervisor = _signed_in(api, "zhou.supervisor", "supervisor")
    text = supervisor.get("/console/signals").text
    upheld = text.split('id="complaints_upheld"')[1].split("</section>")[0]
    assert CODE in upheld and "近 90 天查实投诉：1" in upheld and OTHER not in upheld
    surge = text.split('id="issuing_surge"')[1].split("</section>")[0]
    assert "目前没有机构触发此信号" in surge and "近 30 天发证数不少于 50" in surge


def test_console_supervision_pages_in_chromium(page: Page, tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path, complaint_burst=20) as api:
        api.add_institution(CODE)
        add_staff(api, "wang.reviewer", "reviewer")
        add_staff(api, "li.admin", "admin")
        tracking = complaint(api, evidence=[evidence(PNG)]).json()["tracking"]
        page.goto(f"{api.url}/console/complaints")
        page.get_by_label("用户名").fill("wang.reviewer")
        page.get_by_label("密码").fill(PASSWORDS["reviewer"])
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="投诉处理")).to_be_visible()
        page.get_by_role("link", name=tracking).click()
        expect(page.get_by_role("heading", name=f"投诉 {tracking}")).to_be_visible()
        page.select_option("#state", "accepted")
        page.fill("#reason", "材料齐全，予以受理")
        page.get_by_role("button", name="提交处理").click()
        expect(page.locator("table.fields")).to_contain_text("已受理")
        for width, name in ((1280, "desktop"), (390, "phone")):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(tmp_path / f"console-complaint-{name}.png"), full_page=True)
        page.goto(f"{api.url}/console/supervision/{CODE}")
        expect(page.get_by_role("heading", name="信用档案")).to_be_visible()
        page.screenshot(path=str(tmp_path / "console-credit-phone.png"), full_page=True)
        page.goto(f"{api.url}/console/signals")
        expect(page.get_by_role("heading", name="监管信号")).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(tmp_path / "console-signals-desktop.png"), full_page=True)
        page.get_by_role("button", name="退出登录").click()
        page.goto(f"{api.url}/console/supervision/{CODE}")
        page.get_by_label("用户名").fill("li.admin")
        page.get_by_label("密码").fill(PASSWORDS["admin"])
        page.get_by_role("button", name="登录").click()
        page.select_option("#kind", "warning")
        page.fill("#sanction_reason", "超范围评价，予以警告")
        page.get_by_role("button", name="记录", exact=True).click()
        expect(page.locator("table").first).to_contain_text("超范围评价，予以警告")
        for width, name in ((1280, "desktop"), (390, "phone")):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(tmp_path / f"console-credit-admin-{name}.png"), full_page=True)
