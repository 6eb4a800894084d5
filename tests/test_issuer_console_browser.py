"""The institution clerk's path in headless Chromium, end to end against a real registry: upload a roster
with errors and see them, fix it and upload again, submit, get approval, sign with the passphrase, download
the ZIP of PDFs, and revoke one certificate after the confirmation step."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from issuer_console_support import running_console
from playwright.sync_api import Browser, expect
from test_issuer_run_support import CODE, PASSPHRASE, registry_world, roster_rows, write_roster


def test_a_clerk_issues_a_roster_from_the_browser(browser: Browser, tmp_path: Path) -> None:
    rows = roster_rows(3)
    broken = [list(r) for r in rows]
    broken[1][2] = broken[1][2][:-1] + ("0" if broken[1][2][-1] != "0" else "1")  # wrong check character
    bad = write_roster(tmp_path / "bad.csv", broken)
    good = write_roster(tmp_path / "good.csv", rows)
    with (
        registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world,
        running_console(world, tmp_path / "console", CODE, world.tokens["institution"]) as console,
    ):
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(console.guard.link())
        expect(page.get_by_role("heading", name="名册与批次")).to_be_visible()

        page.get_by_label("名册文件").set_input_files(str(bad))
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("p.note.bad")).to_contain_text("1 处问题")
        problem = page.locator("tbody tr").first
        expect(problem).to_contain_text("3")  # the CSV's third line: headers are line 1
        expect(problem).to_contain_text("证件号码")
        expect(problem).to_contain_text("id_check_char")

        page.get_by_label("名册文件").set_input_files(str(good))
        page.get_by_role("button", name="上传并校验").click()
        expect(page.locator("p.note.good")).to_contain_text("3 行")
        page.get_by_role("button", name="提交审核").click()
        expect(page.get_by_text("审核状态")).to_contain_text("审核中")
        batch_id = page.url.rsplit("/", 1)[1]

        world.approve_all(batch_id)
        page.reload()
        expect(page.get_by_text("审核状态")).to_contain_text("已审核")
        page.get_by_label("密钥口令").fill(PASSPHRASE)
        page.get_by_role("button", name="签名并发布").click()
        expect(page.locator("p.note.good")).to_contain_text("已全部发布", timeout=120_000)
        kept = [p.read_bytes() for p in console.work_dir.rglob("*") if p.is_file()]
        assert kept and not any(
            PASSPHRASE.encode() in data for data in kept
        )  # the passphrase is never stored

        with page.expect_download() as download:
            page.get_by_role("link", name="下载全部证书 PDF").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
        names = archive.namelist()
        assert len(names) == 3 and all(n.endswith(".pdf") for n in names), names
        assert all(archive.read(n).startswith(b"%PDF-") for n in names)

        page.get_by_role("link", name="已发证书").click()
        listed = page.locator("tbody tr")
        expect(listed).to_have_count(3)
        first = listed.first
        number = first.locator("td").first.inner_text()
        name = first.locator("td").nth(3).inner_text()
        first.get_by_role("link", name="撤销").click()
        page.get_by_label("原因说明").fill("证书信息有误 wrong details")
        page.get_by_label("原因类别").select_option("issued_in_error")
        page.get_by_role("button", name="下一步").click()
        expect(page.locator("p.note.bad")).to_contain_text(number)
        expect(page.locator("p.note.bad")).to_contain_text("原因类别：发放错误")
        assert world.status(number, name) == "valid"  # nothing happens before the confirmation
        page.get_by_role("button", name="确认撤销").click()
        expect(page.locator("tbody tr", has_text=number)).to_contain_text("已撤销")
        assert world.status(number, name) == "revoked"
        [answer] = world.ok(
            "POST", "/api/v1/certificates/query", json={"certificate_number": number, "holder_name": name}
        )["certificates"]
        assert answer["reason_category"] == "issued_in_error"  # public; the words stay in the registry
        assert "wrong details" not in json.dumps(answer, ensure_ascii=False)
        context.close()
