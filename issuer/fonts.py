"""The CJK font the certificates are printed in: where it is, which characters it has, and a batch subset.

We print in Noto Sans CJK SC, installed by the Debian package ``fonts-noto-cjk`` as a TrueType/OpenType
*collection* (``NotoSansCJK-Regular.ttc``, faces JP, KR, SC, TC, HK, …). Loading the full 65,535-glyph face
for every PDF would cost far more than the page itself, so a batch first cuts a *batch subset* holding only
the characters its certificates use (a few seconds, once, cached on disk by content), with TrueType outlines;
``pdffont`` reads it once per process and embeds in each PDF only the glyphs that PDF prints.

``font_has_glyphs`` answers from the face's cmap, so a name with a character the font lacks is refused at
validation instead of printing as a blank box.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fontTools.ttLib import TTCollection, TTFont, TTLibError, newTable  # type: ignore[import-untyped, unused-ignore]

from common.errors import SkillpassError

FONT_ENV: Final = "SKILLPASS_CJK_FONT"
CACHE_ENV: Final = "SKILLPASS_CACHE_DIR"
DEBIAN_PACKAGE: Final = "fonts-noto-cjk"
_PREFERRED_FACE: Final = "Noto Sans CJK SC"
_CANDIDATES: Final = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJKsc-Regular.otf"),
)
_SUBSET_VERSION: Final = "2"  # 2: TrueType outlines


class FontError(SkillpassError):
    """A font problem, with a stable code and messages in Chinese and English."""


class FontMissingError(FontError):
    """No usable CJK font is installed; the message names the package that provides it."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: ``index`` is the face number inside a collection (0 for a plain file)."""

    path: Path
    index: int = 0


def cjk_font_path() -> Path:
    """The CJK font file to print with (``$SKILLPASS_CJK_FONT`` first, then the usual install paths)."""
    return cjk_font().path


@functools.cache
def cjk_font() -> FontFace:
    """The CJK face to print with: the file and, for a collection, the index of the Simplified Chinese face."""
    override = os.environ.get(FONT_ENV)
    candidates = (Path(override),) if override else _CANDIDATES
    for path in candidates:
        if path.is_file():
            return FontFace(path, _face_index(path))
    where = override or ", ".join(str(p) for p in _CANDIDATES)
    raise FontMissingError(
        "font_missing",
        f"找不到打印证书所需的中文字体（{where}）。请安装 Debian 软件包 {DEBIAN_PACKAGE}："
        f"sudo apt-get install {DEBIAN_PACKAGE}，或用环境变量 {FONT_ENV} 指定字体文件。",
        f"the CJK font needed to print certificates is missing ({where}). Install the Debian package "
        f"{DEBIAN_PACKAGE} (sudo apt-get install {DEBIAN_PACKAGE}) or point {FONT_ENV} at a font file.",
    )


def _face_index(path: Path) -> int:
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    try:
        collection = TTCollection(str(path), lazy=True)
    except (OSError, TTLibError) as e:
        raise _unreadable(path) from e
    names = [face["name"].getDebugName(4) or "" for face in collection.fonts]
    return next((i for i, name in enumerate(names) if name == _PREFERRED_FACE), 0)


def _unreadable(path: Path) -> FontMissingError:
    return FontMissingError(
        "font_unreadable",
        f"字体文件 {path} 无法读取，请重新安装 {DEBIAN_PACKAGE}",
        f"cannot read the font file {path}; reinstall {DEBIAN_PACKAGE}",
    )


def _open(face: FontFace) -> TTFont:
    try:
        return TTFont(str(face.path), fontNumber=face.index, lazy=True)
    except (OSError, TTLibError) as e:
        raise _unreadable(face.path) from e


@functools.cache
def _codepoints(face: FontFace) -> frozenset[int]:
    return frozenset(_open(face).getBestCmap())


def font_has_glyphs(text: str) -> bool:
    """True when the print font has a glyph for every character of ``text``."""
    return not missing_glyphs(text)


def missing_glyphs(text: str) -> str:
    """The characters of ``text`` the print font lacks, each once, in order of appearance."""
    have = _codepoints(cjk_font())
    return "".join(dict.fromkeys(c for c in text if ord(c) not in have))


def cache_dir() -> Path:
    """Where derived fonts are kept: ``$SKILLPASS_CACHE_DIR``, else ``$XDG_CACHE_HOME/skillpass``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillpass"


def batch_subset(texts: Iterable[str], *, directory: Path | None = None) -> FontFace:
    """A font holding just the characters of ``texts`` (plus ASCII), cached on disk by its content.

    Characters the face lacks are left out (validation refuses such names before printing).
    """
    face = cjk_font()
    have = _codepoints(face)
    wanted = set(range(0x20, 0x7F))
    for text in texts:
        wanted.update(map(ord, text))
    chars = sorted(wanted & have)
    key = hashlib.sha256(
        f"{_SUBSET_VERSION}|{face.path}|{face.index}|{face.path.stat().st_size}|".encode()
        + ",".join(map(str, chars)).encode()
    ).hexdigest()[:32]
    target = (directory or cache_dir()) / f"cjk-subset-{key}.ttf"
    if not target.is_file():
        _write_subset(face, chars, target)
    return FontFace(target)


def _write_subset(face: FontFace, chars: list[int], target: Path) -> None:
    """Cut the subset. fontTools' subsetter is imported here, not with the module: it is half a second of
    imports, and the render workers, which import this module for ``FontFace``, never cut a subset."""
    from fontTools import subset  # type: ignore[import-untyped, unused-ignore]

    font = TTFont(str(face.path), fontNumber=face.index)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    if "CFF " in font:
        _cff_to_truetype(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    font.save(str(tmp))
    tmp.replace(target)


def _cff_to_truetype(font: TTFont) -> None:
    """Redraw the subset's cubic (CFF) outlines as quadratic (glyf) ones, once per batch.

    With ``glyf`` outlines each glyph is a self-contained byte slice addressed by ``loca``, so a PDF's
    own subset is a copy of slices (``pdffont``); CFF charstrings share subroutines and would need a
    rebuild. The 1-unit conversion error is far below what print resolves.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped, unused-ignore]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped, unused-ignore]

    order = font.getGlyphOrder()
    outlines = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(outlines)
        outlines[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in _MAXP_V1_FIELDS:
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    maxp.numGlyphs = len(order)
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


_MAXP_V1_FIELDS: Final = (
    "maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
    "maxSizeOfInstructions", "maxComponentElements", "maxPoints", "maxContours", "maxCompositePoints",
    "maxCompositeContours", "maxComponentDepth",
)  # fmt: skip
