"""The printed certificate: text extractable, QR decodable from a 200 dpi rendering, CJK font embedded as a
subset, 𠮷 printed, characters the font lacks refused, the photo at 1-inch size, the longest values the schema
allows inside their frames (``pdftotext -bbox``), small and reproducible."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from credential_fixtures import typical_claims
from fontTools.ttLib import TTFont  # type: ignore[import-untyped, unused-ignore]
from PIL import Image
from pypdf import PdfReader

from common.qrimage import qr_matrix, read_codes
from credential import encode
from issuer import fonts
from issuer.pdf import (
    PHOTO_BOX,
    QR_SIZE_MM,
    QUERY_FOOTER,
    CertificateView,
    PdfError,
    render_batch_pdf,
    render_certificate_pdf,
)
from issuer.photos import PhotoRef
from keys import Signer

MM = 72 / 25.4  # points per millimetre
VIEW = CertificateView(
    holder_name="张𠮷",
    id_type="居民身份证",
    id_number_display="11010519491231002X",
    occupation_code="6-31-01-03",
    occupation_name="电工",
    work_type="--",
    level=3,
    certificate_number="Y000011000001263000001",
    institution_name="中国国家铁路集团有限公司",
    issue_date=dt.date(2026, 11, 24),
)


@pytest.fixture(scope="module")
def qr_text() -> str:
    return encode(typical_claims(holder_name="张𠮷"), Signer.generate())


@pytest.fixture(scope="module")
def pdf_file(qr_text: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "cert.pdf"
    path.write_bytes(render_certificate_pdf(VIEW, qr_text))
    return path


def pdftotext(path: Path, page: int = 1) -> str:
    args = ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True).stdout.decode()


def rasterise(path: Path, tmp_path: Path, dpi: int = 100) -> Image.Image:
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True
    )
    return Image.open(tmp_path / "page.png")


def test_text_shows_every_printed_field(pdf_file: Path) -> None:
    text = pdftotext(pdf_file)
    for expected in ("职业技能等级证书", "Vocational Skill Level Certificate", "张𠮷", "Y000011000001263000001",
                     "11010519491231002X", "电工（6-31-01-03）", "三级/高级工", "中国国家铁路集团有限公司",
                     "2026年11月24日", "照片", "http://jndj.osta.org.cn", "http://pjjg.osta.org.cn"):  # fmt: skip
        assert expected in text, expected
    assert "--" in text


def test_qr_is_vector_and_decodes_from_a_200_dpi_rendering(
    pdf_file: Path, qr_text: str, tmp_path: Path
) -> None:
    assert pdfimages(pdf_file) == []  # drawn as rectangles, not an embedded picture
    page = rasterise(pdf_file, tmp_path, dpi=200)
    assert page.size[0] == 1654  # A4 at 200 dpi
    [code] = read_codes(page)
    assert code.text == qr_text
    assert (code.right - code.left) / 200 * 25.4 >= 35  # at least 35 mm wide without its quiet zone


def test_qr_rectangles_are_exactly_the_modules_of_the_code(
    pdf_file: Path, qr_text: str, tmp_path: Path
) -> None:
    """Module for module, not only readable: a mirrored or shifted code can still decode in some readers."""
    page = rasterise(pdf_file, tmp_path, dpi=200).convert("L")
    pixels, width = page.tobytes(), page.width
    matrix = qr_matrix(qr_text)
    dots = 200 / 25.4
    left, top = (210 - QR_SIZE_MM) / 2 * dots, 181 * dots  # the code's box, quiet zone included
    unit = QR_SIZE_MM * dots / (len(matrix) + 8)

    def dark(x: int, y: int) -> int:  # at the module's centre
        return int(pixels[int(top + (y + 4.5) * unit) * width + int(left + (x + 4.5) * unit)] < 128)

    drawn = [bytes(dark(x, y) for x in range(len(row))) for y, row in enumerate(matrix)]
    assert drawn == list(matrix)


def test_font_is_embedded_as_a_subset_and_the_file_is_small(pdf_file: Path) -> None:
    fonts_out = subprocess.run(["pdffonts", str(pdf_file)], check=True, capture_output=True).stdout.decode()
    line = next(line for line in fonts_out.splitlines() if "NotoSansCJK" in line)
    assert "+" in line.split()[0]  # subset tag ABCDEF+
    assert line.split()[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, unicode map
    assert pdf_file.stat().st_size < 300_000


def test_rendering_is_reproducible(qr_text: str) -> None:
    assert render_certificate_pdf(VIEW, qr_text) == render_certificate_pdf(VIEW, qr_text)


def test_photo_is_placed_at_one_inch_and_kept_small(qr_text: str, tmp_path: Path) -> None:
    photo = tmp_path / "big.jpg"
    Image.effect_noise((1200, 1600), 60).convert("RGB").save(photo, quality=80)  # a big, noisy phone photo
    assert 1_000_000 < photo.stat().st_size <= 2 * 1024 * 1024
    path = tmp_path / "cert.pdf"
    path.write_bytes(render_certificate_pdf(replace(VIEW, photo=PhotoRef.file(photo)), qr_text))
    assert path.stat().st_size < 300_000
    [image] = pdfimages(path)
    assert (image["width"], image["height"], image["enc"]) == ("354", "472", "jpeg")  # 3:4, within 354x496
    content = PdfReader(path).pages[0].get_contents()
    assert content is not None
    x, y, w, h = (v * MM for v in PHOTO_BOX)
    assert (PHOTO_BOX[2], PHOTO_BOX[3]) == (25, 35)  # 1 inch
    number = rb"([\d.]+)"
    clip = re.search(
        rb"q %s %s %s %s re W n %s 0 0 %s [\d.]+ [\d.]+ cm /Photo Do" % ((number,) * 6), content.get_data()
    )
    assert clip is not None
    assert [float(v) for v in clip.groups()[:4]] == pytest.approx([x, 841.89 - y - h, w, h], abs=0.01)
    placed_w, placed_h = float(clip[5]), float(clip[6])
    assert placed_w / placed_h == pytest.approx(354 / 472, rel=0.01)  # not distorted
    assert placed_h == pytest.approx(h, abs=0.01) and placed_w >= w  # covers the frame; the clip crops
    text = pdftotext(path)
    assert "照片" not in text and "张𠮷" in text


def pdfimages(path: Path) -> list[dict[str, str]]:
    lines = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True).stdout.decode()
    rows = [line.split() for line in lines.splitlines()[2:]]
    keys = ("page", "num", "type", "width", "height", "color", "comp", "bpc", "enc")
    return [dict(zip(keys, row, strict=False)) for row in rows]


def test_unreadable_photo_is_a_clear_error(qr_text: str, tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"nope")
    for ref in (PhotoRef.file(photo), PhotoRef.file(tmp_path / "gone.jpg")):
        with pytest.raises(PdfError) as caught:
            render_certificate_pdf(replace(VIEW, photo=ref), qr_text)
        assert caught.value.code == "photo_unreadable"


def test_character_the_font_lacks_is_refused_not_printed_blank(qr_text: str) -> None:
    with pytest.raises(PdfError) as caught:
        render_certificate_pdf(replace(VIEW, holder_name="张\U00030000"), qr_text)
    assert caught.value.code == "name_glyph_missing" and "U+30000" in caught.value.message_en


def test_batch_has_one_page_per_certificate(qr_text: str, tmp_path: Path) -> None:
    views = [replace(VIEW, certificate_number=f"Y000011000001263{n:06d}") for n in (1, 2, 3)]
    path = tmp_path / "batch.pdf"
    path.write_bytes(render_batch_pdf([(v, qr_text) for v in views]))
    assert len(PdfReader(path).pages) == 3
    assert "Y000011000001263000002" in pdftotext(path, 2)
    with pytest.raises(PdfError):
        render_batch_pdf([])


def test_footer_has_the_national_query_addresses() -> None:
    assert QUERY_FOOTER == "证书查询 http://jndj.osta.org.cn　机构查询 http://pjjg.osta.org.cn"


@pytest.fixture
def no_font_cache() -> Iterator[None]:
    fonts.cjk_font.cache_clear()
    yield
    fonts.cjk_font.cache_clear()


def test_missing_font_names_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_font_cache: None
) -> None:
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "none.ttc"))
    with pytest.raises(fonts.FontMissingError) as caught:
        fonts.cjk_font_path()
    assert caught.value.code == "font_missing"
    assert "fonts-noto-cjk" in caught.value.message_zh and "fonts-noto-cjk" in caught.value.message_en


def test_installed_font_is_the_simplified_chinese_face(no_font_cache: None) -> None:
    face = fonts.cjk_font()
    assert face.path == fonts.cjk_font_path() and face.path.is_file()
    assert (
        TTFont(str(face.path), fontNumber=face.index, lazy=True)["name"].getDebugName(4) == "Noto Sans CJK SC"
    )
    assert fonts.font_has_glyphs("职业技能等级证书 张𠮷 买买提·艾力 José")
    assert fonts.missing_glyphs("张\U00030000\U00030000\ue000") == "\U00030000\ue000"
