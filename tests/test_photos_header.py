"""The photo header reader (``issuer.jpeg_header.read_jpeg``) answers only when Pillow's path would give the same
answer: for ``problem`` and ``print_image``, over generated JPEGs and PNGs of every common kind, cut at many
offsets, with bytes after the end, altered bytes and hand-made EXIF. Each answer is compared with the one the
same function gives when the reader is switched off (Pillow's path alone); and the common kinds must be
answered by the reader, or these comparisons would prove nothing."""

from __future__ import annotations

import functools
import io
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from issuer import jpeg_header, photos

Outcome = tuple[str, object]


def photo(
    size: tuple[int, int] = (300, 420),
    *,
    mode: str = "RGB",
    kind: str = "JPEG",
    orientation: int | None = None,
    **options: object,
) -> bytes:
    """A portrait-like picture (smooth background, a face, shoulders), encoded as asked."""
    image = Image.new("RGB", size, (236, 238, 240))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4, h // 8, 3 * w // 4, h // 2), fill=(225, 190, 160))
    draw.rectangle((w // 8, 3 * h // 5, 7 * w // 8, h), fill=(40, 60, 120))
    if orientation is not None:
        exif = Image.Exif()
        exif[0x010F] = "Camera maker"
        exif[0x0112] = orientation
        exif[0x011A] = 300.0
        exif[0x0128] = 2
        options["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.convert(mode).save(out, format=kind, **options)
    return out.getvalue()


@contextmanager
def pillow_only() -> Iterator[None]:
    """Pillow's path alone: the header reader never vouches."""
    with mock.patch.object(photos, "read_jpeg", lambda data, *, whole: None):
        yield


def outcome(call: Callable[[], object]) -> Outcome:
    """What a call returns, or the type of what it raises (Pillow's warnings silenced, as in production)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "returns", call()
        except Exception as e:  # an exception is an answer to compare
            return "raises", type(e).__name__


def answers(data: bytes, folder: Path) -> tuple[Outcome, Outcome]:
    """(``problem``, ``print_image``) of these bytes as a photo file."""
    (folder / "p").write_bytes(data)
    source = photos.PhotoSource(folder)
    return outcome(lambda: photos.problem(source, "p")), outcome(lambda: photos.print_image(data))


def assert_same(data: bytes, folder: Path) -> None:
    fast = answers(data, folder)
    with pillow_only():
        slow = answers(data, folder)
    assert fast == slow


def vouched(data: bytes) -> bool:
    return jpeg_header.read_jpeg(data, whole=True) is not None


JPEG_KINDS = [
    pytest.param(
        mode,
        progressive,
        subsampling,
        id=f"{mode}-{'progressive' if progressive else 'baseline'}-{subsampling}",
    )
    for mode in ("RGB", "L")
    for progressive in (False, True)
    for subsampling in (0, 1, 2)
    if mode == "RGB" or subsampling == 0
]


@pytest.mark.parametrize(("mode", "progressive", "subsampling"), JPEG_KINDS)
@pytest.mark.parametrize("orientation", [None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_common_jpegs_are_answered_by_the_reader_as_pillow_answers(
    tmp_path: Path, mode: str, progressive: bool, subsampling: int, orientation: int | None
) -> None:
    for size in ((300, 420), (420, 300), (295, 413), (294, 500), (600, 600)):
        data = photo(
            size, mode=mode, orientation=orientation, progressive=progressive, subsampling=subsampling
        )
        assert vouched(data), size
        assert_same(data, tmp_path)


@pytest.mark.parametrize(
    "options",
    [
        {"optimize": True},
        {"quality": 95, "dpi": (300, 300)},
        {"restart_marker_blocks": 4},
        {"restart_marker_rows": 1, "progressive": True},
        {"comment": b"studio 7"},
        {"icc_profile": b"\0" * 300},
        {"qtables": "web_high"},
    ],
)
def test_encoder_options_are_answered_by_the_reader_as_pillow_answers(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    for orientation in (None, 1, 6):
        data = photo(orientation=orientation, **options)
        assert vouched(data), options
        assert_same(data, tmp_path)


def test_a_large_jpeg_is_reduced_whichever_path_reads_it(tmp_path: Path) -> None:
    for size in ((1201, 1600), (1000, 1681), (1200, 1680)):
        assert_same(photo(size), tmp_path)


def cmyk_jpeg() -> bytes:
    return photo(mode="CMYK")


def mpo() -> bytes:
    frames = [Image.new("RGB", (300, 420), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="MPO", save_all=True, append_images=frames[1:])
    return out.getvalue()


def xmp_orientation() -> bytes:
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    return photo((420, 300), xmp=xmp)


def twelve_bit_like() -> bytes:
    data = bytearray(photo())
    sof = data.index(b"\xff\xc0")
    data[sof + 4] = 12
    return bytes(data)


def short_jfif(data: bytes) -> bytes:
    """The JFIF segment cut to its name (Pillow reads a version after it)."""
    assert data[2:4] == b"\xff\xe0"
    return data[:2] + b"\xff\xe0\x00\x07JFIF\x00" + data[4 + int.from_bytes(data[4:6], "big") :]


def two_exif_segments(data: bytes) -> bytes:
    """A second EXIF segment (orientation 1) after the first (Pillow appends it to the first)."""
    second = exif("<", [(0x0112, 3, 1, struct.pack("<HH", 1, 0))])
    segment = b"\xff\xe1" + (len(second) + 2).to_bytes(2, "big") + second
    after = segments(data, 0xE1)[0] + 2 + int.from_bytes(data[segments(data, 0xE1)[0] + 2 :][:2], "big")
    return data[:after] + segment + data[after:]


UNUSUAL: dict[str, Callable[[], bytes]] = {
    "cmyk": cmyk_jpeg,
    "mpo": mpo,
    "xmp orientation": xmp_orientation,
    "12-bit": twelve_bit_like,
    "trailing bytes": lambda: photo() + b"trailing",
    "trailing jpeg": lambda: photo() + photo(),
    "no eoi": lambda: photo()[:-2],
    "eoi appended to a cut file": lambda: photo()[:3000] + b"\xff\xd9",
    "two exif segments": lambda: two_exif_segments(photo((420, 300), orientation=6)),
    "short jfif": lambda: short_jfif(photo()),
    "wrong magic": lambda: b"\x89PNX" + photo()[4:],
    "tiny": lambda: photo((4, 4)),
    "gif": lambda: photo(kind="GIF"),
    "webp": lambda: photo(kind="WEBP"),
    "empty": lambda: b"",
    "soi only": lambda: b"\xff\xd8\xff",
}


@pytest.mark.parametrize("name", UNUSUAL)
def test_unusual_files_get_pillows_answer(tmp_path: Path, name: str) -> None:
    assert_same(UNUSUAL[name](), tmp_path)


@pytest.mark.parametrize("name", ["cmyk", "mpo", "xmp orientation", "12-bit", "trailing bytes", "no eoi"])
def test_the_reader_leaves_unusual_files_to_pillow(name: str) -> None:
    assert not vouched(UNUSUAL[name]())


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"])
def test_pngs_get_pillows_answer(tmp_path: Path, mode: str) -> None:
    for size in ((300, 420), (420, 300), (200, 300)):
        data = photo(size, mode=mode, kind="PNG")
        assert_same(data, tmp_path)
        assert_same(data[: len(data) // 2], tmp_path)


def base_jpegs() -> list[bytes]:
    return [
        photo(orientation=6),
        photo(progressive=True, orientation=1, subsampling=2),
        photo(mode="L", restart_marker_blocks=2),
    ]


@pytest.mark.parametrize("base", range(3))
def test_a_jpeg_cut_anywhere_gets_pillows_answer(tmp_path: Path, base: int) -> None:
    data = base_jpegs()[base]
    header = data.index(b"\xff\xda") + 20
    offsets = {*range(0, header + 40), *range(header, len(data), 97), *range(len(data) - 40, len(data) + 1)}
    for offset in sorted(offsets):
        assert_same(data[:offset], tmp_path)
    assert vouched(data)


SLOW_FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@SLOW_FUZZ
@given(
    base=st.integers(0, 2),
    changes=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=3),
    in_header=st.booleans(),
)
def test_altered_bytes_get_pillows_answer(
    tmp_path_factory: pytest.TempPathFactory, base: int, changes: list[tuple[float, int]], in_header: bool
) -> None:
    """Bytes of the header (or anywhere) set to other values: the reader vouches only where Pillow agrees."""
    data = bytearray(BASES[base])
    reach = data.index(b"\xff\xda") + 14 if in_header else len(data)
    for where, value in changes:
        data[int(where * (reach - 1))] = value
    assert_same(bytes(data), tmp_path_factory.mktemp("altered"))


@SLOW_FUZZ
@given(
    base=st.integers(0, 2),
    where=st.floats(0, 1),
    inserted=st.binary(max_size=4),
    removed=st.integers(0, 4),
)
def test_inserted_and_removed_bytes_get_pillows_answer(
    tmp_path_factory: pytest.TempPathFactory, base: int, where: float, inserted: bytes, removed: int
) -> None:
    data = BASES[base]
    at = int(where * (data.index(b"\xff\xda") + 14))
    assert_same(data[:at] + inserted + data[at + removed :], tmp_path_factory.mktemp("spliced"))


def tiff_value(order: str) -> st.SearchStrategy[bytes]:
    """An entry's 4-byte value field: a small number as a SHORT or a LONG would hold it, or any bytes."""
    small = st.integers(0, 9)
    return st.one_of(
        small.map(lambda v: struct.pack(order + "HH", v, 0)),
        small.map(lambda v: struct.pack(order + "I", v)),
        st.binary(min_size=4, max_size=4),
    )


def tiff_entries(order: str) -> st.SearchStrategy[list[tuple[int, int, int, bytes]]]:
    entry = st.tuples(
        st.sampled_from([0x0112, 0x0112, 0x011A, 0x0128, 0x010F, 0x8769, 0x9999]),
        st.sampled_from([3, 3, 4, 5, 2, 0, 14, 16, 17]),
        st.sampled_from([0, 1, 1, 1, 2, 4, 100, 2**31]),
        tiff_value(order),
    )
    return st.lists(entry, max_size=5)


def exif(order: str, entries: list[tuple[int, int, int, bytes]], *, ifd: int = 8, padding: int = 0) -> bytes:
    """An EXIF segment's body: a TIFF header, one IFD of these entries, and ``padding`` more bytes."""
    tiff = (b"MM\0*" if order == ">" else b"II*\0") + struct.pack(order + "IH", ifd, len(entries))
    for tag, kind, count, value in entries:
        tiff += struct.pack(order + "HHI", tag, kind, count) + value
    return b"Exif\0\0" + tiff + b"\0" * 4 + bytes(range(padding))


@SLOW_FUZZ
@given(
    data=st.data(),
    big_endian=st.booleans(),
    ifd_offset=st.sampled_from([8, 8, 8, 0, 4, 9, 200, 2**31]),
    padding=st.integers(0, 64),
    wide=st.booleans(),
)
def test_hand_made_exif_gets_pillows_answer(
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    big_endian: bool,
    ifd_offset: int,
    padding: int,
    wide: bool,
) -> None:
    """EXIF with odd types, counts, offsets and duplicated tags, in either byte order."""
    order = ">" if big_endian else "<"
    body = exif(order, data.draw(tiff_entries(order)), ifd=ifd_offset, padding=padding)
    size = (420, 300) if wide else (300, 420)
    assert_same(photo(size, exif=body), tmp_path_factory.mktemp("exif"))


ROTATED = struct.pack(">HH", 6, 0)
ODD_EXIF = {
    "orientation as a long": [(0x0112, 4, 1, struct.pack(">I", 6))],
    "orientation twice": [(0x0112, 3, 1, struct.pack(">HH", 1, 0)), (0x0112, 3, 1, ROTATED)],
    # Pillow stops reading the IFD at data it cannot read, and skips data larger than the whole EXIF
    "data beyond the segment first": [(0x010F, 2, 8, struct.pack(">I", 5000)), (0x0112, 3, 1, ROTATED)],
    "data larger than the exif first": [(0x010F, 2, 100, struct.pack(">I", 8)), (0x0112, 3, 1, ROTATED)],
    "unknown type first": [(0x010F, 14, 1, b"\0" * 4), (0x0112, 3, 1, ROTATED)],
    "resolution as a short": [(0x011A, 3, 1, ROTATED), (0x0112, 3, 1, ROTATED)],
    "orientation counted twice": [(0x0112, 3, 2, struct.pack(">HH", 6, 6))],
}


@pytest.mark.parametrize("name", ODD_EXIF)
def test_exif_pillow_reads_its_own_way_gets_pillows_answer(tmp_path: Path, name: str) -> None:
    for size in ((420, 300), (300, 420)):
        assert_same(photo(size, exif=exif(">", ODD_EXIF[name], padding=8)), tmp_path)


def segments(data: bytes, marker: int) -> list[int]:
    """Where each segment with this marker starts, before the first scan."""
    found, pos = [], 2
    while data[pos + 1] != 0xDA:
        if data[pos + 1] == marker:
            found.append(pos)
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return found


def overfull_huffman(data: bytes, table: int) -> bytes:
    """Two codes of length 1 (taken from the longest lengths), the all-ones code then in use."""
    edited = bytearray(data)
    start = segments(data, 0xC4)[table] + 5
    counts = edited[start : start + 16]
    need = 2 - counts[0]
    for length in range(15, 0, -1):
        taken = min(need, counts[length])
        counts[length] -= taken
        need -= taken
    counts[0] = 2
    edited[start : start + 16] = counts
    return bytes(edited)


def first_symbol(data: bytes, table: int, value: int) -> bytes:
    edited = bytearray(data)
    edited[segments(data, 0xC4)[table] + 21] = value
    return bytes(edited)


def sof_byte(data: bytes, offset: int, value: int) -> bytes:
    edited = bytearray(data)
    edited[segments(data, 0xC0)[0] + offset] = value
    return bytes(edited)


def longer_scan_header(data: bytes) -> bytes:
    """The scan header with its last three bytes (0, 63, 0 in a baseline scan) said twice."""
    sos = data.index(b"\xff\xda")
    end = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    assert data[end - 3 : end] == b"\x00\x3f\x00"
    longer = (end - sos + 1).to_bytes(2, "big")
    return data[: sos + 2] + longer + data[sos + 4 : end] + b"\x00\x3f\x00" + data[end:]


BAD_HEADERS: dict[str, Callable[[bytes], bytes]] = {
    **{f"overfull huffman table {n}": functools.partial(overfull_huffman, table=n) for n in range(4)},
    **{f"symbol 200 in table {n}": functools.partial(first_symbol, table=n, value=200) for n in range(4)},
    "quantisation table 4": lambda d: sof_byte(d, 12, 4),
    "quantisation table 2, undefined": lambda d: sof_byte(d, 15, 2),
    "sampling 3x1": lambda d: sof_byte(d, 11, 0x31),
    "chroma 2x2": lambda d: sof_byte(d, 14, 0x22),
    "duplicate component": lambda d: sof_byte(d, 13, d[segments(d, 0xC0)[0] + 10]),
    "zero height": lambda d: sof_byte(sof_byte(d, 5, 0), 6, 0),
    "scan header longer than its components": lambda d: longer_scan_header(d),
}


@pytest.mark.parametrize("name", BAD_HEADERS)
def test_tables_libjpeg_refuses_get_pillows_answer(tmp_path: Path, name: str) -> None:
    """Huffman tables libjpeg stops on (a full code tree, a DC symbol over 15), odd frames."""
    assert_same(BAD_HEADERS[name](photo()), tmp_path)


BASES = base_jpegs()


def test_these_tests_fail_when_the_reader_ignores_orientation(tmp_path: Path) -> None:
    """The comparisons above can see a wrong reader: one that ignores EXIF orientation differs here."""
    data = photo((420, 300), orientation=6)
    real = jpeg_header.exif_orientation
    ignored = mock.patch.object(jpeg_header, "exif_orientation", lambda tiff: 1 if real(tiff) else None)
    with ignored, pytest.raises(AssertionError):
        assert_same(data, tmp_path)


def test_a_jpeg_under_8_px_a_side_is_too_small_not_a_crash(tmp_path: Path) -> None:
    """Pillow's ``draft`` divided by zero when asked for 1/8 of a side under 8 px."""
    for size in ((5, 600), (600, 5), (1, 1)):
        (tmp_path / "tiny.jpg").write_bytes(photo(size))
        for reader in (mock.patch.object(photos, "read_jpeg", jpeg_header.read_jpeg), pillow_only()):
            with reader:
                found = photos.problem(photos.PhotoSource(tmp_path), "tiny.jpg")
            assert found is not None and found[0] == "photo_too_small", size
