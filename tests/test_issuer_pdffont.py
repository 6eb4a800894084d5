"""The font program ``pdffont`` embeds: every table's checksum in the directory is the sum of its 32-bit
words, however the per-process shortcuts (``_glyph_sums``) reached it, for glyphs of any length."""

from __future__ import annotations

import random
import struct

import pytest

from issuer import fonts
from issuer.pdffont import PrintFont


def _word_sum(data: bytes) -> int:
    padded = data + bytes(-len(data) % 4)
    return int(sum(struct.unpack(f">{len(padded) // 4}I", padded))) & 0xFFFFFFFF


def _directory(program: bytes) -> dict[str, tuple[int, bytes]]:
    """Each table's recorded checksum and its bytes (unpadded)."""
    count = struct.unpack_from(">H", program, 4)[0]
    tables = {}
    for i in range(count):
        tag, checksum, offset, length = struct.unpack_from(">4sIII", program, 12 + 16 * i)
        tables[tag.decode("ascii")] = (checksum, program[offset : offset + length])
    return tables


@pytest.fixture(scope="module")
def face() -> fonts.FontFace:
    return fonts.batch_subset(["职业技能等级证书 Vocational Skill Level 张𠮷 王建国 11010519491231002X"])


@pytest.fixture
def font(face: fonts.FontFace) -> PrintFont:
    return PrintFont(face)


def test_every_table_checksum_is_the_sum_of_its_words(font: PrintFont) -> None:
    keep = sorted(font._closure(range(1, len(font._glyphs), 3)))
    for tag, (checksum, data) in _directory(font._program(keep)).items():
        assert checksum == _word_sum(data), tag


def test_glyf_checksum_holds_for_glyphs_of_any_length_at_any_place(font: PrintFont) -> None:
    """Glyphs of odd lengths start at every place in a word, so each adds its sum at that place; ``loca``
    points at each kept glyph and gives every other glyph no outline."""
    rng = random.Random(4)
    font._glyphs = [rng.randbytes(rng.randrange(0, 90)) for _ in font._glyphs]
    font._sums.clear()
    for _ in range(20):
        keep = sorted(rng.sample(range(len(font._glyphs)), rng.randrange(1, len(font._glyphs))))
        tables = _directory(font._program(keep))
        checksum, data = tables["glyf"]
        assert data == b"".join(font._glyphs[g] for g in keep)
        assert checksum == _word_sum(data)
        assert tables["loca"][0] == _word_sum(tables["loca"][1])
        offsets = struct.unpack(f">{len(font._glyphs) + 1}I", tables["loca"][1])
        kept = set(keep)
        for gid, glyph in enumerate(font._glyphs):  # each glyph where loca says, the others empty
            assert data[offsets[gid] : offsets[gid + 1]] == (glyph if gid in kept else b"")


def _composite(*parts: int) -> bytes:
    """A composite glyph of ``parts`` (byte offsets, no scale), as the ``glyf`` table stores one."""
    records = [
        struct.pack(">HHbb", 0x0020 if i < len(parts) - 1 else 0, gid, 0, 0) for i, gid in enumerate(parts)
    ]
    return struct.pack(">h4h", -1, 0, 0, 100, 100) + b"".join(records)


def test_closure_takes_nested_components_and_notdef(font: PrintFont) -> None:
    font._glyphs[5] = _composite(7, 9)
    font._glyphs[9] = _composite(11)
    font._closures = {0: font._walk(0)}
    assert font._closure({5, 2}) == {0, 2, 5, 7, 9, 11}
    assert font._closure({9, len(font._glyphs) + 3}) == {0, 9, 11}  # a glyph past the face is left out
