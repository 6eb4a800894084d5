"""QR images at error correction Q are read back by zxing-cpp to exactly the text written."""

from __future__ import annotations

import io

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
    image = qrimage.render_image("SP1:ABC", scale=4)
    width, _ = image.size
    border = [image.getpixel((x, y)) for x in range(width) for y in range(16)]
    assert set(border) == {255}
    assert image.getpixel((16, 16)) == 0  # the finder pattern starts right after 4 modules


def test_svg_is_a_document_with_modules() -> None:
    svg = qrimage.render_svg("SP1:ABC")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<path" in svg


def test_error_correction_q_version_grows_with_text() -> None:
    assert qrimage.qr_version("SP1:" + "A" * 100) < qrimage.qr_version("SP1:" + "A" * 400)


def test_a_picture_without_a_code_reads_nothing() -> None:
    assert qrimage.read_texts(Image.new("L", (200, 200), 255)) == []
