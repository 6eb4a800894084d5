"""Reading QR text out of uploads (`verifier.images`): real photos' defects, hostile files.

The pictures are generated here from a real credential's QR code; the hostile files are named after
the attack they are.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import pytest
from PIL import Image, ImageFilter
from verifier_fixtures import decompression_bomb_png, nested_forms_pdf, png_declaring

from common.qrimage import read_texts, render_image
from verifier.images import ImageError, ImageKind, ImageLimits, Position, decode_upload, read_codes, sniff
from verifier.pdf_pages import PdfLimits

TEXT = "SP2:" + "6BFOXN*TS0BI$ZD.P9" * 8  # any QR text will do for the reader; the engine is not involved


def _encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _qr(scale: int = 6) -> Image.Image:
    return render_image(TEXT, scale=scale).convert("RGB")


def _on_a4_page() -> Image.Image:
    """A 150 dpi A4 page, the QR code about 2.5 cm wide in the lower right corner, like a certificate."""
    page = Image.new("RGB", (1240, 1754), "white")
    qr = render_image(TEXT, scale=3).convert("RGB")
    page.paste(qr, (1240 - qr.width - 80, 1754 - qr.height - 80))
    return page


PHOTOS: dict[str, Callable[[], bytes]] = {
    "scaled_half": lambda: _encoded(_qr().resize((_qr().width // 2, _qr().height // 2))),
    "rotated_10": lambda: _encoded(_qr().rotate(10, expand=True, fillcolor="white")),
    "rotated_90": lambda: _encoded(_qr().rotate(90, expand=True)),
    "blurred": lambda: _encoded(_qr().filter(ImageFilter.GaussianBlur(1))),
    "jpeg_quality_30": lambda: _encoded(_qr(), "JPEG", quality=30),
    "webp": lambda: _encoded(_qr(), "WEBP", quality=60),
    "small_on_a4_page": lambda: _encoded(_on_a4_page()),
}


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_reads_qr_from_imperfect_pictures(photo: str) -> None:
    assert decode_upload(PHOTOS[photo]()) == TEXT


def _noisy_large_photo() -> Image.Image:
    """A 1140 px code under heavy (seeded) sensor noise: too grainy for the reader at full size."""
    qr = _qr(20).convert("L")
    noise = Image.frombytes("L", qr.size, random.Random(2).randbytes(qr.width * qr.height))
    return Image.blend(qr, noise, 0.62)


def test_noisy_large_photo_is_read_on_the_downscaled_retry() -> None:
    photo = _noisy_large_photo()
    assert read_texts(photo) == []  # the first pass alone fails: the retry is what reads it
    assert decode_upload(_encoded(photo)) == TEXT


def test_prefers_skillpass_text_over_another_qr_code() -> None:
    page = Image.new("RGB", (900, 450), "white")
    page.paste(render_image("https://example.org/", scale=6).convert("RGB"), (10, 10))
    page.paste(_qr(4), (440, 10))
    assert decode_upload(_encoded(page)) == TEXT


def test_foreign_qr_text_is_returned_for_the_engine_to_reject() -> None:
    assert decode_upload(_encoded(render_image("hello", scale=6))) == "hello"


def test_pdf_first_page_is_rendered_and_read() -> None:
    pdf = _encoded(_on_a4_page(), "PDF", resolution=150.0)
    assert sniff(pdf) is ImageKind.PDF
    assert decode_upload(pdf) == TEXT


def test_type_comes_from_magic_bytes() -> None:
    assert sniff(_encoded(_qr(), "JPEG")) is ImageKind.JPEG
    assert sniff(_encoded(_qr(), "WEBP")) is ImageKind.WEBP
    assert sniff(_encoded(_qr())) is ImageKind.PNG
    with pytest.raises(ImageError) as caught:
        sniff(_encoded(_qr(), "GIF"))
    assert caught.value.code == "image_unsupported"


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty_file": (lambda: b"", "image_empty"),
    "text_file_named_png": (lambda: b"this is not a picture\n" * 10, "image_unsupported"),
    "decompression_bomb_png": (decompression_bomb_png, "image_too_large"),
    "huge_declared_dimensions": (lambda: png_declaring(1_000_000, 1_000_000), "image_too_large"),
    "wide_strip_over_side_limit": (lambda: png_declaring(50_000, 10), "image_too_large"),
    "zero_dimensions": (lambda: png_declaring(0, 0), "image_corrupt"),
    "truncated_png": (lambda: _encoded(_qr())[:200], "image_corrupt"),
    "png_magic_then_garbage": (lambda: b"\x89PNG\r\n\x1a\n" + b"\xff" * 500, "image_corrupt"),
    "garbage_pdf": (lambda: b"%PDF-1.7\n" + b"\x00garbage" * 100, "pdf_unreadable"),
    "blank_picture": (lambda: _encoded(Image.new("RGB", (300, 300), "white")), "qr_not_found"),
    "png_40_megapixel_16_bit_rgb": (
        lambda: png_declaring(7000, 5700, bit_depth=16, colour_type=2),
        "image_too_large",
    ),
    "png_36_megapixel_16_bit_grey": (lambda: png_declaring(6000, 6000, bit_depth=16), "image_too_large"),
    "over_byte_limit": (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024), "upload_too_large"),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_uploads_are_refused_with_a_code(attack: str) -> None:
    make, code = HOSTILE[attack]
    with pytest.raises(ImageError) as caught:
        decode_upload(make())
    assert caught.value.code == code
    assert 400 <= caught.value.status < 500
    assert caught.value.message_zh and caught.value.message_en


def test_pdf_rendering_is_bounded_in_time() -> None:
    slow = ImageLimits(pdf=PdfLimits(wall_seconds=0.000_001))
    with pytest.raises(ImageError) as caught:
        decode_upload(_encoded(_on_a4_page(), "PDF"), slow)
    assert caught.value.code == "page_too_complex"


def test_pixel_budget_counts_the_bit_depth_before_decoding() -> None:
    """The same 36 MP pass the budget at 8-bit grey (and only then fails on its one byte of pixels)."""
    with pytest.raises(ImageError) as caught:
        decode_upload(png_declaring(6000, 6000, bit_depth=8))
    assert caught.value.code == "image_corrupt"


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    """Dark modules at 40 % of full scale: clipping 16 bits into 8 would make the whole code white."""
    deep = _qr().convert("I").point(lambda value: 26_000 + value * 154).convert("I;16")
    assert deep.getextrema() == (26_000, 65_270)
    assert decode_upload(_encoded(deep)) == TEXT


def test_nested_form_drawings_pdf_is_stopped_by_the_page_cpu_limit() -> None:
    quick = ImageLimits(pdf=PdfLimits(cpu_seconds=1, wall_seconds=60.0))
    with pytest.raises(ImageError) as caught:
        decode_upload(nested_forms_pdf(), quick)
    assert caught.value.code == "page_too_complex"
    assert caught.value.status == 422


def _page_with(*placed: tuple[str, int, int]) -> Image.Image:
    page = Image.new("RGB", (1240, 1754), "white")
    for text, left, top in placed:
        page.paste(render_image(text, scale=4).convert("RGB"), (left, top))
    return page


def _pdf(*pages: Image.Image) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=150.0, save_all=True, append_images=list(pages[1:]))
    return out.getvalue()


def test_every_code_on_every_pdf_page_with_page_and_position() -> None:
    first, second, third = TEXT + "A", TEXT + "B", "https://example.org/"
    pdf = _pdf(_page_with((first, 100, 1200)), _page_with(), _page_with((third, 700, 900), (second, 80, 100)))
    decoded = read_codes(pdf)
    assert decoded.kind is ImageKind.PDF and decoded.pages == 3
    assert [(code.page, code.text) for code in decoded.codes] == [(1, first), (3, second), (3, third)]
    assert decoded.pages_without_code == (2,)
    quiet_zone = 4 * 4
    expected = [(100, 1200), (80, 100), (700, 900)]
    for code, (left, top) in zip(decoded.codes, expected, strict=True):
        assert abs(code.position.left - (left + quiet_zone)) <= 3
        assert abs(code.position.top - (top + quiet_zone)) <= 3
        assert abs(code.position.width - (render_image(code.text, scale=4).width - 2 * quiet_zone)) <= 3
    assert decoded.codes[0].to_json()["position"] == {
        "left": decoded.codes[0].position.left,
        "top": decoded.codes[0].position.top,
        "width": decoded.codes[0].position.width,
        "height": decoded.codes[0].position.height,
    }


def test_every_code_in_one_picture_in_reading_order() -> None:
    texts = [f"{TEXT}{i}" for i in range(4)]
    picture = _page_with((texts[3], 700, 900), (texts[0], 60, 60), (texts[2], 60, 900), (texts[1], 700, 60))
    decoded = read_codes(_encoded(picture))
    assert decoded.pages == 1 and decoded.pages_without_code == ()
    assert [code.text for code in decoded.codes] == texts
    assert all(code.page == 1 and isinstance(code.position, Position) for code in decoded.codes)


def test_first_page_only_reads_one_page() -> None:
    pdf = _pdf(_page_with(), _page_with((TEXT, 100, 100)))
    assert read_codes(pdf, first_page_only=True).codes == ()
    with pytest.raises(ImageError) as caught:
        decode_upload(pdf)
    assert caught.value.code == "qr_not_found"


def test_pdf_over_the_page_limit_is_refused_whole() -> None:
    pdf = _pdf(_page_with((TEXT, 100, 100)), _page_with(), _page_with())
    with pytest.raises(ImageError) as caught:
        read_codes(pdf, ImageLimits(max_pages=2))
    assert (caught.value.code, caught.value.status) == ("pdf_too_many_pages", 413)
    assert read_codes(pdf, ImageLimits(max_pages=3)).pages == 3
