"""Each outcome through the verifier page in headless Chromium, as an employer meets it.

Every outcome is produced for real (the real service and `Verifier` on trust data synced over HTTP,
inputs pasted or uploaded as a person would). What a person sees is checked twice: the painted
banner (its words, the symbol beside them, the colour sampled from a screenshot), and the page as
printed — Chromium's own PDF of the print layout, read back by poppler's `pdftotext` — which must
be one page carrying the outcome in words and symbol, the fields, the time in China Standard Time,
the trust data's version and age, and the verifier host.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.servers import serve_app
from PIL import Image
from playwright.sync_api import Page, ViewportSize, expect
from verifier_fixtures import (
    HOLDER_ID,
    HOLDER_NAME,
    NOW,
    REVOKED_INDEX,
    SUSPENDED_INDEX,
    TRUST_EXPIRES_AT,
    World,
    make_verifier,
    tampered,
)

from common.calendar import cst_minute
from verifier.messages import OUTCOME_LABELS, OUTCOME_SYMBOLS
from verifier.service import create_app

TIMEOUT_MS = 15_000
PHONE: ViewportSize = {"width": 375, "height": 667}
# The banner colour of each outcome (style.css); the words and the symbol carry it in print.
COLOURS = {
    "valid": (0x0F, 0x7B, 0x3A),
    "holder_mismatch": (0x9A, 0x34, 0x12),
    "revoked": (0xB3, 0x26, 0x1E),
    "suspended": (0x8A, 0x5A, 0x00),
    "invalid": (0xB3, 0x26, 0x1E),
    "indeterminate": (0x55, 0x60, 0x6E),
    "unrecognized": (0xE5, 0xE7, 0xEB),
}


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def base_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier)) as base:
        yield base


@pytest.fixture(scope="module")
def stale_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A verifier whose trust data expired an hour ago."""
    verifier = make_verifier(world, tmp_path_factory.mktemp("stale"), clock=lambda: TRUST_EXPIRES_AT + 3600)
    with serve_app(create_app(verifier)) as base:
        yield base


def _open(page: Page, url: str) -> Page:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def _paste(page: Page, text: str) -> None:
    page.get_by_test_id("paste-input").fill(text)
    page.get_by_test_id("paste-submit").click()


def _holder(page: Page, name: str, id_number: str) -> None:
    page.get_by_test_id("holder-box").locator("summary").click()
    page.get_by_test_id("holder-name").fill(name)
    page.get_by_test_id("holder-id").fill(id_number)


def _produce(outcome: str, page: Page, world: World, base_url: str, stale_url: str, tmp_path: Path) -> None:
    """Bring the page to ``outcome`` the way an employer would."""
    if outcome == "indeterminate":
        _paste(_open(page, stale_url), world.qr())
        return
    _open(page, base_url)
    if outcome == "unrecognized":
        notes = tmp_path / "notes.png"
        notes.write_text("not a picture at all", encoding="utf-8")
        page.get_by_test_id("file-input").set_input_files(str(notes))
        return
    if outcome == "holder_mismatch":
        _holder(page, HOLDER_NAME, "110105194912310021")
    text = {
        "valid": world.qr(),
        "holder_mismatch": world.qr(),
        "revoked": world.qr(status_index=REVOKED_INDEX),
        "suspended": world.qr(status_index=SUSPENDED_INDEX),
        "invalid": tampered(world.qr()),
    }[outcome]
    _paste(page, text)


def _banner_colour(page: Page) -> tuple[int, int, int]:
    """The colour painted behind the banner, sampled from a screenshot of it (left padding)."""
    shot = page.get_by_test_id("verdict").locator(".banner").screenshot()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    red, green, blue = image.getpixel((4, image.height // 2))  # type: ignore[misc]
    return red, green, blue


def _printed_text(page: Page, tmp_path: Path) -> tuple[str, int]:
    """The page printed to PDF by Chromium (print stylesheet), as text, and its page count."""
    pdf = tmp_path / "record.pdf"
    page.emulate_media(media="print")
    pdf.write_bytes(page.pdf(format="A4", print_background=True))
    page.emulate_media(media="screen")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return text.stdout, pages


@pytest.mark.parametrize("outcome", list(OUTCOME_LABELS))
def test_each_outcome_on_the_page_and_in_print(
    page: Page, world: World, base_url: str, stale_url: str, tmp_path: Path, outcome: str
) -> None:
    _produce(outcome, page, world, base_url, stale_url, tmp_path)
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-outcome", outcome, timeout=TIMEOUT_MS)
    zh, en = OUTCOME_LABELS[outcome]
    expect(page.get_by_test_id("verdict-label")).to_have_text(zh)
    expect(verdict.locator(".banner .mark")).to_have_text(OUTCOME_SYMBOLS[outcome])
    # the text alternative a screen reader announces for the region
    expect(page.get_by_role("region", name=f"核验结果：{zh}")).to_be_visible()
    assert _banner_colour(page) == COLOURS[outcome]

    printed, pages = _printed_text(page, tmp_path)
    assert pages == 1, printed
    assert "职业技能等级证书核验记录" in printed and zh in printed and OUTCOME_SYMBOLS[outcome] in printed
    for absent in ("扫码核验", "粘贴二维码内容", "打印核验记录"):  # the tools are not printed
        assert absent not in printed
    clock = TRUST_EXPIRES_AT + 3600 if outcome == "indeterminate" else NOW
    assert f"核验时间 {cst_minute(clock)}" in " ".join(printed.split())
    assert "127.0.0.1:" in printed
    if outcome != "unrecognized":
        age = "25 小时前更新" if outcome == "indeterminate" else "25 分钟前更新"
        assert f"第 7 版，{age}" in printed  # the trust data's version and age
        assert "Y000011000001263000001" in printed  # the certificate's fields

    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("verdict-label")).to_have_text(en)


@pytest.mark.parametrize("outcome", ["revoked", "suspended", "holder_mismatch"])
def test_genuine_certificates_are_shown_plainly(
    page: Page, world: World, base_url: str, stale_url: str, tmp_path: Path, outcome: str
) -> None:
    """Only forged or altered content is marked as not to be relied on."""
    _produce(outcome, page, world, base_url, stale_url, tmp_path)
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-outcome", outcome, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("unverified-warning")).to_be_hidden()
    expect(page.get_by_test_id("certificate")).not_to_have_class("fields unverified")
    expect(page.get_by_test_id("certificate")).to_contain_text(HOLDER_NAME)
    if outcome == "revoked":
        expect(page.get_by_test_id("verdict-reason")).to_contain_text("证书真实，但已被撤销")
        expect(page.get_by_test_id("verdict-reason")).to_contain_text("的状态列表为准")
    if outcome == "holder_mismatch":
        expect(page.get_by_test_id("verdict-reason")).to_contain_text("证件号码不一致")


def test_tampered_content_is_marked_not_to_be_relied_on(page: Page, world: World, base_url: str) -> None:
    _paste(_open(page, base_url), tampered(world.qr()))
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-outcome", "invalid", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("unverified-warning")).to_contain_text("不可采信")
    expect(page.get_by_test_id("certificate")).to_have_class("fields unverified")


def test_half_filled_holder_form_error_is_visible_on_a_phone(page: Page, world: World, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    _open(page, base_url)
    page.get_by_test_id("holder-box").locator("summary").click()
    page.get_by_test_id("holder-name").fill(HOLDER_NAME)
    page.get_by_test_id("paste-input").fill(world.qr())
    page.get_by_test_id("paste-submit").click()
    error = page.get_by_test_id("holder-error")
    expect(error).to_be_in_viewport()
    expect(error).to_contain_text("请填写证件号码")
    expect(page.get_by_test_id("holder-id")).to_be_focused()
    expect(page.get_by_test_id("holder-id")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("verdict")).to_be_hidden()  # nothing was verified
    page.get_by_test_id("holder-id").fill(HOLDER_ID)
    expect(error).to_be_hidden()
    page.get_by_test_id("paste-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-outcome", "valid", timeout=TIMEOUT_MS)
