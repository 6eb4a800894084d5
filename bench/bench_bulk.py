"""Bulk verification: 1,000 certificates as 1,000 PNGs, and as a 1,000-page batch PDF.

DESIGN's target: 1,000 certificates in under 60 s on 2 cores. The service (the real app, the real
`Verifier` on trust data synced over HTTP from a stand-in registry, offline verification) runs on
loopback in this process; the client uploads every file in one `POST /api/v1/verify/batch` and
waits for the answer with its signed receipt. The figure is the wall-clock time from the start of
the upload to the answer, and its ratio to the 60 s budget measured in the same run.

    .venv/bin/python bench/bench_bulk.py [--count N] [--skip-pdf | --skip-png]

A tiny run (a smoke test: 3 certificates, each way) takes seconds:

    .venv/bin/python bench/bench_bulk.py --count 3
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _measure import result
from harness.servers import serve_app
from verifier_fixtures import NOW, World, make_verifier

from common.qrimage import render_image, render_png
from verifier.bulk import DEFAULT_BATCH_LIMITS
from verifier.service import create_app

BUDGET_SECONDS = 60.0


def _texts(world: World, count: int) -> list[str]:
    code = "Y000011000001"
    return [
        world.qr(certificate_number=f"{code}263{i:06d}", status_index=10_000 + i) for i in range(1, count + 1)
    ]


def _pdf(texts: list[str]) -> bytes:
    """One certificate per A5-ish page at 150 dpi, its QR code near the bottom right."""
    pages = []
    for text in texts:
        page = Image.new("1", (870, 1240), 1)
        qr = render_image(text, scale=4).convert("1")
        page.paste(qr, (870 - qr.width - 60, 1240 - qr.height - 60))
        pages.append(page)
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


def _run(url: str, files: list[tuple[str, bytes]], count: int) -> tuple[float, dict[str, int]]:
    """Upload ``files`` as one batch; the seconds until the answer and its summary. A refused batch,
    a missing receipt or any certificate not found valid ends the run: a time is only worth
    printing for a batch that was verified whole."""
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    start = time.perf_counter()
    answer = httpx.post(url + "/api/v1/verify/batch", files=parts, timeout=900)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise SystemExit(f"the verifier refused the batch: HTTP {answer.status_code} {answer.text}")
    body = answer.json()
    if not body.get("receipt"):
        raise SystemExit("the batch answer has no receipt")
    summary: dict[str, int] = body["summary"]
    if summary != {"valid": count}:
        raise SystemExit(f"expected {count} valid certificates, the verifier found {summary}")
    return elapsed, summary


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="certificates: PNG files, and PDF pages")
    parser.add_argument("--skip-pdf", action="store_true", help="only the batch of PNG files")
    parser.add_argument("--skip-png", action="store_true", help="only the batch PDF")
    args = parser.parse_args()
    if args.skip_pdf and args.skip_png:
        parser.error("--skip-pdf and --skip-png together leave nothing to measure")
    if not 1 <= args.count <= DEFAULT_BATCH_LIMITS.max_files:
        parser.error(f"--count must be between 1 and {DEFAULT_BATCH_LIMITS.max_files} (one batch's limit)")
    return args


def main() -> int:
    args = _arguments()
    world = World()
    texts = _texts(world, args.count)
    kinds = [
        kind for kind, skipped in (("PNGs", args.skip_png), ("a batch PDF", args.skip_pdf)) if not skipped
    ]
    print(f"{os.cpu_count()} cores; preparing {args.count} certificates as {' and '.join(kinds)}")
    batches = []  # (what is measured, its files); each is one upload
    if not args.skip_png:
        pngs = [(f"{i:04d}.png", render_png(text, scale=3)) for i, text in enumerate(texts)]
        batches.append((f"{args.count} PNGs in one batch", pngs))
    if not args.skip_pdf:
        batches.append((f"a {args.count}-page batch PDF", [("batch.pdf", _pdf(texts))]))
    with tempfile.TemporaryDirectory() as folder:
        verifier = make_verifier(world, Path(folder), clock=lambda: NOW)
        with serve_app(create_app(verifier)) as url:
            for what, files in batches:
                seconds, summary = _run(url, files, args.count)
                print(f"{what}: {seconds:.1f} s ({args.count / seconds:.0f} certificates/s), {summary}")
                result(f"bulk verification, {what} over HTTP", f"{seconds:.1f} s "
                       f"({seconds / BUDGET_SECONDS:.0%} of the 60 s budget)", "< 60 s", seconds < BUDGET_SECONDS)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
