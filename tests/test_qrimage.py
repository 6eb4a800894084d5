"""QR images at error correction Q are read back by zxing-cpp to exactly the text written."""

from __future__ import annotations

import io
import re

import qrcode
import qrcode.util
from credential_fixtures import typical_claims
from PIL import Image

from common import qrimage
from credential import encode
from keys import Signer


def test_png_reads_back_to_the_same_text() -> None:
    text = encode(typical_claims(), Signer.generate())
    image = Image.open(io.BytesIO(qrimage.render_png(text)))
    assert image.format == "PNG"
    assert qrimage.read_texts(image) == [text]


def test_quiet_zone_is_white() -> None:
    image = qrimage.render_image("SP2:ABC", scale=4)
    width, _ = image.size
    border = [image.getpixel((x, y)) for x in range(width) for y in range(16)]
    assert set(border) == {255}
    assert image.getpixel((16, 16)) == 0  # the finder pattern starts right after 4 modules


def test_svg_is_a_document_with_modules() -> None:
    svg = qrimage.render_svg("SP2:ABC")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<path" in svg


def test_svg_and_vector_matrix_draw_exactly_the_modules_of_the_png() -> None:
    text = encode(typical_claims(), Signer.generate())
    pixels = qrimage.render_image(text, scale=1)  # quiet zone of 4 modules included
    size = pixels.width
    svg = qrimage.render_svg(text)
    assert f'viewBox="0 0 {size} {size}"' in svg
    drawn = Image.new("L", (size, size), 255)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        drawn.paste(0, (int(x), int(y), int(x) + int(w), int(y) + 1))
    assert drawn.tobytes() == pixels.tobytes()
    matrix = qrimage.qr_matrix(text)
    inner = pixels.crop((4, 4, size - 4, size - 4)).tobytes()
    assert b"".join(matrix) == inner.translate(bytes.maketrans(b"\x00\xff", b"\x01\x00"))


def test_png_is_one_bit_and_reads_back() -> None:
    text = encode(typical_claims(), Signer.generate())
    image = Image.open(io.BytesIO(qrimage.render_png(text, scale=5)))
    assert image.mode == "1" and image.width == qrimage.render_image(text, scale=5).width
    assert qrimage.read_texts(image) == [text]


def test_png_has_exactly_the_pixels_of_the_image_at_every_scale() -> None:
    text = encode(typical_claims(), Signer.generate())
    for scale in (1, 3, 4, 5, 8):  # module rows that end inside a byte, and whole bytes
        png = Image.open(io.BytesIO(qrimage.render_png(text, scale=scale)))
        image = qrimage.render_image(text, scale=scale).convert("1")
        assert (png.mode, png.size) == ("1", image.size)
        assert png.tobytes() == image.tobytes(), scale


def test_error_correction_q_version_grows_with_text() -> None:
    assert qrimage.qr_version("SP2:" + "A" * 100) < qrimage.qr_version("SP2:" + "A" * 400)


def test_a_picture_without_a_code_reads_nothing() -> None:
    assert qrimage.read_texts(Image.new("L", (200, 200), 255)) == []


def _qrcode_version(segments: list[tuple[str, int]]) -> int:
    """The version the ``qrcode`` package (test extra) needs for exactly these segments at level Q."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    for text, mode in segments:
        code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=mode, check_data=False), optimize=0)
    code.make(fit=True)
    return int(code.version)


def test_url_form_is_written_in_mixed_segments() -> None:
    """zxing-cpp picks the segments itself: its symbol is as small as alphanumeric ``HTTPS://HOST/``,
    byte ``#``, alphanumeric payload built by hand with ``qrcode``, and smaller than one byte segment."""
    url = encode(typical_claims(), Signer.generate(), verifier_url="https://verify.skillpass.cn")
    head, payload = url.split("#")
    mixed = [
        (head, qrcode.util.MODE_ALPHA_NUM),
        ("#", qrcode.util.MODE_8BIT_BYTE),
        (payload, qrcode.util.MODE_ALPHA_NUM),
    ]
    assert qrimage.qr_version(url) == _qrcode_version(mixed)
    assert qrimage.qr_version(url) < _qrcode_version([(url, qrcode.util.MODE_8BIT_BYTE)])
    assert qrimage.read_texts(Image.open(io.BytesIO(qrimage.render_png(url)))) == [url]


def _runs_one_by_one(text: str, offset: int) -> list[tuple[int, int, int]]:
    """The dark runs of each row's four-module chunks, found module by module (slow, plainly right)."""
    matrix = qrimage.qr_matrix(text)
    runs = []
    for y, row in enumerate(matrix):
        for start in range(0, len(row), 4):
            for m in re.finditer(b"\x01+", row[start : start + 4]):
                runs.append((offset + start + m.start(), offset + y, m.end() - m.start()))
    return runs


def test_dark_runs_are_each_rows_chunk_runs_in_order_at_every_size() -> None:
    """``dark_runs`` joins one row's table for every row and splits the rows apart again: at every size and
    offset it gives exactly the runs found module by module, in order."""
    for text in ("SP2:ABC", "SP2:" + "7" * 60, "SP2:" + "Q" * 201, "x" * 300, "SP2:" + "Z" * 700):
        for offset in (0, 4, 11):
            drawn = qrimage.dark_runs(text, "{x},{y},{w};", offset)
            found = [tuple(int(v) for v in run.split(",")) for run in drawn.split(";")[:-1]]
            assert found == _runs_one_by_one(text, offset), (text, offset)
