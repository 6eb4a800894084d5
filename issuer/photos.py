"""Holders' photos: where they come from (a folder or a ZIP beside the roster), what is accepted, and the
image that goes on the paper.

Accepted (the reference style's 1-inch colour ID photo, 25 x 35 mm): JPEG or PNG, at least 295 x 413 px
(1 inch at 300 dpi), at most 2 MiB, portrait (taller than wide, after the camera's EXIF rotation).

Privacy: a photo is read to validate and to render, and then forgotten. It is never sent to the registry
(``run._submitted_fields`` drops the column), never in the QR, and the journal keeps only its file name. The
PDF is the one place it is kept, because the PDF is the holder's certificate.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from common.errors import SkillpassError

MIN_SIZE: Final = (295, 413)
MAX_BYTES: Final = 2 * 1024 * 1024
FORMATS: Final = ("JPEG", "PNG")
#: The print image: ~360 dpi over the 25 x 35 mm frame; a JPEG this small or smaller is embedded as it is.
PRINT_SIZE: Final = (354, 496)
_PASS_THROUGH_BYTES: Final = 256 * 1024
_PASS_THROUGH_PIXELS: Final = (1200, 1680)
_ROTATED: Final = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION: Final = 0x0112


class PhotoError(SkillpassError):
    """A photo source that cannot be used at all (not a folder or a ZIP); per-row problems are ``problem``."""


@dataclass(frozen=True)
class PhotoSource:
    """A folder or a ZIP file of photos, named by the roster's photo column (a relative path inside it)."""

    path: Path

    def read(self, name: str) -> bytes | None:
        """The photo's bytes; None when there is no such file (or the name leaves the source)."""
        member = _member(name)
        if member is None:
            return None
        if self._folder:
            return _read_file(self.path, member)
        return _read_member(_zip(self.path, os.getpid()), member)

    def size(self, name: str) -> int | None:
        """The photo's size in bytes without reading it; None when there is no such file."""
        member = _member(name)
        if member is None:
            return None
        if self._folder:
            try:
                return _size_inside(self.path, member)
            except OSError:
                return None
        try:
            return _zip(self.path, os.getpid()).getinfo(str(member)).file_size
        except KeyError:
            return None

    @functools.cached_property
    def _folder(self) -> bool:
        """A folder (else a ZIP), asked once rather than for every photo of a batch."""
        return self.path.is_dir()


@dataclass(frozen=True)
class PhotoRef:
    """One holder's photo: its name inside a source (what the PDF renderer is handed, not the bytes, so a
    batch of 10,000 never holds its photos in memory at once)."""

    source: PhotoSource
    name: str

    @classmethod
    def file(cls, path: Path) -> PhotoRef:
        """A photo given as a plain file path."""
        return cls(PhotoSource(path.parent), path.name)

    def read(self) -> bytes:
        """The photo's bytes; ``PhotoError`` when it has gone since validation."""
        data = self.source.read(self.name)
        if data is None:
            raise PhotoError(
                "photo_missing", f"找不到照片文件 {self.name}", f"photo file {self.name} not found"
            )
        return data


def open_source(path: Path) -> PhotoSource:
    """Check that ``path`` is a folder or a readable ZIP file (``--photos``)."""
    if path.is_dir():
        return PhotoSource(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return PhotoSource(path)
    raise PhotoError(
        "photos_unreadable",
        f"照片来源 {path} 不是文件夹或 ZIP 文件",
        f"the photo source {path} is neither a folder nor a ZIP file",
    )


def problem(source: PhotoSource, name: str) -> tuple[str, dict[str, object]] | None:
    """Why the photo named ``name`` cannot be printed, as (code, message parameters); None when it can."""
    size = source.size(name)
    if size is None:
        return "photo_missing", {"path": name}
    if size > MAX_BYTES:
        return "photo_too_large", {"path": name, "size": f"{size / 1024 / 1024:.1f}"}
    data = source.read(name)
    if data is None:
        return "photo_missing", {"path": name}
    try:
        width, height = _upright_size_by_header(data) or _upright_size_by_pillow(data)
    except _RefusedError as refused:
        return refused.code, {"path": name, **refused.params}
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        return "photo_too_small", {"path": name, "width": width, "height": height}
    if height <= width:
        return "photo_not_portrait", {"path": name, "width": width, "height": height}
    return None


class _RefusedError(Exception):
    """Pillow's path refuses the photo: its code and message parameters (besides the path)."""

    def __init__(self, code: str, params: dict[str, object]) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _upright_size_by_header(data: bytes) -> tuple[int, int] | None:
    """The size as shown, when the header reader vouches for the whole file (else None: ask Pillow)."""
    header = _read_jpeg(data, whole=True)
    if header is None:
        return None
    if header.orientation in _ROTATED:
        return header.height, header.width
    return header.width, header.height


def _upright_size_by_pillow(data: bytes) -> tuple[int, int]:
    """The size as shown, once Pillow has opened the file and decoded it; ``_RefusedError`` when it cannot."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if kind not in FORMATS:
                raise _RefusedError("photo_type", {"kind": kind or "?"})
            width, height = image.size
            if _orientation(image) in _ROTATED:
                width, height = height, width
            _check_decodes(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise _RefusedError("photo_unreadable", {}) from e
    return width, height


def problems(source: PhotoSource, names: list[str | None]) -> list[tuple[str, dict[str, object]] | None]:
    """``problem`` for each name (None: no photo named), in a worker process (``roster_validation``)."""
    return [None if name is None else problem(source, name) for name in names]


@dataclass(frozen=True)
class PrintImage:
    """A photo ready for the PDF: JPEG bytes (DCTDecode) with their pixel size and colour space."""

    data: bytes
    width: int
    height: int
    grey: bool


def print_image(data: bytes) -> PrintImage:
    """The photo as it goes on the paper: a small upright JPEG is embedded as it is; anything else is
    turned upright, reduced to ``PRINT_SIZE`` and encoded as JPEG (a phone photo would bloat every PDF)."""
    header = _read_jpeg(data, whole=False)
    if header is not None and _header_passes_through(header, len(data)):
        return PrintImage(data, header.width, header.height, header.grey)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if _passes_through(image, len(data)):
                return PrintImage(data, image.width, image.height, image.mode == "L")
            image.draft("RGB", PRINT_SIZE)
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise PhotoError("photo_unreadable", "照片无法读取", "cannot read the photo") from e
    upright.thumbnail(PRINT_SIZE)
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=88)
    return PrintImage(out.getvalue(), upright.width, upright.height, grey=False)


def _passes_through(image: Image.Image, size: int) -> bool:
    return (
        image.format == "JPEG"
        and image.mode in ("RGB", "L")
        and size <= _PASS_THROUGH_BYTES
        and image.width <= _PASS_THROUGH_PIXELS[0]
        and image.height <= _PASS_THROUGH_PIXELS[1]
        and _orientation(image) in (0, 1)
    )


def _header_passes_through(header: _Jpeg, size: int) -> bool:
    """``_passes_through`` asked of what the header reader learnt (its JPEGs are always RGB or grey)."""
    return (
        size <= _PASS_THROUGH_BYTES
        and header.width <= _PASS_THROUGH_PIXELS[0]
        and header.height <= _PASS_THROUGH_PIXELS[1]
        and header.orientation == 1
    )


def _orientation(image: Image.Image) -> int:
    return int(image.getexif().get(_EXIF_ORIENTATION, 1) or 1)


def _check_decodes(image: Image.Image) -> None:
    """Decode the picture cheaply (JPEG at 1/8 scale), so a truncated file is refused before signing. (A side
    under 8 px asks for at least 1 px: Pillow's ``draft`` divides by the size asked.)"""
    if image.format == "JPEG":
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


# The header reader: accept with certainty, or defer to Pillow.
#
# Pillow opens a JPEG in Python (a few dozen µs) and validation then decodes it at 1/8 scale to refuse a
# truncated file, which costs more than the rest of a row's validation. Most photos are the same few shapes
# (baseline or progressive, JFIF and/or EXIF, YCbCr or grey), so a small reader answers for those and hands
# anything else to Pillow's path. It vouches for a file only when it has checked everything Pillow or libjpeg
# would refuse it for: every segment before the first scan is one it knows and well formed (Pillow parses them
# in Python); the tables, frame and scans pass libjpeg's own fatal checks (lengths, table indices, Huffman code
# lengths, DC symbols, sampling factors, progression parameters, tables defined before use); EXIF's first IFD
# lies wholly inside its segment; and the entropy-coded data runs to an EOI marker that is the file's last two
# bytes. That last check is what stands for the decode: a file cut anywhere ends without EOI (inside scan data
# a 0xFF byte is always followed by 0x00 or a restart marker), and a corrupt but complete scan is only a warning
# to libjpeg, which Pillow does not refuse either. Everything else defers: CMYK, Adobe, MPF (Pillow opens it as
# MPO), XMP (Pillow reads an orientation from it), a second SOF or EXIF, fill bytes between segments, bytes
# after EOI, 12-bit or arithmetic coding, unusual sampling, DQT or APPn between progressive scans.

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
_TIFF_EXPECTED: Final = {_EXIF_ORIENTATION: (3, 1), 0x011A: (5, 1), 0x011B: (5, 1), 0x0128: (3, 1)}


class _DeferError(Exception):
    """The header reader does not vouch for this file: Pillow's path decides."""


def _require(condition: object) -> None:
    if not condition:
        raise _DeferError


@dataclass(frozen=True)
class _Jpeg:
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


def _read_jpeg(data: bytes, *, whole: bool) -> _Jpeg | None:
    """The JPEG's facts when the reader vouches for its header (and, ``whole``, its scans through EOI)."""
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    try:
        return _JpegReader(data).read(whole=whole)
    except (_DeferError, IndexError):
        return None


class _JpegReader:
    """One walk over a JPEG's segments; ``_DeferError`` at the first thing it does not vouch for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.frame: _Frame | None = None
        self.quantisation: set[int] = set()
        self.huffman: set[int] = set()
        self.orientation: int | None = None
        self.scans = 0

    def read(self, *, whole: bool) -> _Jpeg:
        """Segments through the first scan's header; then, ``whole``, every scan through EOI."""
        pos = self._segments(2, _BEFORE_SCANS)
        if whole:
            self._scans(pos)
        frame = self.frame
        assert frame is not None  # the first SOS needs one
        grey = len(frame.quantisation) == 1
        return _Jpeg(frame.width, frame.height, grey, self.orientation or 1)

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
        self.orientation = _exif_orientation(body[6:]) or 0

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


def _exif_orientation(tiff: bytes) -> int | None:
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
        elif tag == _EXIF_ORIENTATION:
            _require(orientation is None)
            orientation = struct.unpack(order + "H", value[:2])[0]
    return orientation


_Handler = Callable[[_JpegReader, bytes], None]
_BETWEEN_SCANS: Final[dict[int, _Handler]] = {
    _DHT: _JpegReader._dht,
    _DRI: _JpegReader._dri,
    _SOS: _JpegReader._sos,
}
_BEFORE_SCANS: Final[dict[int, _Handler]] = {
    **_BETWEEN_SCANS,
    _APP0: _JpegReader._app0,
    _APP1: _JpegReader._app1,
    _APP2: _JpegReader._app2,
    _COM: _JpegReader._comment,
    _DQT: _JpegReader._dqt,
    _SOF0: _JpegReader._sof0,
    _SOF2: _JpegReader._sof2,
}


def _member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if not name or path.is_absolute() or any(part in ("..", "") for part in path.parts):
        return None
    return path


def _read_file(folder: Path, member: PurePosixPath) -> bytes | None:
    try:
        size = _size_inside(folder, member)
        if size is None or size > MAX_BYTES:
            return None
        return folder.joinpath(*member.parts).read_bytes()
    except OSError:
        return None


def _size_inside(folder: Path, member: PurePosixPath) -> int | None:
    """The size of ``member`` when it is a regular file inside ``folder`` once links are followed, else None.

    A plain file right in the folder (the usual photo) needs one ``lstat``: not being a link, it is where its
    name says. A link, or a name with folders in it, is resolved and must stay inside the folder. (Validation
    and rendering ask this of every photo; resolving each path cost a system call per folder above it.)"""
    target = folder.joinpath(*member.parts)
    if len(member.parts) == 1:
        found = target.lstat()
        if not stat.S_ISLNK(found.st_mode):
            return found.st_size if stat.S_ISREG(found.st_mode) else None
    if not target.resolve().is_relative_to(_real(folder)):
        return None
    found = target.stat()
    return found.st_size if stat.S_ISREG(found.st_mode) else None


@functools.lru_cache(maxsize=8)
def _real(folder: Path) -> Path:
    """The photo folder with its links resolved, once per run rather than once per photo."""
    return folder.resolve()


def _read_member(archive: zipfile.ZipFile, member: PurePosixPath) -> bytes | None:
    try:
        info = archive.getinfo(str(member))
        if info.file_size > MAX_BYTES:
            return None
        with archive.open(info) as handle:
            return handle.read(MAX_BYTES + 1)[:MAX_BYTES]
    except (KeyError, OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError):
        return None


@functools.cache
def _zip(path: Path, pid: int) -> zipfile.ZipFile:
    """One open archive per process (``pid`` in the key: a forked worker opens its own)."""
    del pid
    return zipfile.ZipFile(path)


__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MIN_SIZE",
    "PhotoError",
    "PhotoRef",
    "PhotoSource",
    "PrintImage",
    "open_source",
    "print_image",
    "problem",
]
