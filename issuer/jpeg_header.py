"""A JPEG header reader for holders' photos: it vouches for a file with certainty, or defers to Pillow.

Pillow opens a JPEG in Python (a few dozen µs) and validation then decodes it at 1/8 scale to refuse a
truncated file, which costs more than the rest of a row's validation. Most photos are the same few shapes
(baseline or progressive, JFIF and/or EXIF, YCbCr or grey), so a small reader answers for those and hands
anything else to Pillow's path. It vouches for a file only when it has checked everything Pillow or libjpeg
would refuse it for: every segment before the first scan is one it knows and well formed (Pillow parses them
in Python); the tables, frame and scans pass libjpeg's own fatal checks (lengths, table indices, Huffman code
lengths, DC symbols, sampling factors, progression parameters, tables defined before use); EXIF's first IFD
lies wholly inside its segment; and the entropy-coded data runs to an EOI marker that is the file's last two
bytes. That last check is what stands for the decode: a file cut anywhere ends without EOI (inside scan data
a 0xFF byte is always followed by 0x00 or a restart marker), and a corrupt but complete scan is only a warning
to libjpeg, which Pillow does not refuse either. Everything else defers: CMYK, Adobe, MPF (Pillow opens it as
MPO), XMP (Pillow reads an orientation from it), a second SOF or EXIF, fill bytes between segments, bytes
after EOI, 12-bit or arithmetic coding, unusual sampling, DQT or APPn between progressive scans.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from PIL import Image

EXIF_ORIENTATION: Final = 0x0112  # the EXIF tag of the camera's rotation

_SOF0: Final = 0xC0
_SOF2: Final = 0xC2
_DHT: Final = 0xC4
_EOI: Final = 0xD9
_SOS: Final = 0xDA
_DQT: Final = 0xDB
_DRI: Final = 0xDD
_APP0: Final = 0xE0
_APP1: Final = 0xE1
_APP2: Final = 0xE2
_COM: Final = 0xFE
#: A marker inside entropy-coded data: 0xFF then neither a stuffed 0x00, a restart marker nor a fill byte.
_SCAN_MARKER: Final = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
#: Luma sampling factors (h << 4 | v) of 4:4:4, 4:4:0, 4:2:2 and 4:2:0; chroma is then 1x1.
_LUMA_SAMPLING: Final = frozenset({0x11, 0x12, 0x21, 0x22})
_HUFFMAN_INDICES: Final = frozenset({0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13})
_TIFF_ORDER: Final = {b"II*\0": "<", b"MM\0*": ">"}
#: Bytes per value of the TIFF types Pillow loads (it skips the others, which the reader defers on).
_TIFF_UNIT: Final = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
#: EXIF tags Pillow reads while opening a JPEG (orientation; resolution when JFIF gives none): type, count.
_TIFF_EXPECTED: Final = {EXIF_ORIENTATION: (3, 1), 0x011A: (5, 1), 0x011B: (5, 1), 0x0128: (3, 1)}


class _DeferError(Exception):
    """The header reader does not vouch for this file: Pillow's path decides."""


def _require(condition: object) -> None:
    if not condition:
        raise _DeferError


@dataclass(frozen=True)
class Jpeg:
    """What Pillow would report of a JPEG the header reader vouches for."""

    width: int
    height: int
    grey: bool
    orientation: int  # as ``_orientation`` reads it: the EXIF value, 1 when absent or 0


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    #: component id -> quantisation table
    quantisation: dict[int, int]
    progressive: bool


def read_jpeg(data: bytes, *, whole: bool) -> Jpeg | None:
    """The JPEG's facts when the reader vouches for its header (and, ``whole``, its scans through EOI)."""
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    try:
        return JpegReader(data).read(whole=whole)
    except (_DeferError, IndexError):
        return None


class JpegReader:
    """One walk over a JPEG's segments; ``_DeferError`` at the first thing it does not vouch for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.frame: _Frame | None = None
        self.quantisation: set[int] = set()
        self.huffman: set[int] = set()
        self.orientation: int | None = None
        self.scans = 0

    def read(self, *, whole: bool) -> Jpeg:
        """Segments through the first scan's header; then, ``whole``, every scan through EOI."""
        pos = self._segments(2, _BEFORE_SCANS)
        if whole:
            self._scans(pos)
        frame = self.frame
        assert frame is not None  # the first SOS needs one
        grey = len(frame.quantisation) == 1
        return Jpeg(frame.width, frame.height, grey, self.orientation or 1)

    def _segments(self, pos: int, handlers: dict[int, _Handler]) -> int:
        """Read segments from ``pos`` through the next SOS; where its scan data starts."""
        data = self.data
        while True:
            marker, length = data[pos + 1], data[pos + 2] << 8 | data[pos + 3]
            end = pos + 2 + length
            handler = handlers.get(marker)
            if data[pos] != 0xFF or handler is None or length < 2 or end > len(data):
                raise _DeferError
            handler(self, data[pos + 4 : end])
            pos = end
            if marker == _SOS:
                return pos

    def _scans(self, pos: int) -> None:
        """Walk the entropy-coded data from marker to marker; EOI must be the file's last two bytes."""
        data = self.data
        assert self.frame is not None
        while (found := _SCAN_MARKER.search(data, pos)) is not None:
            pos = found.start()
            if data[pos + 1] == _EOI:
                _require(pos + 2 == len(data))
                return
            _require(self.frame.progressive)
            pos = self._segments(pos, _BETWEEN_SCANS)
        raise _DeferError

    def _app0(self, body: bytes) -> None:
        _require(body.startswith(b"JFIF\0") and len(body) >= 14)  # Pillow reads version and density

    def _app1(self, body: bytes) -> None:
        _require(body.startswith(b"Exif\0\0") and self.orientation is None)  # Pillow joins a second one
        self.orientation = exif_orientation(body[6:]) or 0

    def _app2(self, body: bytes) -> None:
        _require(body.startswith(b"ICC_PROFILE\0") and len(body) >= 14)  # Pillow reads its chunk count

    def _comment(self, body: bytes) -> None:
        del body

    def _dqt(self, body: bytes) -> None:
        """8-bit tables 0-3 only (Pillow and libjpeg read the rest differently)."""
        _require(body and len(body) % 65 == 0 and self.scans == 0)
        indices = body[::65]
        _require(max(indices) < 4)
        self.quantisation.update(indices)

    def _dht(self, body: bytes) -> None:
        indices = _huffman_tables(body)
        _require(indices)
        self.huffman.update(indices)

    def _dri(self, body: bytes) -> None:
        _require(len(body) == 2)

    def _sof(self, body: bytes, *, progressive: bool) -> None:
        """One 8-bit frame of grey or three components, sampled as common cameras and encoders do."""
        _require(self.frame is None and len(body) >= 6)
        height, width, count = body[1] << 8 | body[2], body[3] << 8 | body[4], body[5]
        ids, sampling, tables = body[6::3], body[7::3], body[8::3]
        _require(
            body[0] == 8
            and len(body) == 6 + 3 * count
            and (
                sampling == b"\x11"
                or (count == 3 and sampling[0] in _LUMA_SAMPLING and sampling[1:] == b"\x11\x11")
            )
            and len(set(ids)) == count
            and 0 < width * height <= (Image.MAX_IMAGE_PIXELS or 0)
        )
        self.frame = _Frame(width, height, dict(zip(ids, tables, strict=True)), progressive)

    def _sof0(self, body: bytes) -> None:
        self._sof(body, progressive=False)

    def _sof2(self, body: bytes) -> None:
        self._sof(body, progressive=True)

    def _sos(self, body: bytes) -> None:
        """libjpeg's ``get_sos`` checks and those at the start of the scan's decoding."""
        frame = self.frame
        _require(frame and body)
        assert frame is not None
        count = body[0]
        ids, tables = body[1 : 1 + 2 * count : 2], body[2 : 2 + 2 * count : 2]
        _require(
            1 <= count <= 4
            and len(body) == 4 + 2 * count
            and len(set(ids)) == count
            and all(i in frame.quantisation for i in ids)
            # libjpeg latches each component's quantisation table at its first scan
            and (self.scans > 0 or self.quantisation.issuperset(frame.quantisation.values()))
        )
        start, end, approximation = body[-3], body[-2], body[-1]
        if frame.progressive:
            self._progressive_scan(count, tables, start, end, approximation)
        else:
            _require(
                self.scans == 0
                and count == len(frame.quantisation)
                and (start, end, approximation) == (0, 63, 0)
            )
            self._tables_defined(tables, dc=True, ac=True)
        self.scans += 1

    def _progressive_scan(self, count: int, tables: bytes, start: int, end: int, approximation: int) -> None:
        """libjpeg's ``start_pass_phuff_decoder``: the checks it stops on, and the tables it builds."""
        high, low = approximation >> 4, approximation & 15
        dc = start == 0
        _require(end == 0 if dc else start <= end <= 63 and count == 1)
        _require((high == 0 or low == high - 1) and low <= 13)
        self._tables_defined(tables, dc=dc and high == 0, ac=not dc)

    def _tables_defined(self, tables: bytes, *, dc: bool, ac: bool) -> None:
        for table in tables:
            _require((not dc or table >> 4 in self.huffman) and (not ac or 0x10 | table & 15 in self.huffman))
            _require(not ac or table & 15 < 4)


@functools.lru_cache(maxsize=64)
def _huffman_tables(body: bytes) -> frozenset[int]:
    """The Huffman tables a DHT segment defines when libjpeg's ``get_dht`` and ``jpeg_make_d_derived_tbl``
    accept each of them; empty when one fails. (Remembered: encoders and cameras use a few tables.)"""
    indices: set[int] = set()
    pos = 0
    while pos < len(body):
        index, counts = body[pos], body[pos + 1 : pos + 17]
        symbols = body[pos + 17 : pos + 17 + sum(counts)]
        if not (
            index in _HUFFMAN_INDICES
            and len(counts) == 16
            and symbols
            and len(symbols) == sum(counts)
            and _huffman_codes_fit(counts)
            and (index >= 0x10 or max(symbols) <= 15)  # a DC symbol is a bit count
        ):
            return frozenset()
        indices.add(index)
        pos += 17 + len(symbols)
    return frozenset(indices)


def _huffman_codes_fit(counts: bytes) -> bool:
    """libjpeg's test that the code lengths make a prefix code without the all-ones code."""
    code = 0
    for length, count in enumerate(counts, start=1):
        code += count
        if code >= 1 << length:
            return False
        code <<= 1
    return True


def exif_orientation(tiff: bytes) -> int | None:
    """The orientation Pillow reads from this EXIF (None when absent), when its first IFD is whole."""
    order = _TIFF_ORDER.get(tiff[:4])
    _require(order)
    assert order is not None
    (start,) = struct.unpack_from(order + "I", tiff, 4)
    _require(start >= 8 and start + 2 <= len(tiff))
    end = start + 2 + 12 * struct.unpack_from(order + "H", tiff, start)[0]
    _require(end + 4 <= len(tiff))  # Pillow reads the next IFD's offset too
    orientation, outside = None, 0
    for tag, kind, count, value in struct.iter_unpack(order + "HHI4s", tiff[start + 2 : end]):
        unit = _TIFF_UNIT.get(kind)
        _require(unit and _TIFF_EXPECTED.get(tag, (kind, count)) == (kind, count))
        assert unit is not None
        size = count * unit
        if size > 4:
            outside += size
            _require(struct.unpack(order + "I", value)[0] + size <= len(tiff) >= outside)
        elif tag == EXIF_ORIENTATION:
            _require(orientation is None)
            orientation = struct.unpack(order + "H", value[:2])[0]
    return orientation


_Handler = Callable[[JpegReader, bytes], None]
_BETWEEN_SCANS: Final[dict[int, _Handler]] = {
    _DHT: JpegReader._dht,
    _DRI: JpegReader._dri,
    _SOS: JpegReader._sos,
}
_BEFORE_SCANS: Final[dict[int, _Handler]] = {
    **_BETWEEN_SCANS,
    _APP0: JpegReader._app0,
    _APP1: JpegReader._app1,
    _APP2: JpegReader._app2,
    _COM: JpegReader._comment,
    _DQT: JpegReader._dqt,
    _SOF0: JpegReader._sof0,
    _SOF2: JpegReader._sof2,
}
