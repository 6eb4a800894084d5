"""Every QR in a file (issue 12, point 5) on the single upload: a multi-page PDF or a picture with
several QR codes is verified code by code, and the answer and the page list each, so a batch PDF is
never judged by its first page. Real pictures read by zxing-cpp, PDF pages rendered by poppler,
the page in headless Chromium."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.servers import serve_app
from PIL import Image
from playwright.sync_api import Page, expect
from verifier_fixtures import NOW, REVOKED_INDEX, World, make_verifier

from common.qrimage import render_image, render_png
from verifier.service import create_app

IMAGE = "/api/v1/verify/image"


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier)) as base:
        yield base


def _page(text: str | None) -> Image.Image:
    page = Image.new("RGB", (870, 1240), "white")
    if text is not None:
        qr = render_image(text, scale=4).convert("RGB")
        page.paste(qr, (870 - qr.width - 60, 1240 - qr.height - 60))
    return page


def _pdf(texts: list[str | None]) -> bytes:
    pages = [_page(text) for text in texts]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


def _upload(url: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(url + IMAGE, files={"file": (name, data, "application/octet-stream")}, timeout=300)


def _batch_pdf(world: World) -> bytes:
    """Page 1 valid, page 2 revoked, page 3 without a code, page 4 another kind of QR."""
    return _pdf([world.qr(), world.qr(status_index=REVOKED_INDEX), None, "https://example.org/menu"])


def test_a_multi_page_pdf_is_verified_page_by_page(url: str, world: World) -> None:
    answer = _upload(url, "batch.pdf", _batch_pdf(world))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "valid" and body["decoded_from"] == "image"  # the first of our codes
    codes = body["codes"]
    assert [(c["page"], c["outcome"]) for c in codes] == [
        (1, "valid"),
        (2, "revoked"),
        (3, "unrecognized"),
        (4, "unrecognized"),
    ]
    assert codes[2]["code"] == "qr_not_found" and codes[2]["position"] is None
    assert codes[3]["code"] == "prefix_missing" and codes[3]["position"]["width"] > 0


def test_a_picture_with_two_codes_lists_both(url: str, world: World) -> None:
    left, right = (
        render_image(world.qr(status_index=REVOKED_INDEX), scale=4),
        render_image(world.qr(), scale=4),
    )
    sheet = Image.new("RGB", (left.width + right.width + 80, max(left.height, right.height) + 40), "white")
    sheet.paste(left.convert("RGB"), (20, 20))
    sheet.paste(right.convert("RGB"), (left.width + 60, 20))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    body = _upload(url, "two.png", buffer.getvalue()).json()
    assert body["outcome"] == "revoked"  # read left to right: the first code decides the headline
    assert [(c["page"], c["outcome"]) for c in body["codes"]] == [(1, "revoked"), (1, "valid")]


def test_one_code_answers_without_a_list(url: str, world: World) -> None:
    body = _upload(url, "one.png", render_png(world.qr(), scale=4)).json()
    assert body["outcome"] == "valid" and "codes" not in body


def test_the_page_lists_every_code(page: Page, url: str, world: World, tmp_path: Path) -> None:
    pdf = tmp_path / "batch.pdf"
    pdf.write_bytes(_batch_pdf(world))
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        page.get_by_test_id("file-input").set_input_files(str(pdf))
        codes = page.get_by_test_id("codes")
        expect(codes).to_be_visible(timeout=120_000)
        expect(codes).to_have_attribute("data-all-valid", "false")
        expect(page.get_by_test_id("codes-summary")).to_contain_text("此文件含 4 个二维码或页面")
        items = page.get_by_test_id("codes-list").locator("li")
        expect(items).to_have_count(4)
        expect(items.nth(1)).to_contain_text("已撤销")
        expect(items.nth(1)).to_contain_text("第 2 页")
        expect(items.nth(2)).to_contain_text("未识别为证书")
        expect(page.get_by_test_id("verdict-label")).to_have_text("第一个：有效")  # never a bare "valid"
        page.screenshot(path=str(tmp_path / f"every-code-{name}.png"), full_page=True)
