"""Bulk verification through the real service: a ZIP of 200 PNGs plus 3 foreign QR images, a 50-page
batch PDF page by page, a CSV of QR texts, the limits, the XLSX/CSV report and the signed receipt;
pictures and PDF pages are read by the service's decode pool, under its limits, and a batch counts
against its client's in-flight uploads.

The service runs on loopback with the real `Verifier` on trust data synced over HTTP (offline
verification at the fixtures' fixed time); pictures are real QR codes read back by zxing-cpp and
PDF pages rendered by poppler.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from harness.servers import serve_app
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect
from verifier_fixtures import NOW, REVOKED_INDEX, SUSPENDED_INDEX, World, make_verifier, tampered

from common.clients import TrustedProxies
from common.qrimage import render_image, render_png
from keys import from_jwk
from verifier.bulk import BatchLimits
from verifier.decode_pool import DecodePool, PoolConfig
from verifier.images import ImageLimits
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


# A pool whose pixel budget (3 MP) refuses what the in-process reader's default (40 MP) would read,
# and whose two workers leave each client one upload in flight.
TIGHT_POOL = PoolConfig(workers=2, limits=ImageLimits(max_pixels=3_000_000))


@pytest.fixture(scope="module")
def tight(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DecodePool]]:
    pool = DecodePool(TIGHT_POOL)
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier, pool)) as base:
        yield base, pool


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


def _post(
    url: str, files: list[tuple[str, bytes]], headers: dict[str, str] | None = None, /, **params: str
) -> httpx.Response:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return httpx.post(url + BATCH, files=parts, params=params, headers=headers, timeout=600)


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


def _large(text: str) -> Image.Image:
    """A 2400×2400 page (5.8 MP at 150 dpi) with a readable QR code: over the tight pool's budget."""
    page = Image.new("RGB", (2400, 2400), "white")
    page.paste(render_image(text, scale=8).convert("RGB"), (200, 200))
    return page


def test_pictures_and_pages_are_read_under_the_decode_pools_limits(
    tight: tuple[str, DecodePool], world: World
) -> None:
    """A page over the pool's pixel budget is that page's `unrecognized` verdict with the pool's code;
    the other files, and the other page of the same PDF, are still judged."""
    base, _ = tight
    big_png = io.BytesIO()
    _large(world.qr()).save(big_png, format="PNG")
    pdf = io.BytesIO()
    _page(world.qr()).save(
        pdf, format="PDF", save_all=True, append_images=[_large(world.qr())], resolution=150
    )
    files = [
        ("one.png", render_png(world.qr(), scale=3)),
        ("big.png", big_png.getvalue()),
        ("two.pdf", pdf.getvalue()),
        ("list.csv", f"二维码\n{world.qr(status_index=REVOKED_INDEX)}\n".encode()),
    ]
    answer = _post(base, files)
    assert answer.status_code == 200, answer.text
    got = [
        (r["source"]["file"], r["source"].get("page"), r["outcome"], r["code"])
        for r in answer.json()["results"]
    ]
    assert got == [
        ("one.png", None, "valid", "valid"),
        ("big.png", None, "unrecognized", "image_too_large"),
        ("two.pdf", 1, "valid", "valid"),
        ("two.pdf", 2, "unrecognized", "image_too_large"),
        ("list.csv", None, "revoked", "revoked"),
    ]


@contextlib.contextmanager
def _uploads_in_flight(pool: DecodePool, client: str) -> Iterator[None]:
    """Hold every in-flight place the pool gives ``client``, through the pool's own admission (what
    a client's running uploads hold), so no timing decides whether they are still running."""
    held = contextlib.AsyncExitStack()

    async def take() -> None:
        for _ in range(pool.config.client_limit):
            await held.enter_async_context(pool.admitted(client))

    # A loop of its own in a thread of its own (Playwright may run one in this thread), kept open
    # while the places are held: closing a loop closes the admissions' generators, releasing them.
    loop = asyncio.new_event_loop()
    with ThreadPoolExecutor(1) as thread:
        thread.submit(loop.run_until_complete, take()).result()
        try:
            yield
        finally:
            thread.submit(loop.run_until_complete, held.aclose()).result()
            loop.close()


def test_a_batch_counts_against_its_clients_uploads_in_flight(
    tight: tuple[str, DecodePool], world: World
) -> None:
    base, pool = tight
    files = [("one.png", render_png(world.qr(), scale=3))]
    with _uploads_in_flight(pool, "127.0.0.1"):
        assert pool.in_flight("127.0.0.1") == pool.config.client_limit == 1
        for params in ({}, {"progress": "1"}):
            refused = _post(base, files, **params)
            assert (refused.status_code, refused.json()["code"]) == (429, "client_busy")
            assert refused.json()["message_zh"] and "results" not in refused.json()
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=other, timeout=600) as neighbour:
            parts = [("files", (name, data, "image/png")) for name, data in files]
            answer = neighbour.post(base + BATCH, files=parts)
        assert [r["outcome"] for r in answer.json()["results"]] == ["valid"]
    assert pool.in_flight("127.0.0.2") == 0
    for params in ({}, {"progress": "1"}):
        answer = _post(base, files, **params)
        assert answer.status_code == 200 and '"valid"' in answer.text
    assert pool.in_flight("127.0.0.1") == 0


@pytest.fixture(scope="module")
def behind_proxy(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DecodePool]]:
    """The service as deployed behind nginx on this host: 127.0.0.1 is the one trusted proxy."""
    pool = DecodePool(TIGHT_POOL)
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    proxies = TrustedProxies.parse(["127.0.0.1"])
    with serve_app(create_app(verifier, pool, trusted_proxies=proxies)) as base:
        yield base, pool


def test_behind_the_proxy_uploads_count_against_the_address_it_observed(
    behind_proxy: tuple[str, DecodePool], tight: tuple[str, DecodePool], world: World
) -> None:
    """Behind nginx every TCP peer is nginx: counted as such, one client's uploads would use up the
    places of everyone. The address nginx wrote counts; one the client wrote further left does not,
    and without a trusted proxy the header is not believed at all."""
    base, pool = behind_proxy
    files = [("one.png", render_png(world.qr(), scale=3))]
    with _uploads_in_flight(pool, "203.0.113.7"):
        for forwarded_for in ("203.0.113.7", "203.0.113.8, 203.0.113.7"):
            refused = _post(base, files, {"X-Forwarded-For": forwarded_for})
            assert (refused.status_code, refused.json()["code"]) == (429, "client_busy"), forwarded_for
        served = _post(base, files, {"X-Forwarded-For": "203.0.113.8"})
        assert [r["outcome"] for r in served.json()["results"]] == ["valid"]
    untrusting, untrusting_pool = tight
    with _uploads_in_flight(untrusting_pool, "127.0.0.1"):
        refused = _post(untrusting, files, {"X-Forwarded-For": "203.0.113.8"})
        assert (refused.status_code, refused.json()["code"]) == (429, "client_busy")
