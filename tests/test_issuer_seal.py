"""The institution's seal: a PNG with transparency printed over the issue date, embedded once per document
with its alpha as a soft mask; anything else refused with a clear error before a batch is submitted."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from credential_fixtures import typical_claims
from PIL import Image, ImageDraw
from test_issuer_pdf_layout import boxes, longest

from credential import encode
from issuer.pdf import SEAL_CENTRE, CertificateView, PdfError, render_batch_pdf, render_certificate_pdf
from keys import Signer

VIEW = CertificateView("张伟", "居民身份证", "11010519491231002X", "6-31-01-03", "电工", "--", 3,
                       "Y000011000001263000001", "中国国家铁路集团有限公司", dt.date(2026, 11, 24))  # fmt: skip


def seal_png(path: Path, size: tuple[int, int] = (400, 400)) -> Path:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, size[0] - 10, size[1] - 10), outline=(200, 20, 20, 230), width=14)
    draw.regular_polygon((size[0] // 2, size[1] // 2, 60), 5, fill=(200, 20, 20, 230))
    image.save(path)
    return path


def images(pdf: Path) -> list[list[str]]:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True)
    return [line.split() for line in listing.stdout.splitlines()[2:]]


def test_the_seal_is_printed_over_the_issue_date_once_per_document(tmp_path: Path) -> None:
    seal = seal_png(tmp_path / "seal.png")
    qr = encode(typical_claims(), Signer.generate())
    pdf = tmp_path / "batch.pdf"
    views = [replace(VIEW, certificate_number=f"Y000011000001263{n:06d}", seal=seal) for n in (1, 2, 3)]
    pdf.write_bytes(render_batch_pdf([(v, qr) for v in views]))
    found = images(pdf)
    assert [(row[0], row[2]) for row in found] == [(p, kind) for p in "123" for kind in ("image", "smask")]
    assert len({row[10] for row in found}) == 1  # one image object (with its mask) shared by every page
    date = next(b for b in boxes(pdf) if b.text == "2026年11月24日")
    cx, cy = SEAL_CENTRE
    assert date.left < cx < date.right + 30 and date.top < cy < date.bottom  # over the date
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    with Image.open(tmp_path / "page.png") as page:
        red = page.convert("RGB").getpixel((round(cx / 25.4 * 50), round(cy / 25.4 * 50)))
    assert isinstance(red, tuple)  # an RGB image's pixel is a (red, green, blue) tuple
    assert red[0] > 150 and red[1] < 120  # the seal's red shows at its centre


def test_the_longest_values_still_lay_out_with_a_seal(tmp_path: Path) -> None:
    view = replace(longest(), seal=seal_png(tmp_path / "seal.png", (500, 420)))
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate_pdf(view, encode(typical_claims(), Signer.generate())))
    assert any(b.text == "2026年12月31日" for b in boxes(pdf))


@pytest.mark.parametrize("kind", ["jpeg", "opaque_png", "junk", "absent"])
def test_a_seal_without_transparency_is_refused(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "seal.img"
    if kind == "jpeg":
        Image.new("RGB", (300, 300), "red").save(path, format="JPEG")
    elif kind == "opaque_png":
        Image.new("RGB", (300, 300), "red").save(path, format="PNG")
    elif kind == "junk":
        path.write_bytes(b"\x89PNG not really")
    with pytest.raises(PdfError) as caught:
        render_certificate_pdf(replace(VIEW, seal=path), encode(typical_claims(), Signer.generate()))
    assert caught.value.code == "seal_invalid" and "PNG" in caught.value.message_zh
