"""QR images of credential text: PNG and SVG at error correction Q with the quiet zone, and reading
QR codes back from pictures. zxing-cpp does both (about 1 ms to write one code, against 12–18 ms
for the pure-Python ``qrcode``; see docs/decisions.md)."""

from __future__ import annotations

import functools
import operator
import re
import struct
import zlib
from dataclasses import dataclass
from typing import cast

import zxingcpp
from PIL import Image
from typing_extensions import Buffer

ERROR_CORRECTION = "Q"
_QUIET_ZONE_MODULES = 4
_DARK = bytes.maketrans(bytes(range(256)), b"\x01" * 128 + b"\x00" * 128)
_LIGHT_AS_ONE = bytes.maketrans(b"\x00\x01", b"10")  # PNG one-bit grey: 1 is white
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_LEVEL = 6


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
    """The QR code as a one-bit greyscale PNG, quiet zone included, written here from the module matrix (a
    fraction of Pillow's time for the same pixels): each row of modules becomes one pixel row by table
    look-up, and the ``scale - 1`` pixel rows repeating it use the PNG "Up" filter (all zeros), which
    deflate's run-length strategy packs at once."""
    matrix = qr_matrix(text)
    side = len(matrix) + 2 * _QUIET_ZONE_MODULES
    row_bytes = (side * scale + 7) // 8
    quiet, light = b"1" * _QUIET_ZONE_MODULES, [b"1" * side] * _QUIET_ZONE_MODULES
    pad = b"1" * (-side % 8)  # light modules past the edge so that rows are whole bytes; trimmed below
    spread = _spread(scale)
    same = (b"\x02" + bytes(row_bytes)) * (scale - 1)  # filter "Up": equal to the pixel row above
    lines = []
    for row in light + [quiet + r.translate(_LIGHT_AS_ONE) + quiet for r in matrix] + light:
        packed = int(row + pad, 2).to_bytes((side + len(pad)) // 8, "big")
        lines.append(b"\x00" + b"".join(map(spread.__getitem__, packed))[:row_bytes] + same)
    deflate = zlib.compressobj(_PNG_LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_RLE)
    data = deflate.compress(b"".join(lines)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side * scale, side * scale, 1, 0, 0, 0, 0)  # 1-bit grey, no interlace
    return _PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


@functools.cache
def _spread(scale: int) -> tuple[bytes, ...]:
    """For each byte of eight pixels, the ``scale`` bytes with every bit repeated ``scale`` times."""
    return tuple(
        int("".join(bit * scale for bit in f"{v:08b}"), 2).to_bytes(scale, "big") for v in range(256)
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_svg(text: str) -> str:
    """The QR code as an SVG document (scalable, for print layouts): one path of unit-high rectangles, one per
    horizontal run of dark modules within each four-module chunk of a row (``dark_runs``), inside a white
    quiet zone (written here: zxing's own SVG costs more than encoding the code)."""
    size = len(qr_matrix(text)) + 2 * _QUIET_ZONE_MODULES
    path = dark_runs(text, "M{x} {y}h{w}v1h-{w}z", _QUIET_ZONE_MODULES)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )


def dark_runs(text: str, template: str, offset: int = 0) -> str:
    """The code's dark modules as drawing commands, for vector shapes (the SVG file, the PDF's rectangles):
    ``template`` formatted with ``x``, ``y`` (module column and row, plus ``offset``) and ``w`` (the run's
    width in modules) for each horizontal run of dark modules, a run cut where a row's four-module chunks
    meet (the shapes' union is the same).

    Why chunks: a code of version 10 has some 800 runs, and finding them one by one in Python costs more
    than encoding the code. Here every step runs in C: each row of modules, padded to whole chunks, becomes
    one binary numeral, read as an integer and written in hexadecimal, so each hex digit is one chunk's
    pattern; a table, built once per code size and template, holds the commands of each of the 16 patterns
    at each chunk's place, and they are joined by one ``map``.
    """
    matrix = qr_matrix(text)
    table = _chunk_commands(len(matrix), template, offset)
    pad = b"\x00" * (-len(matrix) % _CHUNK)
    digits = (pad.join(matrix) + pad).translate(_AS_BINARY_DIGIT)
    patterns = f"{int(digits, 2):0{len(digits) // _CHUNK}x}".encode("ascii").translate(_HEX_VALUE)
    return "".join(map(operator.getitem, table, patterns))


_CHUNK = 4
_AS_BINARY_DIGIT = bytes.maketrans(b"\x00\x01", b"01")
_HEX_VALUE = bytes.maketrans(b"0123456789abcdef", bytes(range(16)))


@functools.lru_cache(maxsize=8)
def _chunk_commands(side: int, template: str, offset: int) -> tuple[tuple[str, ...], ...]:
    """For each four-module chunk of a code ``side`` modules wide (row by row), the commands drawing each
    of its 16 patterns (the chunk's leftmost module is the pattern's highest bit)."""
    per_row = -(-side // _CHUNK)
    patterns = [[(m.start(), m.end() - m.start()) for m in re.finditer("1+", f"{p:04b}")] for p in range(16)]
    return tuple(
        tuple(
            "".join(template.format(x=offset + c * _CHUNK + start, y=offset + y, w=w) for start, w in runs)
            for runs in patterns
        )
        for y in range(side)
        for c in range(per_row)
    )


@functools.lru_cache(maxsize=16)
def qr_matrix(text: str) -> tuple[bytes, ...]:
    """The code's modules at level Q without the quiet zone, one ``bytes`` per row: 1 dark, 0 light (for
    drawing the code as vector shapes or pixels); cached with the symbol it comes from."""
    bitmap = _barcode(text).to_image(scale=1, add_quiet_zones=False)
    height, width = bitmap.shape
    pixels = bytes(memoryview(cast(Buffer, bitmap)))
    return tuple(pixels[r * width : (r + 1) * width].translate(_DARK) for r in range(height))


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
