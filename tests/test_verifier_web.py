"""The verifier web page in headless Chromium: upload, paste, language switch, and the camera.

The page is served by the real service with the real `Verifier` on offline trust data. The camera
test feeds Chromium a y4m video of a real QR code as its webcam; the page must reach the verdict
by itself (Debian's headless Chromium has no BarcodeDetector, so this exercises the fallback that
posts frames to /api/v1/verify/image).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.browser import fake_camera_args
from harness.servers import serve_app
from harness.y4m import write_y4m
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from verifier_fixtures import (
    HOLDER_ID,
    HOLDER_NAME,
    INSTITUTION_NAME,
    NOW,
    REVOKED_INDEX,
    TRUST_EXPIRES_AT,
    World,
    make_verifier,
    tampered,
)

from common.qrimage import render_image, render_png
from verifier.service import create_app

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def base_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier)) as base:
        yield base


def _open(page: Page, base_url: str) -> Page:
    page.goto(base_url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def _upload(page: Page, path: Path) -> None:
    page.get_by_test_id("file-input").set_input_files(str(path))


def _verdict(page: Page, result: str) -> None:
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-result", result, timeout=TIMEOUT_MS)


def test_upload_a_qr_image_shows_green(page: Page, base_url: str, world: World, tmp_path: Path) -> None:
    image = tmp_path / "certificate.png"
    image.write_bytes(render_png(world.qr(), scale=5))
    _upload(_open(page, base_url), image)
    _verdict(page, "valid")
    expect(page.get_by_test_id("verdict").locator(".label")).to_have_text("有效")
    expect(page.get_by_test_id("failed-check")).to_be_hidden()
    expect(page.get_by_test_id("unverified-warning")).to_be_hidden()
    fields = page.get_by_test_id("certificate")
    expect(fields).to_contain_text(INSTITUTION_NAME)
    expect(fields).to_contain_text(HOLDER_NAME)
    expect(fields).to_contain_text("**************002X")
    expect(fields).to_contain_text("三级/高级工")
    expect(fields).not_to_contain_text(HOLDER_ID)
    expect(page.get_by_test_id("check")).to_have_count(8)  # offline: every check but the registry's
    expect(page.locator('[data-testid="check"][data-outcome="pass"]')).to_have_count(8)
    expect(page.get_by_test_id("trust-age")).to_contain_text("信任数据更新于 25 分钟前")
    expect(page.get_by_test_id("trust-status")).to_have_text("信任数据更新于 25 分钟前（第 7 版）")


def test_upload_a_tampered_qr_shows_red_naming_the_check(
    page: Page, base_url: str, world: World, tmp_path: Path
) -> None:
    image = tmp_path / "tampered.png"
    image.write_bytes(render_png(tampered(world.qr()), scale=5))
    _upload(_open(page, base_url), image)
    _verdict(page, "invalid")
    expect(page.get_by_test_id("verdict").locator(".label")).to_have_text("无效")
    failed = page.get_by_test_id("failed-check")
    expect(failed).to_be_visible()
    expect(failed).to_have_attribute("data-code", "signature_invalid")
    expect(failed).to_contain_text("签名")
    expect(page.get_by_test_id("verdict-reason")).to_contain_text("改动")
    expect(page.locator('[data-testid="check"][data-code="signature"]')).to_have_attribute(
        "data-outcome", "fail"
    )


def test_paste_text(page: Page, base_url: str, world: World) -> None:
    _open(page, base_url)
    page.get_by_test_id("paste-input").fill(world.qr(status_index=REVOKED_INDEX))
    page.get_by_test_id("paste-submit").click()
    _verdict(page, "invalid")
    expect(page.get_by_test_id("failed-check")).to_have_attribute("data-code", "revoked")
    page.get_by_test_id("paste-input").fill(world.qr())
    page.get_by_test_id("paste-submit").click()
    _verdict(page, "valid")
    expect(page.locator('dd[data-field="work_type"]')).to_have_text("--")  # as the printed certificate


def test_paste_something_that_is_not_a_credential(page: Page, base_url: str) -> None:
    _open(page, base_url)
    page.get_by_test_id("paste-input").fill("https://example.org/not-a-certificate")
    page.get_by_test_id("paste-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_attribute(
        "data-outcome", "unrecognized", timeout=TIMEOUT_MS
    )
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-code", "prefix_missing")
    expect(page.get_by_test_id("verdict-reason")).to_contain_text("这本身并不说明证书是伪造的")


def test_holder_confirmation_box(page: Page, base_url: str, world: World) -> None:
    _open(page, base_url)
    page.get_by_test_id("holder-box").locator("summary").click()
    page.get_by_test_id("holder-name").fill(HOLDER_NAME)
    page.get_by_test_id("holder-id").fill(HOLDER_ID)
    page.get_by_test_id("paste-input").fill(world.qr())
    page.get_by_test_id("paste-submit").click()
    _verdict(page, "valid")
    expect(page.get_by_test_id("holder-result")).to_have_attribute("data-match", "true")
    page.get_by_test_id("holder-name").fill("王五")
    page.get_by_test_id("paste-submit").click()
    expect(page.get_by_test_id("holder-result")).to_have_attribute("data-match", "false", timeout=TIMEOUT_MS)


def test_switch_language(page: Page, base_url: str, world: World) -> None:
    _open(page, base_url)
    expect(page.locator("h1")).to_have_text("职业技能等级证书核验")
    page.get_by_test_id("paste-input").fill(world.qr())
    page.get_by_test_id("paste-submit").click()
    _verdict(page, "valid")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Skill Certificate Verification")
    expect(page.get_by_test_id("verdict").locator(".label")).to_have_text("Valid")
    expect(page.get_by_test_id("certificate")).to_contain_text("Level 3 / Senior Worker")
    expect(page.get_by_test_id("trust-age")).to_contain_text("trust data 25 minutes old")
    expect(page.get_by_test_id("paste-submit")).to_have_text("Verify")
    expect(page.get_by_test_id("camera-start")).to_have_text("Scan with camera")
    expect(page.get_by_test_id("verdict-reason")).to_contain_text("valid")
    assert not _has_chinese(_interface_text(page))
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("verdict").locator(".label")).to_have_text("有效")


def _interface_text(page: Page) -> str:
    """The page's own words: everything but the certificate's data (names stay in Chinese)."""
    script = """() => { const copy = document.querySelector("main").cloneNode(true);
        copy.querySelectorAll("dd").forEach((node) => node.remove()); return copy.innerText; }"""
    text: str = page.evaluate(script)
    return text


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_upload_that_is_not_an_image_is_unrecognized(page: Page, base_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.png"
    bogus.write_text("not a picture", encoding="utf-8")
    _upload(_open(page, base_url), bogus)
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-outcome", "unrecognized", timeout=TIMEOUT_MS)
    expect(verdict).to_have_attribute("data-code", "image_unsupported")
    expect(page.get_by_test_id("verdict-reason")).to_contain_text("不支持的文件类型")
    expect(page.get_by_test_id("error")).to_be_hidden()


def test_expired_trust_data_shows_amber(page: Page, world: World, tmp_path: Path) -> None:
    verifier = make_verifier(world, tmp_path, clock=lambda: TRUST_EXPIRES_AT + 3600)
    with serve_app(create_app(verifier)) as base:
        _open(page, base)
        page.get_by_test_id("paste-input").fill(world.qr())
        page.get_by_test_id("paste-submit").click()
        _verdict(page, "indeterminate")
        expect(page.get_by_test_id("verdict").locator(".label")).to_have_text("无法确定")
        expect(page.get_by_test_id("verdict-reason")).to_contain_text("过期")
        expect(page.get_by_test_id("trust-status")).to_have_attribute("data-fresh", "false")


def _camera_video(qr_text: str, path: Path) -> Path:
    """640×480 frames, the QR code centred and large, as Chromium's fake webcam plays them."""
    frame = Image.new("RGB", (640, 480), "white")
    qr = render_image(qr_text, scale=4).convert("RGB")
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    write_y4m(path, [frame] * 5, fps=10)
    return path


def test_scan_with_the_camera(
    launch_chromium: Callable[[list[str]], Browser], base_url: str, world: World, tmp_path: Path
) -> None:
    video = _camera_video(world.qr(), tmp_path / "camera.y4m")
    browser = launch_chromium(fake_camera_args(video))
    context = browser.new_context()
    page = _open(context.new_page(), base_url)
    page.get_by_test_id("camera-start").click()
    _verdict(page, "valid")
    expect(page.get_by_test_id("camera-view")).to_be_hidden()  # the camera stops once it has a verdict
    expect(page.get_by_test_id("certificate")).to_contain_text(HOLDER_NAME)
    context.close()
