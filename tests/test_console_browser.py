"""The appraisal console driven in headless Chromium: a reviewer opens the review queue, is sent to
sign in, signs in, opens a batch, rejects one row with a reason and approves the rest."""

from __future__ import annotations

from pathlib import Path

from console_support import PASSWORDS, add_staff
from playwright.sync_api import Page, expect
from test_registry_support import roster_row, running_registry

CODE = "Y000011000001"


def test_a_reviewer_signs_in_and_approves_a_batch(page: Page, tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        api.add_institution(CODE)
        rows = [roster_row(1), roster_row(2, holder_name="李四"), roster_row(3, holder_name="王五")]
        api.ok(
            "POST", "/api/v1/batches", CODE, json={"batch_id": "B-7", "institution_code": CODE, "rows": rows}
        )
        add_staff(api, "wang.reviewer", "reviewer")
        page.goto(f"{api.url}/console/review")
        expect(page.get_by_role("heading", name="登录")).to_be_visible()
        page.get_by_label("用户名").fill("wang.reviewer")
        page.get_by_label("密码").fill(PASSWORDS["reviewer"])
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="结果审核")).to_be_visible()
        page.get_by_role("link", name="B-7").click()
        expect(page.get_by_role("heading", name="批次 B-7")).to_be_visible()
        row2 = page.locator("tr", has_text="李四")
        row2.get_by_placeholder("不通过原因").fill("评价记录不完整")
        row2.get_by_role("button", name="不通过").click()
        expect(page.locator("tr", has_text="李四")).to_contain_text("未通过")
        expect(page.locator("tr", has_text="李四")).to_contain_text("评价记录不完整")
        page.get_by_role("button", name="通过全部校验通过的待审核行").first.click()
        expect(page.locator("tr", has_text="张三丰")).to_contain_text("已通过")
        expect(page.locator("tr", has_text="王五")).to_contain_text(CODE)
        report = api.ok("GET", "/api/v1/batches/B-7", "admin")
        assert [r["state"] for r in report["rows"]] == ["approved", "rejected", "approved"]
