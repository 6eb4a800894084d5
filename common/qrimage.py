"""QR images of credential text: PNG and SVG at error correction Q with the quiet zone, and reading
QR codes back from pictures. zxing-cpp does both (about 1 ms to write one code, against 12–18 ms
for the pure-Python ``qrcode``; see docs/decisions.md)."""

from __future__ import annotations

import functools
import itertools
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
_LIGHT_AS_ONE = bytes.maketrans(b"\x00\x01", b"10")  # PNG one-bit grey: 1 is white
_MODULE_AS_BYTE = bytes.maketrans(b"\x00\x01", b"\xff\x00")  # eight pixels of one module
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
    same = (b"\x02" + bytes(row_bytes)) * (scale - 1)  # filter "Up": equal to the pixel row above
    rows = _whole_byte_rows(matrix) if scale == 8 else _packed_rows(matrix, side, scale, row_bytes)
    deflate = zlib.compressobj(_PNG_LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_RLE)
    # Each row behind filter "None" and followed by its repeats: one join with those between the rows.
    data = deflate.compress(b"".join((b"\x00", (same + b"\x00").join(rows), same))) + deflate.flush()
    header = struct.pack(">IIBBBBB", side * scale, side * scale, 1, 0, 0, 0, 0)  # 1-bit grey, no interlace
    return _PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def _whole_byte_rows(matrix: tuple[bytes, ...]) -> list[bytes]:
    """Pixel rows at 8 pixels a module (the size the certificates' PNGs are written at): each module is one
    whole byte, so a row is one ``translate`` (a quarter of the bit-packing path's time)."""
    quiet = b"\xff" * _QUIET_ZONE_MODULES
    light = [b"\xff" * (len(matrix) + 2 * _QUIET_ZONE_MODULES)] * _QUIET_ZONE_MODULES
    return light + [quiet + row.translate(_MODULE_AS_BYTE) + quiet for row in matrix] + light


def _packed_rows(matrix: tuple[bytes, ...], side: int, scale: int, row_bytes: int) -> list[bytes]:
    """Pixel rows at any scale: each row of modules as binary digits, read as one integer, its bytes spread
    ``scale`` times by table look-up."""
    quiet, light = b"1" * _QUIET_ZONE_MODULES, [b"1" * side] * _QUIET_ZONE_MODULES
    pad = b"1" * (-side % 8)  # light modules past the edge so that rows are whole bytes; trimmed below
    spread = _spread(scale)
    return [
        b"".join(map(spread.__getitem__, int(row + pad, 2).to_bytes((side + len(pad)) // 8, "big")))[
            :row_bytes
        ]
        for row in light + [quiet + r.translate(_LIGHT_AS_ONE) + quiet for r in matrix] + light
    ]


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
    than encoding the code. Here every step runs in C: each row of modules, padded to whole chunks and one
    more, becomes one binary numeral, read as an integer and written in hexadecimal, so each hex digit is one
    chunk's pattern; a table holds the commands of each of the 16 patterns at each chunk's column, with the
    row left as a placeholder, and the extra chunk ends the row. One ``map`` joins the commands, the rows are
    split apart and each gets its number. The table is one row's (a few hundred strings, not one per chunk
    of the code: that table's megabyte fell out of the processor's caches between certificates, and joining
    from it cost ten times its work, 0.4 ms).
    """
    matrix = qr_matrix(text)
    columns, rows = _chunk_commands(len(matrix), template, offset)
    pad = b"\x00" * (-len(matrix) % _CHUNK + _CHUNK)
    digits = (pad.join(matrix) + pad).translate(_AS_BINARY_DIGIT)
    patterns = f"{int(digits, 2):0{len(digits) // _CHUNK}x}".encode("ascii").translate(_HEX_VALUE)
    joined = "".join(map(operator.getitem, itertools.cycle(columns), patterns))
    return "".join(map(str.replace, joined.split(_ROW_END), itertools.repeat(_ROW), rows))


_CHUNK = 4
_AS_BINARY_DIGIT = bytes.maketrans(b"\x00\x01", b"01")
_HEX_VALUE = bytes.maketrans(b"0123456789abcdef", bytes(range(16)))
_ROW = "\x00"  # where a command's row number goes, until its row is known
_ROW_END = "\x01"  # the commands of the chunk past each row's end (all light): the row ends there


@functools.lru_cache(maxsize=8)
def _chunk_commands(
    side: int, template: str, offset: int
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """For each four-module chunk of a row of a code ``side`` modules wide, the commands drawing each of its
    16 patterns (the chunk's leftmost module is the pattern's highest bit) with the row as ``_ROW``, then the
    row's end; and each row's number as written."""
    patterns = [[(m.start(), m.end() - m.start()) for m in re.finditer("1+", f"{p:04b}")] for p in range(16)]
    columns = tuple(
        tuple(
            "".join(template.format(x=offset + c * _CHUNK + start, y=_ROW, w=w) for start, w in runs)
            for runs in patterns
        )
        for c in range(-(-side // _CHUNK))
    )
    return (*columns, (_ROW_END,) * 16), tuple(str(offset + y) for y in range(side))


@functools.lru_cache(maxsize=16)
def qr_matrix(text: str) -> tuple[bytes, ...]:
    """The code's modules at level Q without the quiet zone, one ``bytes`` per row: 1 dark, 0 light (for
    drawing the code as vector shapes or pixels); cached, since one certificate's PNG, SVG and PDF all draw it.

    The same symbol as zxing-cpp's own (``render_image``), made in a third of its time. Its encoder (zint)
    spends four fifths of a code on choosing the data mask: it draws the symbol under each of the eight masks
    and scores each by the standard's four penalty rules, one module at a time. Here the symbol is encoded
    once with mask 0; the symbol under mask m differs from it by a pattern that depends only on the code's
    size (the mask over the data area, and the format bits naming the mask), found once per size; and the
    penalties are scored a whole symbol at a time with integer bit operations (``_penalty``). The lowest
    score wins, the lowest mask on a tie, as zint decides (a test holds the two to the same symbol).
    """
    pixels, side = _symbol(text, 0)
    plain = _as_lines(pixels, side)
    lines, modules = _mask_differences(text, side)
    scores = [_penalty(plain ^ difference, side) for difference in lines]
    mask = scores.index(min(scores))
    chosen = (int.from_bytes(pixels.translate(_DARK_AS_ONE), "big") ^ modules[mask]).to_bytes(
        side * side, "big"
    )
    return tuple(chosen[row * side : (row + 1) * side] for row in range(side))


def _mask_differences(text: str, side: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How the symbol under each mask differs from it under mask 0, found once per size from ``text``'s
    symbols: in ``_as_lines``'s layout (for the penalties) and one byte a module, row after row, as one
    integer (for the chosen symbol's rows: exclusive or of two integers, a third of the time of writing the
    chosen lines out in binary digits)."""
    found = _MASK_DIFFERENCES.get(side)
    if found is None:
        symbols = [_symbol(text, mask)[0] for mask in range(8)]
        lines = tuple(_as_lines(symbols[0], side) ^ _as_lines(symbol, side) for symbol in symbols)
        plain = int.from_bytes(symbols[0].translate(_DARK_AS_ONE), "big")
        modules = tuple(plain ^ int.from_bytes(symbol.translate(_DARK_AS_ONE), "big") for symbol in symbols)
        found = _MASK_DIFFERENCES[side] = (lines, modules)
    return found


#: Light modules around each line of ``_as_lines``: enough for the finder-like pattern's four light modules
#: beyond the symbol's edge (the edge counts as light) and to keep neighbouring lines apart.
_PAD = 4
_AS_DARK_DIGIT = bytes.maketrans(bytes(range(256)), b"1" * 128 + b"0" * 128)
_DARK_AS_ONE = bytes.maketrans(bytes(range(256)), b"\x01" * 128 + b"\x00" * 128)
_MASK_DIFFERENCES: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}


def _symbol(text: str, mask: int) -> tuple[bytes, int]:
    """The symbol under ``mask``, one byte a module (0 dark, 255 light), and its side in modules."""
    bitmap = _encoded(text, data_mask=mask).to_image(scale=1, add_quiet_zones=False)
    return bytes(memoryview(cast(Buffer, bitmap))), bitmap.shape[0]


def _as_lines(pixels: bytes, side: int) -> int:
    """The symbol's rows and then its columns, each between ``_PAD`` light modules, as the binary digits of
    one integer (1 dark): the penalty rules for rows and for columns are then the same operations."""
    digits = pixels.translate(_AS_DARK_DIGIT)
    rows = [digits[r * side : (r + 1) * side] for r in range(side)]
    columns = [digits[c::side] for c in range(side)]
    pad = b"0" * _PAD
    return int(pad + (pad + pad).join(rows + columns) + pad, 2)


@functools.lru_cache(maxsize=8)
def _penalty_masks(side: int) -> tuple[int, int, int]:
    """Where, in ``_as_lines``'s layout, a run of five, a finder-like pattern of seven and a 2 x 2 block
    may start (a block within the rows' half only; each line read in either direction, the rules being
    symmetric)."""
    width = side + 2 * _PAD

    def starts(length: int, lines: int) -> int:
        line = ((1 << (side - length + 1)) - 1) << _PAD
        return sum(line << (width * n) for n in range(lines))

    return starts(5, 2 * side), starts(7, 2 * side), starts(2, side - 1) << (width * side)


def _penalty(lines: int, side: int) -> int:
    """The standard's mask penalty (ISO/IEC 18004 7.8.3) of a symbol in ``_as_lines``'s layout, as zint
    scores it: N1 for each run of five or more same-coloured modules in a row or column (plus one per module
    beyond five), N2 for each 2 x 2 block of one colour, N3 for each dark-light-dark-dark-dark-light-dark
    pattern with four light modules before or after it, N4 for each 5 % the dark share strays from half.
    Each rule is a few shifts and masks of the whole symbol; "no module differs over a stretch" is written
    as a mask with the differing places taken out, avoiding Python's slower negative integers."""
    runs_of_five, finder_like, blocks = _penalty_masks(side)
    a = lines
    a1 = a >> 1  # each module's neighbour, shifted once for the three rules that look at it
    differ = a ^ a1  # a module and the next one in its line differ
    change2 = differ | (differ >> 1)
    changes4 = change2 | (change2 >> 2)  # a change among four neighbouring pairs, i.e. five modules
    five = runs_of_five ^ (runs_of_five & changes4)
    score = five.bit_count() + 2 * (five ^ (five & (five << 1))).bit_count()  # a run of n: n - 4 windows, + 2
    pattern = a & (a >> 2) & (a >> 3) & (a >> 4) & (a >> 6) & finder_like
    if pattern:
        pattern ^= pattern & (a1 | (a >> 5))
        dark2 = a | a1
        dark4 = dark2 | (dark2 >> 2)  # some dark module among four
        score += 40 * (pattern ^ (pattern & (dark4 << 4) & (dark4 >> 7))).bit_count()
    width = side + 2 * _PAD
    unlike = differ | (differ >> width) | (a ^ (a >> width))  # any two of a 2 x 2 block differ
    score += 3 * (blocks ^ (blocks & unlike)).bit_count()
    dark = a.bit_count() // 2  # every module is in the rows' half and in the columns' half
    return score + 10 * int(abs(100.0 * dark / (side * side) - 50.0) / 5.0)


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
    """zxing-cpp's own symbol, its mask chosen by zint (``render_image``, ``qr_version``); cached."""
    return _encoded(text)


def _encoded(text: str, **options: int) -> zxingcpp.Barcode:
    """``text`` as a QR code at level Q (``options``: zxing-cpp's, e.g. ``data_mask``)."""
    try:
        return zxingcpp.create_barcode(
            text, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION, **options
        )
    except (ValueError, RuntimeError) as e:
        raise QrImageError(f"cannot encode this text as a QR code: {e}") from e
