"""Certificate PDFs per CPU-second, one process: the template-and-stamp writer (``issuer.pdf``) against the
fpdf2 page it replaced (``issuer/pdf.py`` at commit 2fe236c, loaded from git), on the same certificates,
in one run. Each certificate as its own PDF (what ``render`` writes per certificate), with a 1-inch photo
and the vector QR; plus the batch print file (all pages in one PDF), assembled from the stamps the
certificates' own files were made from.

Run: .venv/bin/python bench/bench_print.py [--pages N]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _measure import result
from credential_fixtures import typical_claims

from credential import encode
from issuer import fonts
from issuer.pdf import CertificateView, printed_text, render_certificate_pdf, stamp_page, write_pdf
from issuer.photos import PhotoRef
from keys import Signer

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "2fe236c"  # main before issue 15's print work: fpdf2, one document per certificate
NAMES = ("王建国", "李秀英", "张志强", "刘丽娟", "陈海涛", "杨晓明", "黄春燕", "赵伟", "吴静", "欧阳明月")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-print-") as tmp:
        _bench(Path(tmp), args.pages)


def _bench(tmp: Path, pages: int) -> None:
    os.environ[fonts.CACHE_ENV] = str(tmp / "font-cache")
    old = _old_module()
    photos = [_photo(tmp / f"p{i}.jpg", i) for i in range(10)]
    signer = Signer.generate()
    items = []
    for n in range(pages):
        number = f"Y000011000001263{n + 1:06d}"  # serials run from 1 (credential.claims)
        name = NAMES[n % len(NAMES)]
        qr = encode(typical_claims(certificate_number=number, holder_name=name, status_index=n), signer)
        view = CertificateView(name, "居民身份证", "11010519491231002X", "6-31-01-03", "电工", "--", 3, number,
                               "中国国家铁路集团有限公司", dt.date(2026, 11, 24),
                               photo=PhotoRef.file(photos[n % len(photos)]))  # fmt: skip
        items.append((view, qr))
    face = fonts.batch_subset(printed_text(v, q) for v, q in items)
    render_certificate_pdf(*items[0], font=face)  # warm up (font parsing, template)
    new_best = max(_rate(lambda v, q: render_certificate_pdf(v, q, font=face), items) for _ in range(3))
    old_best = None if old is None else _old_rate(old, items, photos, face)
    stamps = [stamp_page(v, q, font=face) for v, q in items]  # made once per certificate by the workers
    start = time.process_time()
    with (tmp / "batch.pdf").open("wb") as out:
        write_pdf(out, stamps)
    batch_rate = pages / (time.process_time() - start)
    load = os.getloadavg()
    print(f"{pages} certificates, 1 process; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"  per-certificate PDF, template + stamp   {new_best:8.0f} pages per CPU-second")
    print(f"  batch print file, from the pages' stamps {batch_rate:7.0f} pages per CPU-second")
    print(f"  size {(tmp / 'batch.pdf').stat().st_size / pages:,.0f} B/page")
    if old_best is None:
        print(f"  fpdf2 (old): commit {OLD_COMMIT} is not in this clone's history; no comparison")
        versus = "(the old writer is not in this clone's history)"
    else:
        print(f"  per-certificate PDF, fpdf2 (old)        {old_best:8.0f} pages per CPU-second")
        versus = f"vs {old_best:,.0f}/s ({new_best / old_best:.1f}x)"
    result("print: per-certificate PDF pages per CPU-second (new vs fpdf2)", f"{new_best:,.0f}/s {versus}",
           ">= 300/s on 2 cores", new_best * 2 >= 300)  # fmt: skip
    result("print: batch print file pages per CPU-second", f"{batch_rate:,.0f}/s", "—")


def _old_rate(old: types.ModuleType, items: list[tuple[CertificateView, str]], photos: list[Path],
              face: object) -> float:  # fmt: skip
    """The old writer's best rate on the same certificates (a tenth of them: it is slow)."""
    old_items = [(_old_view(old, v, photos[i % len(photos)]), q) for i, (v, q) in enumerate(items)]
    old.render_certificate_pdf(*old_items[0], font=face)  # warm up
    sample = old_items[: max(min(len(items), 20), len(items) // 10)]
    return max(_rate(lambda v, q: old.render_certificate_pdf(v, q, font=face), sample) for _ in range(3))


def _rate(render: object, items: Sequence[tuple[object, str]]) -> float:
    """Pages per CPU-second of this process: on a shared, loaded machine the wall clock measures the
    neighbours; CPU time measures the work (one core's rate when the core is ours)."""
    assert callable(render)
    start = time.process_time()
    for view, qr in items:
        render(view, qr)
    return len(items) / (time.process_time() - start)


def _old_view(old: types.ModuleType, view: CertificateView, photo: Path) -> object:
    """The same certificate for the old writer, which took the photo as a path and knew no seal (the
    seal came later; these certificates have none, so both writers draw the same page)."""
    known = {f.name for f in dataclasses.fields(old.CertificateView)}
    return old.CertificateView(**{k: v for k, v in vars(view).items() if k in known} | {"photo": photo})


def _old_module() -> types.ModuleType | None:
    """The fpdf2 writer from git history, or None in a clone without that commit (a shallow one)."""
    shown = subprocess.run(["git", "-C", str(REPO), "show", f"{OLD_COMMIT}:issuer/pdf.py"],
                           check=False, capture_output=True, text=True)  # fmt: skip
    if shown.returncode != 0:
        return None
    source = shown.stdout
    module = types.ModuleType("old_pdf")
    sys.modules["old_pdf"] = module
    exec(compile(source, "old_pdf.py", "exec"), module.__dict__)  # noqa: S102 (our own file from git history)
    return module


def _photo(path: Path, seed: int) -> Path:
    image = Image.new("RGB", (354, 496), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 70 + seed, 254, 280), fill=(225, 190, 160))
    draw.rectangle((50, 300, 304, 496), fill=(30 + 10 * seed, 50, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    path.write_bytes(out.getvalue())
    return path


if __name__ == "__main__":
    main()
