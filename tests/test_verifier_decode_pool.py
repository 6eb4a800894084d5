"""The decode pool (`verifier.decode_pool`): real worker processes, real poppler, real hostile files.

What must hold whatever the machine's speed: a page that overruns its limits fails alone and its
worker is replaced; one client cannot hold every worker; pages of different uploads take turns; an
upload no worker takes in time is refused; the answer equals what the in-process reader finds.
No assertion here times anything.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from harness.servers import serve_app
from PIL import Image
from verifier_fixtures import NOW, World, make_verifier, nested_forms_pdf

from common.qrimage import render_image
from verifier.cpus import usable_cpus
from verifier.decode_pool import DecodePool, PoolConfig, client_key
from verifier.images import DecodedUpload, ImageError, ImageLimits, read_codes
from verifier.pdf_pages import PdfLimits
from verifier.service import create_app

TEXT = "SP1:" + "6BFOXN*TS0BI$ZD.P9" * 8
# The hostile PDF is stopped by its CPU limit (1 s); the generous wall-clock limit leaves that to the CPU limit.
CPU_BOUND = ImageLimits(pdf=PdfLimits(cpu_seconds=1, wall_seconds=120.0))


def _png(text: str = TEXT) -> bytes:
    out = io.BytesIO()
    render_image(text, scale=4).save(out, format="PNG")
    return out.getvalue()


def _pdf(pages: int) -> bytes:
    images = []
    for number in range(pages):
        page = Image.new("RGB", (620, 877), "white")
        page.paste(render_image(f"{TEXT}{number}", scale=3).convert("RGB"), (40, 40))
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=75.0, save_all=True, append_images=images[1:])
    return out.getvalue()


def _with_pool(config: PoolConfig, body: Callable[[DecodePool], Awaitable[None]]) -> None:
    async def run() -> None:
        pool = DecodePool(config)
        await pool.start()
        try:
            await body(pool)
        finally:
            await pool.close()

    # A thread of its own: in a worker where Playwright ran, this thread already has a running loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()


async def _refusal(upload: Awaitable[object]) -> ImageError:
    with pytest.raises(ImageError) as caught:
        await upload
    return caught.value


def test_pool_finds_what_the_in_process_reader_finds() -> None:
    pdf = _pdf(5)

    async def body(pool: DecodePool) -> None:
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT
        assert await pool.read_codes(pdf) == read_codes(pdf)
        first = await pool.read_codes(pdf, first_page_only=True)
        assert (first.pages, [code.text for code in first.codes]) == (1, [f"{TEXT}0"])

    _with_pool(PoolConfig(workers=2), body)


def test_hostile_pdf_is_stopped_by_the_cpu_limit_and_its_worker_replaced() -> None:
    async def body(pool: DecodePool) -> None:
        error = await _refusal(pool.first_code(nested_forms_pdf(), "198.51.100.7"))
        assert (error.code, error.status) == ("page_too_complex", 422)
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT

    _with_pool(
        PoolConfig(workers=1, page_wall_seconds=120.0, queue_wait_seconds=120.0, limits=CPU_BOUND), body
    )


def test_page_over_its_wall_clock_limit_is_killed_and_the_worker_replaced() -> None:
    async def body(pool: DecodePool) -> None:
        error = await _refusal(pool.first_code(nested_forms_pdf(), "198.51.100.7"))
        assert error.code == "page_too_complex" and "more than 0.5 s" in error.detail
        # The replacement is judged by a read that no limit of this test can cut short: on a loaded
        # machine a genuine page may take over 0.5 s, and restarting the worker over 10 s.
        pool.config = replace(pool.config, page_wall_seconds=120.0)
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT

    _with_pool(PoolConfig(workers=1, page_wall_seconds=0.5, queue_wait_seconds=120.0), body)


def test_one_client_cannot_hold_every_worker() -> None:
    """Two workers: the default lets one client have one upload in flight, so the other stays free."""

    async def body(pool: DecodePool) -> None:
        attack = asyncio.ensure_future(pool.first_code(nested_forms_pdf(), "203.0.113.9"))
        await asyncio.sleep(0)  # the attack takes its place first
        error = await _refusal(pool.first_code(_png(), "203.0.113.9"))
        assert (error.code, error.status) == ("client_busy", 429)
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT
        assert (await _refusal(attack)).code == "page_too_complex"

    _with_pool(PoolConfig(workers=2, page_wall_seconds=120.0, limits=CPU_BOUND), body)


def test_pages_of_uploads_take_turns() -> None:
    """One worker, a 12-page PDF queued first: a one-page upload is answered before the PDF."""

    async def body(pool: DecodePool) -> None:
        long_pdf = asyncio.ensure_future(pool.read_codes(_pdf(12)))
        await asyncio.sleep(0)
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT
        assert not long_pdf.done()
        decoded = await long_pdf
        assert isinstance(decoded, DecodedUpload) and decoded.pages == 12 and len(decoded.codes) == 12

    _with_pool(PoolConfig(workers=1), body)


def test_upload_no_worker_takes_in_time_is_refused_busy() -> None:
    async def body(pool: DecodePool) -> None:
        attack = asyncio.ensure_future(pool.first_code(nested_forms_pdf(), "203.0.113.9"))
        await asyncio.sleep(0)
        error = await _refusal(pool.first_code(_png(), "198.51.100.7"))
        assert (error.code, error.status) == ("decode_busy", 503)
        assert (await _refusal(attack)).code == "page_too_complex"
        assert await pool.first_code(_png(), "198.51.100.7") == TEXT

    config = PoolConfig(workers=1, page_wall_seconds=120.0, queue_wait_seconds=0.01, limits=CPU_BOUND)
    _with_pool(config, body)


def test_refusals_from_the_worker_keep_their_code() -> None:
    async def body(pool: DecodePool) -> None:
        assert (await _refusal(pool.first_code(b"not a picture", "198.51.100.7"))).code == "image_unsupported"
        blank = io.BytesIO()
        Image.new("L", (200, 200), 255).save(blank, format="PNG")
        assert (await _refusal(pool.first_code(blank.getvalue(), "198.51.100.7"))).code == "qr_not_found"
        pages = await _refusal(pool.read_codes(_pdf(3)))
        assert (pages.code, pages.status) == ("pdf_too_many_pages", 413)

    _with_pool(PoolConfig(workers=1, limits=ImageLimits(max_pages=2)), body)


def test_partial_reading_answers_each_page_on_its_own() -> None:
    """The bulk endpoint's reading: a page over the pixel budget is recorded with its code and the
    other pages are still read; read whole (the single upload), the same file fails whole."""
    large = Image.new("RGB", (1500, 1500), "white")  # 9 MP once rendered at 150 dpi
    large.paste(render_image(TEXT, scale=3).convert("RGB"), (40, 40))
    out = io.BytesIO()
    first = Image.new("RGB", (620, 877), "white")
    first.paste(render_image(f"{TEXT}0", scale=3).convert("RGB"), (40, 40))
    first.save(out, format="PDF", resolution=75.0, save_all=True, append_images=[large])
    data = out.getvalue()

    async def body(pool: DecodePool) -> None:
        decoded = await pool.read_codes(data, partial=True)
        assert [(code.page, code.text) for code in decoded.codes] == [(1, f"{TEXT}0")]
        assert [(page, error.code) for page, error in decoded.failed_pages] == [(2, "image_too_large")]
        assert decoded.pages == 2 and decoded.pages_without_code == ()
        assert (await _refusal(pool.read_codes(data))).code == "image_too_large"
        assert (await _refusal(pool.read_codes(data, max_bytes=len(data) - 1))).code == "upload_too_large"

    _with_pool(PoolConfig(workers=2, limits=ImageLimits(max_pixels=4_000_000)), body)


def test_over_http_an_attacking_address_leaves_others_served(tmp_path: Path) -> None:
    """The service on loopback: an attack upload in flight from 127.0.0.1; that address's next upload
    is refused 429, while 127.0.0.2's upload and JSON verification are answered."""
    world = World()
    pool = DecodePool(PoolConfig(workers=2, page_wall_seconds=120.0, limits=CPU_BOUND))
    app = create_app(make_verifier(world, tmp_path, clock=lambda: NOW), pool)
    upload = {"file": ("c.png", _png(world.qr()), "image/png")}
    attack_answer: list[httpx.Response] = []
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=120.0) as attacker:
        thread = threading.Thread(
            target=lambda: attack_answer.append(
                attacker.post(
                    "/api/v1/verify/image", files={"file": ("a.pdf", nested_forms_pdf(), "application/pdf")}
                )
            )
        )
        thread.start()
        _wait_until(lambda: pool.in_flight("127.0.0.1") == 1)
        refused = attacker.post("/api/v1/verify/image", files=upload)
        assert (refused.status_code, refused.json()["code"]) == (429, "client_busy")
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, timeout=120.0, transport=other) as neighbour:
            assert neighbour.post("/api/v1/verify/image", files=upload).json()["result"] == "valid"
            assert neighbour.post("/api/v1/verify", json={"qr": world.qr()}).json()["result"] == "valid"
        thread.join()
    assert (attack_answer[0].status_code, attack_answer[0].json()["code"]) == (422, "page_too_complex")


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        (None, "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_64(host: str | None, key: str) -> None:
    assert client_key(host) == key


# ---- CPUs the process may use. The kernel's cgroup files are faked in a folder: we do not own them.


def _cgroup(root: Path, relative: str, name: str, text: str) -> None:
    folder = root / relative
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def _proc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proc-self-cgroup"
    path.write_text(text)
    return path


def test_cpus_from_a_cgroup_v2_quota_on_an_ancestor(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _cgroup(root, "system.slice", "cpu.max", "150000 100000\n")
    _cgroup(root, "system.slice/verifier.service", "cpu.max", "max 100000\n")
    proc = _proc(tmp_path, "0::/system.slice/verifier.service\n")
    assert usable_cpus(root, proc) == min(2, len(os.sched_getaffinity(0)))


def test_cpus_from_a_cgroup_v1_quota(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _cgroup(root, "cpu,cpuacct/docker/abc", "cpu.cfs_quota_us", "50000\n")
    _cgroup(root, "cpu,cpuacct/docker/abc", "cpu.cfs_period_us", "100000\n")
    proc = _proc(tmp_path, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")
    assert usable_cpus(root, proc) == 1


def test_cpus_without_a_quota_are_the_affinity_mask(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _cgroup(root, "", "cpu.max", "max 100000\n")
    _cgroup(root, "cpu/x", "cpu.cfs_quota_us", "-1\n")
    proc = _proc(tmp_path, "0::/\n3:cpu:/x\n")
    assert usable_cpus(root, proc) == len(os.sched_getaffinity(0))
    assert usable_cpus(root, tmp_path / "missing") == len(os.sched_getaffinity(0))
