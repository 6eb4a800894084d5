"""QR images of credential text: PNG and SVG at error correction Q with the quiet zone, and reading
QR codes back from pictures. zxing-cpp does both (about 1 ms to write one code, against 12–18 ms
for the pure-Python ``qrcode``; see docs/decisions.md)."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import cast

import zxingcpp
from PIL import Image
from typing_extensions import Buffer

ERROR_CORRECTION = "Q"
_QUIET_ZONE_MODULES = 4


class QrImageError(Exception):
    """Text that cannot be drawn as a QR code."""


def render_image(text: str, *, scale: int = 8) -> Image.Image:
    """A black-on-white QR code at level Q, each module ``scale`` pixels, quiet zone included."""
    barcode = _barcode(text)
    bitmap = barcode.to_image(scale=scale, add_quiet_zones=True)
    height, width = bitmap.shape
    pixels = bytes(memoryview(cast(Buffer, bitmap)))
    return Image.frombuffer("L", (width, height), pixels, "raw", "L", 0, 1)


def render_png(text: str, *, scale: int = 8) -> bytes:
    """The QR code as PNG bytes: one bit per pixel, half the size and half the time of 8-bit grey."""
    modules = render_image(text, scale=1).convert("1")
    image = modules.resize((modules.width * scale, modules.height * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def render_svg(text: str) -> str:
    """The QR code as an SVG document (scalable, for print layouts): one path of unit-high rectangles, one per
    horizontal run of dark modules, inside a white quiet zone (written here: zxing's own SVG costs more than
    encoding the code)."""
    rows = qr_matrix(text)
    size = len(rows) + 2 * _QUIET_ZONE_MODULES
    runs = []
    for r, row in enumerate(rows):
        start = row.find(1)
        while start != -1:
            end = row.find(0, start)
            end = len(row) if end == -1 else end
            runs.append(
                f"M{start + _QUIET_ZONE_MODULES} {r + _QUIET_ZONE_MODULES}h{end - start}v1h-{end - start}z"
            )
            start = row.find(1, end)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>\n'
    )


def qr_matrix(text: str) -> list[bytes]:
    """The code's modules at level Q without the quiet zone, one ``bytes`` per row: 1 dark, 0 light (for
    drawing the code as vector shapes)."""
    bitmap = _barcode(text).to_image(scale=1, add_quiet_zones=False)
    height, width = bitmap.shape
    pixels = bytes(memoryview(cast(Buffer, bitmap)))
    dark = bytes.maketrans(bytes(range(256)), b"\x01" * 128 + b"\x00" * 128)
    return [pixels[r * width : (r + 1) * width].translate(dark) for r in range(height)]


def qr_version(text: str) -> int:
    """The QR version (1–40) the text needs at level Q."""
    modules: int = _barcode(text).to_image(scale=1, add_quiet_zones=False).shape[0]
    return (modules - 17) // 4


@dataclass(frozen=True)
class ReadCode:
    """One QR code read from a picture: its text and its bounding box in the picture's pixels."""

    text: str
    left: int
    top: int
    right: int
    bottom: int


def read_codes(image: Image.Image) -> list[ReadCode]:
    """Every QR code found in a picture, with where it is (may be empty)."""
    results = zxingcpp.read_barcodes(
        image.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [_read_code(result) for result in results if result.valid]


def read_texts(image: Image.Image) -> list[str]:
    """Every QR code's text found in a picture (may be empty)."""
    return [code.text for code in read_codes(image)]


def _read_code(result: zxingcpp.Barcode) -> ReadCode:
    corners = result.position
    points = (corners.top_left, corners.top_right, corners.bottom_right, corners.bottom_left)
    xs, ys = [point.x for point in points], [point.y for point in points]
    return ReadCode(result.text, min(xs), min(ys), max(xs), max(ys))


@functools.lru_cache(maxsize=16)
def _barcode(text: str) -> zxingcpp.Barcode:
    """The encoded symbol; cached, since one certificate's PNG, SVG and PDF all draw the same text."""
    try:
        return zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION)
    except (ValueError, RuntimeError) as e:
        raise QrImageError(f"cannot encode this text as a QR code: {e}") from e
