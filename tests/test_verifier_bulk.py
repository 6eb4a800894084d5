"""Bulk verification through the real service: a ZIP of 200 PNGs plus 3 foreign QR images, a 50-page
batch PDF page by page, a CSV of QR texts, the limits, the XLSX/CSV report and the signed receipt.

The service runs on loopback with the real `Verifier` on trust data synced over HTTP (offline
verification at the fixtures' fixed time); pictures are real QR codes read back by zxing-cpp and
PDF pages rendered by poppler.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.servers import serve_app
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect
from verifier_fixtures import NOW, REVOKED_INDEX, SUSPENDED_INDEX, World, make_verifier, tampered

from common.qrimage import render_image, render_png
from keys import from_jwk
from verifier.bulk import BatchLimits
from verifier.receipt import open_receipt
from verifier.service import create_app

BATCH = "/api/v1/verify/batch"


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier)) as base:
        yield base


def _serials(world: World, count: int) -> list[str]:
    """``count`` distinct genuine certificates (serials 1..count)."""
    code = "Y000011000001"
    return [
        world.qr(certificate_number=f"{code}26300{i:04d}", status_index=10_000 + i)
        for i in range(1, count + 1)
    ]


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _post(url: str, files: list[tuple[str, bytes]], **params: str) -> httpx.Response:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return httpx.post(url + BATCH, files=parts, params=params, timeout=600)


def test_a_zip_of_200_pngs_and_3_foreign_qr_images(url: str, world: World) -> None:
    texts = _serials(world, 200)
    files = {f"hires/{i:03d}.png": render_png(text, scale=3) for i, text in enumerate(texts)}
    files |= {f"other/{i}.png": render_png(f"https://example.org/menu/{i}", scale=3) for i in range(3)}
    answer = _post(url, [("list.zip", _zip(files))])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert len(results) == 203
    assert Counter(r["outcome"] for r in results) == {"valid": 200, "unrecognized": 3}
    assert body["summary"] == {"valid": 200, "unrecognized": 3}
    first = results[0]
    assert first["source"]["file"] == "list.zip" and first["source"]["member"] == "hires/000.png"
    assert first["credential"]["certificate_number"] == "Y000011000001263000001"
    assert all(r["source"]["member"].startswith("other/") for r in results if r["outcome"] == "unrecognized")

    report = httpx.post(
        url + BATCH + "/report", params={"format": "xlsx"}, json={"results": results}, timeout=120
    )
    assert report.status_code == 200 and "spreadsheetml" in report.headers["content-type"]
    sheet = load_workbook(io.BytesIO(report.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 203 and rows[0][1] == "结果 Outcome"
    assert Counter(str(row[2]) for row in rows[1:]) == {"valid": 200, "prefix_missing": 3}

    key = from_jwk(httpx.get(url + "/api/v1/verifier-key", timeout=30).json())
    receipt = open_receipt(body["receipt"], key).payload
    assert receipt["count"] == 203 and receipt["trust"]["version"] == 7 and receipt["issued_at"] == NOW
    assert [r["outcome"] for r in receipt["results"]] == [r["outcome"] for r in results]
    assert [r["sha256"] for r in receipt["results"]] == [r["sha256"] for r in results]


def test_a_50_page_batch_pdf_is_verified_page_by_page(url: str, world: World, tmp_path: Path) -> None:
    texts = _serials(world, 50)
    texts[10] = world.qr(status_index=REVOKED_INDEX)
    texts[20] = world.qr(status_index=SUSPENDED_INDEX)
    texts[30] = tampered(world.qr())
    pages = [_page(text) for text in texts]
    pages[40] = Image.new("RGB", pages[40].size, "white")  # a page without a code must not pass unnoticed
    pdf = io.BytesIO()
    pages[0].save(pdf, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    answer = _post(url, [("batch.pdf", pdf.getvalue())])
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["source"]["page"] for r in results] == list(range(1, 51))
    outcomes = {i + 1: r["outcome"] for i, r in enumerate(results)}
    assert (outcomes[11], outcomes[21], outcomes[31], outcomes[41]) == (
        "revoked",
        "suspended",
        "invalid",
        "unrecognized",
    )
    assert results[40]["code"] == "qr_not_found"
    assert Counter(outcomes.values())["valid"] == 46


def _page(text: str) -> Image.Image:
    """An A5-ish page at 150 dpi with the QR code near the bottom right, like a certificate."""
    page = Image.new("RGB", (870, 1240), "white")
    qr = render_image(text, scale=4).convert("RGB")
    page.paste(qr, (870 - qr.width - 60, 1240 - qr.height - 60))
    return page


def test_a_csv_of_qr_texts_and_several_files_at_once(url: str, world: World) -> None:
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["姓名", "二维码"])
    writer.writerow(["张三丰", world.qr()])
    writer.writerow(["张三丰", world.qr(status_index=REVOKED_INDEX)])
    writer.writerow(["某人", "not a certificate"])
    files = [("list.csv", table.getvalue().encode("utf-8-sig")), ("one.png", render_png(world.qr(), scale=3))]
    results = _post(url, files).json()["results"]
    assert [(r["source"]["file"], r["source"].get("row"), r["outcome"]) for r in results] == [
        ("list.csv", 2, "valid"),
        ("list.csv", 3, "revoked"),
        ("list.csv", 4, "unrecognized"),
        ("one.png", None, "valid"),
    ]


def test_progress_is_streamed_then_the_answer(url: str, world: World) -> None:
    files = [(f"{i}.png", render_png(text, scale=3)) for i, text in enumerate(_serials(world, 4))]
    answer = _post(url, files, progress="1")
    lines = [line for line in answer.text.splitlines() if line]
    parsed = [json.loads(line) for line in lines]
    stages = [p["progress"] for p in parsed if "progress" in p]
    assert {"stage": "read", "done": 4, "total": 4} in stages
    assert {"stage": "verify", "done": 4, "total": 4} in stages
    assert len(parsed[-1]["answer"]["results"]) == 4


def test_beyond_the_limits_the_batch_is_refused_whole(url: str, world: World) -> None:
    empty = httpx.post(url + BATCH, files=[("other", ("x.txt", b"x", "text/plain"))], timeout=30)
    assert (empty.status_code, empty.json()["code"]) == (422, "batch_empty")
    limits = BatchLimits()
    many = [("files", (f"{i}.txt", b"SP1:", "text/plain")) for i in range(limits.max_files + 1)]
    refused = httpx.post(url + BATCH, files=many, timeout=120)
    assert (refused.status_code, refused.json()["code"]) == (413, "batch_too_many_files")
    assert refused.json()["message_zh"] and "results" not in refused.json()
    bomb = _zip({"a.png": b"\0" * (limits.max_file_bytes + 1)})
    refused = _post(url, [("bomb.zip", bomb)])
    assert (refused.status_code, refused.json()["code"]) == (413, "batch_file_too_large")
    no_column = _post(url, [("list.csv", "姓名,编号\n张三,1\n".encode())])
    assert (no_column.status_code, no_column.json()["code"]) == (422, "table_without_qr")


def test_bulk_on_the_page(page: Page, url: str, world: World, tmp_path: Path) -> None:
    """Several files chosen at once: a progress bar, a sortable table, the reports and the receipt."""
    files = {
        "a-valid.png": render_png(world.qr(), scale=3),
        "b-revoked.png": render_png(world.qr(status_index=REVOKED_INDEX), scale=3),
        "c-menu.png": render_png("https://example.org/menu", scale=3),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.get_by_test_id("bulk-input").set_input_files(paths)
    rows = page.get_by_test_id("bulk-row")
    expect(rows).to_have_count(3, timeout=60_000)
    expect(page.get_by_test_id("bulk-progress")).to_be_hidden()
    expect(page.get_by_test_id("bulk-status")).to_have_text("共 3 份证书：有效 1，已撤销 1，未识别为证书 1")
    expect(rows.nth(1)).to_contain_text("⊘ 已撤销")
    expect(rows.nth(1)).to_contain_text("b-revoked.png")
    page.get_by_test_id("bulk-head").get_by_role("button", name="来源").click()
    page.get_by_test_id("bulk-head").get_by_role("button", name="来源").click()  # descending
    expect(rows.nth(0)).to_contain_text("c-menu.png")
    expect(page.locator('th[aria-sort="descending"]')).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_test_id("bulk-xlsx").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "有效 Valid", "已撤销 Revoked", "未识别为证书 Not a recognised certificate"]  # fmt: skip
    with page.expect_download() as download:
        page.get_by_test_id("bulk-csv").click()
    assert len(Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()) == 4
    with page.expect_download() as download:
        page.get_by_test_id("bulk-receipt").click()
    key = from_jwk(httpx.get(url + "/api/v1/verifier-key", timeout=30).json())
    receipt = open_receipt(Path(download.value.path()).read_text(encoding="utf-8"), key).payload
    assert [r["outcome"] for r in receipt["results"]] == ["valid", "revoked", "unrecognized"]


def test_a_single_check_can_have_a_receipt(url: str, world: World) -> None:
    text = world.qr(status_index=SUSPENDED_INDEX)
    answer = httpx.post(url + "/api/v1/verify", json={"qr": text, "receipt": True}, timeout=30).json()
    assert answer["outcome"] == "suspended" and answer["receipt"]
    key = from_jwk(httpx.get(url + "/api/v1/verifier-key", timeout=30).json())
    receipt = open_receipt(answer["receipt"], key).payload
    assert receipt["results"] == [{"sha256": answer["sha256"], "outcome": "suspended", "code": "suspended"}]
    plain = httpx.post(url + "/api/v1/verify", json={"qr": text}, timeout=30).json()
    assert "receipt" not in plain
