"""The print font inside our PDFs: a TrueType (``glyf``) face embedded as a CID font, subset per document.

The batch subset from ``fonts.batch_subset`` is read once per process. Each document then embeds a font
program holding only the glyphs its pages use, *at their original glyph ids*: the other glyphs are left
empty, so no glyph is renumbered, the text is written as glyph ids (Identity-H, ``CIDToGIDMap /Identity``)
and subsetting is a copy of byte slices rather than a font rebuild (fontTools' subsetter, which fpdf2 runs
per document, costs ~30 ms; this costs well under one). A ``ToUnicode`` map keeps the text extractable.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped, unused-ignore]

from issuer.fonts import FontError, FontFace
from issuer.pdfwriter import PdfWriter

_REQUIRED: Final = ("head", "hhea", "maxp", "hmtx")
_OPTIONAL: Final = ("cvt ", "fpgm", "prep")
_COMPONENT_MORE: Final = 0x0020
_COMPONENT_WORDS: Final = 0x0001
_COMPONENT_SCALE: Final = 0x0008
_COMPONENT_XY_SCALE: Final = 0x0040
_COMPONENT_2X2: Final = 0x0080
_BFCHAR_BLOCK: Final = 100
_WORD: Final = struct.Struct(">I")


@dataclass
class GlyphUse:
    """The glyphs a document has printed so far, each with the text it stands for (for ``ToUnicode``)."""

    glyphs: dict[int, str] = field(default_factory=dict)

    def update(self, other: Mapping[int, str]) -> None:
        """Add glyphs printed elsewhere (a page's use into the batch file's): only the ones not yet here, found
        by one set difference (a batch file takes this for every page, and most of a page's glyphs are known)."""
        glyphs = self.glyphs
        for gid in other.keys() - glyphs.keys():
            glyphs[gid] = other[gid]


class PrintFont:
    """One TrueType face, parsed once: character to glyph, advance widths, and per-document embedding."""

    def __init__(self, face: FontFace) -> None:
        try:
            font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
            if "glyf" not in font:
                raise FontError(
                    "font_not_truetype",
                    f"字体 {face.path} 不是 TrueType 轮廓，请使用 fonts.batch_subset 生成的字体",
                    f"the font {face.path} has no TrueType outlines; use a font from fonts.batch_subset",
                )
            self._cmap: dict[int, int] = {
                cp: font.getGlyphID(name) for cp, name in font.getBestCmap().items()
            }
            self._tables = {tag: font.reader[tag] for tag in (*_REQUIRED, *_OPTIONAL) if tag in font.reader}
            glyf, loca = font.reader["glyf"], font.reader["loca"]
            self.units: int = struct.unpack_from(">H", self._tables["head"], 18)[0]
            bbox = struct.unpack_from(">4h", self._tables["head"], 36)
            os2 = font.get("OS/2")
            # The typographic ascent and descent (Noto CJK: the ideographic em box, 880/-120), not hhea's
            # line spacing (1160/-288): readers and ``pdftotext -bbox`` size text boxes from these.
            self._ascent = (
                int(os2.sTypoAscender)
                if os2
                else round(0.88 * struct.unpack_from(">H", self._tables["head"], 18)[0])
            )
            self._descent = (
                int(os2.sTypoDescender)
                if os2
                else -round(0.12 * struct.unpack_from(">H", self._tables["head"], 18)[0])
            )
            self._cap = int(os2.sCapHeight or 700) if os2 else 700
            self.name = str(font["name"].getDebugName(6) or "CJKFont").replace(" ", "")
        except (OSError, TTLibError, KeyError, struct.error) as e:
            raise FontError(
                "font_unreadable", f"字体文件 {face.path} 无法读取", f"cannot read the font file {face.path}"
            ) from e
        self._bbox = bbox
        long_loca = struct.unpack_from(">h", self._tables["head"], 50)[0] == 1
        count = struct.unpack_from(">H", self._tables["maxp"], 4)[0]
        offsets = (
            struct.unpack(f">{count + 1}I", loca[: 4 * (count + 1)])
            if long_loca
            else tuple(2 * v for v in struct.unpack(f">{count + 1}H", loca[: 2 * (count + 1)]))
        )
        self._glyphs = [glyf[offsets[g] : offsets[g + 1]] for g in range(count)]
        metrics = struct.unpack_from(">H", self._tables["hhea"], 34)[0]
        hmtx = self._tables["hmtx"]
        advances = [struct.unpack_from(">H", hmtx, 4 * i)[0] for i in range(metrics)]
        self._advances = advances + [advances[-1]] * (count - metrics)
        self._codes: dict[str, tuple[int, bytes]] = {}  # character -> (glyph id, its hex form)
        self._closures: dict[int, frozenset[int]] = {0: self._walk(0)}  # glyph id -> it and its components
        self._widths: dict[int, bytes] = {}  # glyph id -> its /W entry
        self._sums: dict[int, tuple[int, ...]] = {}  # glyph id -> its part of the glyf checksum, by place

    def has(self, char: str) -> bool:
        """True when the face maps ``char`` to a glyph."""
        return ord(char) in self._cmap

    def width(self, text: str, size: float) -> float:
        """The advance width of ``text`` at ``size`` points, in points."""
        cmap, advances = self._cmap, self._advances
        return float(sum(advances[cmap.get(ord(c), 0)] for c in text) * size / self.units)

    def encode(self, text: str, use: GlyphUse) -> bytes:
        """``text`` as a PDF hex string of glyph ids, recording each glyph in ``use``. Each character's glyph
        id and its hex form are looked up once per process (``_codes``), not per character printed."""
        codes, glyphs = self._codes, use.glyphs
        out = []
        for char in text:
            code = codes.get(char)
            if code is None:
                gid = self._cmap.get(ord(char), 0)
                code = codes[char] = (gid, b"%04X" % gid)
            glyphs.setdefault(code[0], char)
            out.append(code[1])
        return b"<" + b"".join(out) + b">"

    def embed(self, writer: PdfWriter, use: GlyphUse, num: int) -> None:
        """Write the font (object ``num``, a Type0 font) with only the glyphs in ``use``."""
        gids = sorted(self._closure(use.glyphs))
        program = self._program(gids)
        tag = _subset_tag(gids)
        base = b"/" + tag + b"+" + self.name.encode("ascii", "replace").replace(b"?", b"-")
        file_num = writer.add_stream(program, b" /Length1 %d" % len(program))
        scale = 1000 / self.units
        descriptor = writer.add(
            b"<< /Type /FontDescriptor /FontName "
            + base
            + b" /Flags 4 /FontBBox [%d %d %d %d]" % tuple(round(v * scale) for v in self._bbox)
            + b" /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
            % (round(self._ascent * scale), round(self._descent * scale), round(self._cap * scale), file_num)
        )
        widths = b" ".join(map(self._width_entry, gids))
        cid = writer.add(
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont " + base
            + b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
            + b" /FontDescriptor %d 0 R /DW 1000 /W [" % descriptor + widths + b"] /CIDToGIDMap /Identity >>"
        )  # fmt: skip
        to_unicode = writer.add_stream(_to_unicode(use.glyphs))
        writer.add(
            b"<< /Type /Font /Subtype /Type0 /BaseFont " + base + b" /Encoding /Identity-H"
            b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, to_unicode),
            num,
        )

    def _closure(self, gids: Iterable[int]) -> set[int]:
        """The glyphs plus every component glyph they are built from (composite glyphs), and .notdef. Each
        glyph's own closure is found once per process (``_closures``), so a document's is one union in C
        over glyphs nearly all seen before, not a walk through their components."""
        closures = self._closures
        wanted = set(gids)
        for gid in wanted - closures.keys():
            closures[gid] = self._walk(gid)
        return set().union(closures[0], *map(closures.__getitem__, wanted))

    def _walk(self, first: int) -> frozenset[int]:
        """``first`` and every glyph it is built from, through nested components (none past the face)."""
        todo, seen = [first], set()
        while todo:
            gid = todo.pop()
            if gid in seen or gid >= len(self._glyphs):
                continue
            seen.add(gid)
            todo.extend(_components(self._glyphs[gid]))
        return frozenset(seen)

    def _width_entry(self, gid: int) -> bytes:
        """The glyph's ``/W`` entry (its advance in thousandths of an em), made once per process."""
        entry = self._widths.get(gid)
        if entry is None:
            entry = self._widths[gid] = b"%d [%d]" % (gid, round(self._advances[gid] * (1000 / self.units)))
        return entry

    def _program(self, keep: list[int]) -> bytes:
        """A TrueType file with every glyph id of the face, the ones not in ``keep`` (sorted) empty."""
        tables = dict(self._fixed_tables)
        tables["loca"], tables["glyf"] = self._loca_glyf(keep)
        return _sfnt(tables)

    def _loca_glyf(self, keep: list[int]) -> tuple[_Table, _Table]:
        """The ``loca`` and ``glyf`` tables keeping only ``keep``, made in steps of the glyphs kept, not of
        the face's (a batch of ten thousand names has a face of some three thousand glyphs): each stretch of
        equal offsets (the empty glyphs before a kept one, and where it starts) is one 32-bit word repeated,
        and each table's checksum is summed as it grows (``loca``: each offset times its count; ``glyf``:
        each glyph's share, ``_glyph_sums``)."""
        glyf: list[bytes] = []
        loca: list[bytes] = []
        offset, last, glyf_sum, loca_sum = 0, -1, 0, 0
        for gid in (*keep, len(self._glyphs)):  # the face's end closes the last stretch
            loca.append(_WORD.pack(offset) * (gid - last))
            loca_sum += offset * (gid - last)
            if gid < len(self._glyphs):
                glyph = self._glyphs[gid]
                glyf.append(glyph)
                glyf_sum += self._glyph_sums(gid)[offset % 4]
                offset += len(glyph)
                last = gid
        glyf.append(bytes(-offset % 4))
        data = b"".join(loca)
        return _Table(data, loca_sum & 0xFFFFFFFF, len(data)), _Table(
            b"".join(glyf), glyf_sum & 0xFFFFFFFF, offset
        )

    def _glyph_sums(self, gid: int) -> tuple[int, ...]:
        """What the glyph adds to the ``glyf`` table's checksum when it starts 0, 1, 2 or 3 bytes into a
        32-bit word, summed once per process. The checksum adds each byte times 256 to the power of its
        place in its word from the right, so a table's is the sum of its glyphs' at their places; unpacking
        and summing a document's whole ``glyf`` table cost a tenth of a millisecond a certificate."""
        sums = self._sums.get(gid)
        if sums is None:
            glyph = self._glyphs[gid]
            sums = self._sums[gid] = tuple(_table(bytes(shift) + glyph).checksum for shift in range(4))
        return sums

    @functools.cached_property
    def _fixed_tables(self) -> dict[str, _Table]:
        """The tables every document's font program copies unchanged, padded and summed once per process
        (summing ``hmtx``, which covers every glyph of the batch, cost more than the glyphs a document keeps)."""
        head = bytearray(self._tables["head"])
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment: not checked by PDF readers
        head[50:52] = b"\0\1"  # long loca offsets
        return {tag: _table(bytes(head) if tag == "head" else data) for tag, data in self._tables.items()}


@functools.cache
def print_font(face: FontFace) -> PrintFont:
    """The parsed face, once per process (a batch's workers each parse it once)."""
    return PrintFont(face)


def _components(data: bytes) -> list[int]:
    if len(data) < 10 or struct.unpack_from(">h", data, 0)[0] >= 0:
        return []
    found, pos = [], 10
    while pos + 4 <= len(data):
        flags, gid = struct.unpack_from(">HH", data, pos)
        found.append(gid)
        pos += 4 + (4 if flags & _COMPONENT_WORDS else 2)
        pos += (
            2
            if flags & _COMPONENT_SCALE
            else 4
            if flags & _COMPONENT_XY_SCALE
            else 8
            if flags & _COMPONENT_2X2
            else 0
        )
        if not flags & _COMPONENT_MORE:
            break
    return found


@dataclass(frozen=True)
class _Table:
    """One table of a font program: its bytes padded to 4, their checksum and the unpadded length."""

    padded: bytes
    checksum: int
    length: int


def _table(data: bytes) -> _Table:
    padded = data + b"\0" * (-len(data) % 4)
    return _Table(padded, _checksum(padded), len(data))


def _sfnt(tables: Mapping[str, _Table]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    offset = 12 + 16 * count
    records, bodies = [], []
    for tag in tags:
        table = tables[tag]
        records.append(struct.pack(">4sIII", tag.encode("ascii"), table.checksum, offset, table.length))
        bodies.append(table.padded)
        offset += len(table.padded)
    return header + b"".join(records) + b"".join(bodies)


def _checksum(padded: bytes) -> int:
    return int(sum(struct.unpack(f">{len(padded) // 4}I", padded))) & 0xFFFFFFFF


def _subset_tag(gids: list[int]) -> bytes:
    digest = hashlib.sha256(",".join(map(str, gids)).encode("ascii")).digest()
    return bytes(ord("A") + b % 26 for b in digest[:6])


@functools.lru_cache(maxsize=4096)
def _bfchar(gid: int, text: str) -> bytes:
    """One ``ToUnicode`` entry, made once per process and glyph (a document maps some forty glyphs, mostly
    the same ones)."""
    return b"<%04X> <%s>" % (gid, text.encode("utf-16-be").hex().upper().encode("ascii"))


def _to_unicode(glyphs: Mapping[int, str]) -> bytes:
    pairs = sorted(glyphs.items())
    blocks = []
    for start in range(0, len(pairs), _BFCHAR_BLOCK):
        chunk = pairs[start : start + _BFCHAR_BLOCK]
        lines = b"\n".join(itertools.starmap(_bfchar, chunk))
        blocks.append(b"%d beginbfchar\n" % len(chunk) + lines + b"\nendbfchar")
    return (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + b"\n".join(blocks)
        + b"\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )


__all__ = ["GlyphUse", "PrintFont", "print_font"]
