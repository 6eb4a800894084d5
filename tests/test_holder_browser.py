"""The holder's flow in headless Chromium: find the certificates by name + ID number, open the
full-screen QR (a screenshot of it decodes with zxing-cpp to the published credential), make a share
link, open it in a second browser context, revoke it, and see it gone there."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, expect
from test_holder import NAME, _publish
from test_registry_support import resident_id, running_registry

from common.qrimage import read_texts


def test_a_holder_shows_and_shares_a_certificate(browser: Browser, tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        assert api.settings is not None
        number, qr = _publish(api)[0]
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        page = phone.new_page()
        page.goto(f"{api.url}/")
        page.get_by_role("link", name="我的证书").click()
        page.get_by_label("姓名").fill(NAME)
        page.get_by_label("证件号码").fill(resident_id(1))
        page.get_by_role("button", name="查找").click()
        card = page.locator("section.result", has_text=number)
        expect(card).to_contain_text("有效")
        page.locator("form", has=page.locator(f'input[value="{number}"]')).get_by_role(
            "button", name="全屏出示二维码"
        ).first.click()
        expect(page.locator("#qr")).to_be_visible()
        shot = page.screenshot(full_page=False)
        assert read_texts(Image.open(io.BytesIO(shot))) == [qr]
        page.get_by_role("button", name="返回我的证书").click()
        actions = page.locator("div.holder-actions").first
        actions.get_by_label("有效天数（1–90）").fill("3")
        actions.get_by_role("button", name="生成分享链接").click()
        share_url = page.locator("#share-url").inner_text()
        assert share_url.startswith(api.settings.base_url + "/s/")
        local = api.url + share_url.removeprefix(api.settings.base_url)
        employer = browser.new_context()
        viewer = employer.new_page()
        viewer.goto(local)
        expect(viewer.get_by_role("heading", name="证书分享")).to_be_visible()
        expect(viewer.locator("body")).to_contain_text(number)
        assert resident_id(1) not in viewer.content()
        page.get_by_role("link", name="返回我的证书").click()
        page.get_by_label("姓名").fill(NAME)
        page.get_by_label("证件号码").fill(resident_id(1))
        page.get_by_role("button", name="查找").click()
        page.get_by_role("button", name="撤销链接").click()
        expect(page.get_by_role("heading", name="分享链接已撤销").first).to_be_visible()
        viewer.reload()
        expect(viewer.get_by_role("heading", name="链接不可用").first).to_be_visible()
        employer.close()
        phone.close()
