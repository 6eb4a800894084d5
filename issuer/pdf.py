"""The printable certificate: one A4 portrait page after the national reference style, with the QR.

Layout (millimetres from the top left of A4, 210 x 297): a double frame; the title 职业技能等级证书 with
"Vocational Skill Level Certificate" beneath; the holder's 1-inch photo (25 x 35 mm) top right; labelled
lines 姓名, 证件类型, 证件号码, 职业名称 (with code), 工种/职业方向 ("--" when none, as the reference style
prescribes), 职业技能等级, 证书编号, 评价机构, 发证日期; the QR (45 mm with its quiet zone, level Q) drawn
as vector rectangles from the code's matrix; and the national query addresses.

Every value fits its frame (``layout.fit``): one line from 14 pt down to 12 pt, else two lines from 11 pt
down to 9 pt. The three lines beside the photo stop 3 mm short of it.

Speed (issue 15): the page is a *template* laid out once per process — frames, title, labels, rules and
footer as one content stream, shared by every page of a batch file — and each certificate only *stamps* its
values, photo and QR on top. The PDF is written by ``pdfwriter`` with the font from ``pdffont``.

ID number decision: the paper prints the *full* ID number, as the national reference style does. The paper is
the holder's own document and is shown in person together with the ID card; the QR, which anyone who sees the
paper can copy and which verifiers store, carries only the masked form (``MaskedId``). ``CertificateView``
takes the number exactly as it should be printed (``id_number_display``).

The creation date is the issue date, so the same certificate always renders to the same bytes. Every string is
checked against the font's cmap first: a character the font lacks raises ``PdfError`` instead of printing blank.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from common.errors import SkillpassError
from common.qrimage import QrImageError, dark_runs, qr_matrix
from issuer.fonts import FontError, FontFace, batch_subset, cjk_font, missing_glyphs
from issuer.layout import LayoutError, fit
from issuer.pdffont import GlyphUse, PrintFont, print_font
from issuer.pdfwriter import Parts, PdfWriter, Prefix, Sink, deflate, number, pdf_string
from issuer.photos import PhotoError, PhotoRef, PrintImage, print_image
from issuer.seal import SealError, load_seal
from schemas.vocabulary import LEVEL_NAMES

QUERY_FOOTER: Final = "证书查询 http://jndj.osta.org.cn　机构查询 http://pjjg.osta.org.cn"
PLACEHOLDER: Final = "照片"
SCAN_LINE: Final = "扫码验证 Scan to verify"
TITLE: Final = "职业技能等级证书"
TITLE_EN: Final = "Vocational Skill Level Certificate"
QR_SIZE_MM: Final = 45.0
PAGE_W: Final = 210.0
PAGE_H: Final = 297.0
PHOTO_BOX: Final = (159.0, 64.0, 25.0, 35.0)  # x, y, w, h: a 1-inch ID photo
LABEL_X: Final = 28.0
VALUE_X: Final = 68.0
RIGHT_EDGE: Final = 184.0
LINES_Y: Final = 70.0
LINE_STEP: Final = 11.5
QR_Y: Final = 181.0
_NARROW_LINES: Final = 3  # beside the photo
_RULE_DROP: Final = 9.6
_QUIET_MODULES: Final = 4
_K: Final = 72 / 25.4  # points per millimetre
_BROWN: Final = b"0.588 0.431 0.157"
_BLACK: Final = b"0 g"
_GREY: Final = b"0.35 g"
_LIGHT: Final = b"0.55 g"
_RED: Final = b"0.588 0.118 0.118 rg"
#: The seal: 40 mm across (its longer side), centred over the issue date's value, drawn after the text.
SEAL_SIZE: Final = 40.0
SEAL_CENTRE: Final = (VALUE_X + 38.0, LINES_Y + 8 * LINE_STEP + 4.8)  # the date stays legible
_URL_FORM: Final = re.compile(r"HTTPS://([A-Z0-9.-]+(?::\d+)?)/#", re.I)
_DEFLATED: Final = b" /Filter /FlateDecode"


class PdfError(SkillpassError):
    """A certificate that cannot be printed; stable ``code`` and messages in Chinese and English."""


@dataclass(frozen=True)
class CertificateView:
    """Everything printed on one certificate, already in display form except ``level`` and ``issue_date``."""

    holder_name: str
    id_type: str
    id_number_display: str
    occupation_code: str
    occupation_name: str
    work_type: str
    level: int
    certificate_number: str
    institution_name: str
    issue_date: dt.date
    photo: PhotoRef | None = None
    seal: Path | None = None

    @property
    def level_text(self) -> str:
        """The level as printed, e.g. "三级/高级工"."""
        return LEVEL_NAMES.get(self.level, str(self.level))

    @property
    def issue_date_text(self) -> str:
        """The issue date as printed, e.g. "2025年06月23日"."""
        d = self.issue_date
        return f"{d.year}年{d.month:02d}月{d.day:02d}日"

    def lines(self) -> list[tuple[str, str, str]]:
        """(Chinese label, English label, value) of every labelled line, top to bottom."""
        return [
            ("姓名", "Name", self.holder_name),
            ("证件类型", "ID type", self.id_type),
            ("证件号码", "ID number", self.id_number_display),
            ("职业名称", "Occupation", f"{self.occupation_name}（{self.occupation_code}）"),
            ("工种/职业方向", "Work type", self.work_type),
            ("职业技能等级", "Level", self.level_text),
            ("证书编号", "Certificate No.", self.certificate_number),
            ("评价机构", "Issued by", self.institution_name),
            ("发证日期", "Date of issue", self.issue_date_text),
        ]


@dataclass(frozen=True)
class PageStamp:
    """One certificate's page as stamped on the template: its content stream (deflated), the glyphs it
    prints (id → text), its photo and seal, and the font its glyph ids belong to. Picklable, so a render
    worker's page goes into the batch print file without being drawn twice."""

    font: FontFace
    content: bytes
    glyphs: dict[int, str]
    photo: PrintImage | None
    seal: Path | None
    issue_date: dt.date


def verifier_line(qr_text: str) -> str | None:
    """For a URL-form QR (``HTTPS://HOST/#…``), the line printed under it naming the verifier's address."""
    m = _URL_FORM.match(qr_text)
    return None if m is None else f"或访问 or visit https://{m.group(1).lower()}"


def printed_text(view: CertificateView, qr_text: str = "") -> str:
    """Every character the page may print (for font subsetting and glyph checks)."""
    fixed = TITLE + TITLE_EN + PLACEHOLDER + SCAN_LINE + QUERY_FOOTER + "或访问 or visit https://"
    labels = "".join(zh + en for zh, en, _ in view.lines())
    values = "".join(value for _, _, value in view.lines())
    return fixed + labels + values + (verifier_line(qr_text) or "")


def render_certificate_pdf(
    cert: CertificateView,
    qr_text: str,
    *,
    font: FontFace | None = None,
    keywords: str = "",
    photo_bytes: bytes | None = None,
) -> bytes:
    """One A4 page as PDF bytes. ``font`` is a TrueType batch subset (``fonts.batch_subset``) holding every
    character printed; by default one is cut for this certificate. ``keywords`` goes into the document
    information (``render`` stores its input fingerprint there). ``photo_bytes``: the photo's file when the
    caller has read it already (``render`` hashes it for the fingerprint), so it is not read twice."""
    face = font or batch_subset([printed_text(cert, qr_text)])
    return certificate_pdf(stamp_page(cert, qr_text, font=face, photo_bytes=photo_bytes), keywords=keywords)


def stamp_page(
    cert: CertificateView, qr_text: str, *, font: FontFace, photo_bytes: bytes | None = None
) -> PageStamp:
    """What one certificate stamps on the template, made once and placed in both the certificate's own file
    and the batch print file (``write_pdf``) — the costly part of a page (issue 15)."""
    _check_glyphs(cert)
    photo = None if cert.photo is None else _photo(cert.photo, photo_bytes)
    use = GlyphUse()
    content = _stamp(_face(font), cert, qr_text, use, photo)
    return PageStamp(font, deflate(content), use.glyphs, photo, cert.seal, cert.issue_date)


def certificate_pdf(stamp: PageStamp, *, keywords: str = "") -> bytes:
    """One stamped page as a PDF file of its own (its pieces joined once, ``pdfwriter.Parts``)."""
    out = Parts()
    document = PdfDocument(out, stamp.font, keywords=keywords, created=stamp.issue_date)
    document.page(stamp)
    document.close()
    return out.getvalue()


def render_batch_pdf(
    certs: Sequence[tuple[CertificateView, str]], *, font: FontFace | None = None, keywords: str = ""
) -> bytes:
    """One page per certificate in a single PDF (small batches and tests; ``write_pdf`` streams)."""
    face = font or batch_subset(printed_text(v, q) for v, q in certs)
    out = io.BytesIO()
    write_pdf(out, (stamp_page(v, q, font=face) for v, q in certs), keywords=keywords)
    return out.getvalue()


def write_pdf(
    out: Sink, pages: Iterable[PageStamp], *, keywords: str = "", created: dt.date | None = None
) -> int:
    """Write one page per stamp to ``out`` as they come (memory flat in the batch size); returns the page
    count. Every stamp must come from the same font. ``created`` (the document date) defaults to the first
    page's issue date."""
    document: PdfDocument | None = None
    for stamp in pages:
        if document is None:
            document = PdfDocument(out, stamp.font, keywords=keywords, created=created)
        document.page(stamp)
    if document is None:
        raise PdfError("pdf_empty", "没有要打印的证书", "no certificates to print")
    return document.close()


def _face(face: FontFace) -> PrintFont:
    try:
        return print_font(face)
    except FontError as e:
        raise PdfError(e.code, e.message_zh, e.message_en) from e


# The document -----------------------------------------------------------------------------------------


class PdfDocument:
    """A PDF being written to ``out``: the template's prefix copied first, pages as they come, the values'
    font last (``close``). ``keywords`` go into the document information, ``created`` is its date (by
    default the first page's issue date).

    Two fonts: ``/F1`` holds the template's glyphs and is part of the prefix (built once per process);
    ``/F2`` holds the glyphs of the values the pages stamp, so each file embeds only a few dozen glyphs.
    """

    def __init__(
        self, out: Sink, face: FontFace, *, keywords: str = "", created: dt.date | None = None
    ) -> None:
        self.face = face
        self.font = _face(face)
        self.prefix = _prefix(self.font)
        self.writer = PdfWriter.resume(out, self.prefix.objects)
        self.use = GlyphUse()
        self.font_num = self.writer.reserve()
        self.pages_num = self.writer.reserve()
        self.kids: list[int] = []
        self.seals: dict[Path, tuple[int, int]] = {}
        self.keywords = keywords
        self.created = created

    def page(self, stamp: PageStamp) -> None:
        """Add one page; ``stamp`` must be stamped with this document's font (its glyph ids)."""
        if stamp.font != self.face:
            raise ValueError("every page of a document is stamped with the document's font")
        self.use.update(stamp.glyphs)
        self.created = self.created or stamp.issue_date
        content = [self.prefix.template, self.writer.add_stream(stamp.content, _DEFLATED, compress=False)]
        images = []
        if stamp.photo is not None:
            image = self.writer.add_stream(*_image_object(stamp.photo), compress=False)
            images.append(b"/Photo %d 0 R" % image)
        if stamp.seal is not None:
            seal_image, seal_ops = self._seal(stamp.seal)
            images.append(b"/Seal %d 0 R" % seal_image)
            content.append(seal_ops)
        xobjects = b" /XObject << " + b" ".join(images) + b" >>" if images else b""
        contents = b" ".join(b"%d 0 R" % num for num in content)
        self.kids.append(
            self.writer.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595.28 841.89] /Contents [" % self.pages_num
                + contents
                + b"] /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >>" % (self.prefix.font, self.font_num)
                + xobjects
                + b" >> >>"
            )
        )

    def _seal(self, path: Path) -> tuple[int, int]:
        """The seal's image object and the content stream placing it, each written once per document."""
        if path not in self.seals:
            try:
                seal = load_seal(path)
            except SealError as e:
                raise PdfError(e.code, e.message_zh, e.message_en) from e
            size = b" /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8" % (
                seal.width,
                seal.height,
            )
            mask = self.writer.add_stream(
                seal.alpha, size + b" /ColorSpace /DeviceGray /Filter /FlateDecode", compress=False
            )
            image = self.writer.add_stream(
                seal.rgb,
                size + b" /ColorSpace /DeviceRGB /SMask %d 0 R /Filter /FlateDecode" % mask,
                compress=False,
            )
            self.seals[path] = (image, self.writer.add_stream(_seal_ops(seal.width, seal.height)))
        return self.seals[path]

    def close(self) -> int:
        """Write the values' font, the page tree, the catalogue and the trailer; returns the page count."""
        if self.created is None:  # no page came
            raise PdfError("pdf_empty", "没有要打印的证书", "no certificates to print")
        w = self.writer
        self.font.embed(w, self.use, self.font_num)
        kids = b" ".join(b"%d 0 R" % k for k in self.kids)
        w.add(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(self.kids), self.pages_num)
        root = w.add(b"<< /Type /Catalog /Pages %d 0 R >>" % self.pages_num)
        date = b"(D:%04d%02d%02d000000Z)" % (self.created.year, self.created.month, self.created.day)
        info = w.add(
            b"<< /Title " + pdf_string(f"{TITLE} {TITLE_EN}") + b" /Creator (skillpass) /Producer (skillpass)"
            + b" /CreationDate " + date
            + (b" /Keywords " + pdf_string(self.keywords) if self.keywords else b"")
            + b" >>"
        )  # fmt: skip
        w.finish(root, info)
        return len(self.kids)


def _check_glyphs(view: CertificateView) -> None:
    face = cjk_font()
    lacking = "".join(dict.fromkeys("".join(_lacking(face, value) for _, _, value in view.lines())))
    if lacking:
        chars = "、".join(f"{c}（U+{ord(c):04X}）" for c in lacking)
        raise PdfError(
            "name_glyph_missing",
            f"证书 {view.certificate_number} 含有字体无法显示的字：{chars}",
            f"certificate {view.certificate_number} has characters the font cannot print: {chars}",
        )


@functools.lru_cache(maxsize=1024)
def _lacking(face: FontFace, value: str) -> str:
    """The characters of ``value`` the installed print font lacks (``fonts.missing_glyphs``), looked up once
    per process, font (``face``, ``fonts.cjk_font``: a font found afresh is looked up afresh) and value: most
    lines are the same on every certificate of a batch, and scanning them all again cost some 0.08 ms a
    certificate in the render loop."""
    return missing_glyphs(value)


def _photo(ref: PhotoRef, data: bytes | None) -> PrintImage:
    try:
        return print_image(ref.read() if data is None else data)
    except PhotoError as e:
        raise PdfError(
            "photo_unreadable", f"照片 {ref.name} 无法读取", f"cannot read the photo {ref.name}"
        ) from e


def _image_object(image: PrintImage) -> tuple[bytes, bytes]:
    space = b"/DeviceGray" if image.grey else b"/DeviceRGB"
    entries = b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s" % (
        image.width,
        image.height,
        space,
    )
    return image.data, entries + b" /BitsPerComponent 8 /Filter /DCTDecode"


# Drawing ------------------------------------------------------------------------------------------------


class _Canvas:
    """Content-stream operators in millimetres from the top left (PDF's own origin is the bottom left);
    text in the font named ``resource`` on the page."""

    def __init__(self, font: PrintFont, use: GlyphUse, resource: bytes) -> None:
        self.font = font
        self.use = use
        self.resource = resource
        self.ops: list[bytes] = []

    def text(self, x: float, baseline: float, text: str, size: float, fill: bytes = _BLACK) -> None:
        self.ops.append(
            b"BT %s /%s %s Tf %s %s Td %s Tj ET"
            % (fill, self.resource, number(size), number(x * _K), number((PAGE_H - baseline) * _K),
               self.font.encode(text, self.use))
        )  # fmt: skip

    def centred(self, baseline: float, text: str, size: float, fill: bytes = _BLACK) -> None:
        self.text((PAGE_W - self.font.width(text, size) / _K) / 2, baseline, text, size, fill)

    def rect(self, x: float, y: float, w: float, h: float, width: float, colour: bytes = b"0 0 0") -> None:
        self.ops.append(
            b"%s RG %s w %s %s %s %s re S"
            % (colour, number(width * _K), number(x * _K), number((PAGE_H - y - h) * _K), number(w * _K),
               number(h * _K))
        )  # fmt: skip

    def line(self, x1: float, y: float, x2: float, width: float, colour: bytes) -> None:
        yy = number((PAGE_H - y) * _K)
        self.ops.append(
            b"%s RG %s w %s %s m %s %s l S"
            % (colour, number(width * _K), number(x1 * _K), yy, number(x2 * _K), yy)
        )

    def bytes(self) -> bytes:
        return b"\n".join(self.ops)


@dataclass(frozen=True)
class _Prefix:
    """The template's objects, written once per process: the static page and the font ``/F1`` it uses."""

    objects: Prefix
    template: int
    font: int


@functools.cache
def _prefix(font: PrintFont) -> _Prefix:
    use = GlyphUse()
    writer = PdfWriter(io.BytesIO())
    template = writer.add_stream(_template(font, use))
    font_num = writer.reserve()
    font.embed(writer, use, font_num)
    return _Prefix(writer.prefix(), template, font_num)


def _template(font: PrintFont, use: GlyphUse) -> bytes:
    """The static page: frames, title, labels, rules, photo frame and footer."""
    c = _Canvas(font, use, b"F1")
    c.rect(10, 10, 190, 277, 1.2, _BROWN)
    c.rect(13, 13, 184, 271, 0.3, _BROWN)
    c.centred(30 + 30 * 0.88 / _K, TITLE, 30, _RED)
    c.centred(46 + 12 * 0.88 / _K, TITLE_EN, 12, _GREY)
    for i, (zh, en, _) in enumerate(_LABELS):
        y = LINES_Y + i * LINE_STEP
        c.text(LABEL_X, y + 4.4, zh, 12, _GREY)
        c.text(LABEL_X, y + 8.2, en, 6.5, _GREY)
        c.line(VALUE_X, y + _RULE_DROP, _value_right(i), 0.2, b"0.784 0.784 0.784")
    c.rect(*PHOTO_BOX, 0.3)
    c.centred(QR_Y + QR_SIZE_MM + 1 + 9 * 0.88 / _K, SCAN_LINE, 9, _GREY)
    c.line(25, 262, 185, 0.3, _BROWN)
    c.centred(266 + 10 * 0.88 / _K, QUERY_FOOTER, 10)
    return c.bytes()


_LABELS: Final = CertificateView("", "", "", "", "", "", 0, "", "", dt.date(2000, 1, 1)).lines()


def _value_right(index: int) -> float:
    return PHOTO_BOX[0] - 3 if index < _NARROW_LINES else RIGHT_EDGE


def _stamp(
    font: PrintFont, view: CertificateView, qr_text: str, use: GlyphUse, photo: PrintImage | None
) -> bytes:
    """What changes from one certificate to the next: the values, the photo (or its placeholder), the QR."""
    c = _Canvas(font, use, b"F2")
    for i, (_, _, value) in enumerate(view.lines()):
        try:
            ops, glyphs = _value_ops(font, i, value)
        except LayoutError as e:
            raise PdfError(
                "value_too_long",
                f"证书 {view.certificate_number} 的“{value}”过长，两行也排不下",
                f"certificate {view.certificate_number}: “{value}” is too long for two lines",
            ) from e
        c.ops.append(ops)
        use.update(glyphs)
    _photo_ops(c, photo)
    c.ops.append(_qr_ops(qr_text))
    below = verifier_line(qr_text)
    if below is not None:
        c.centred(QR_Y + QR_SIZE_MM + 5 + 8 * 0.88 / _K, below, 8, _GREY)
    return c.bytes()


@functools.lru_cache(maxsize=256)
def _value_ops(font: PrintFont, index: int, value: str) -> tuple[bytes, Mapping[int, str]]:
    """The value of labelled line ``index`` as drawn: its text operators and the glyphs they print. Kept,
    because most lines (ID type, occupation, work type, level, institution, issue date) are the same on every
    certificate of a batch, and fitting and encoding them again costs more than looking them up."""
    use = GlyphUse()
    c = _Canvas(font, use, b"F2")
    y, width_mm = LINES_Y + index * LINE_STEP, _value_right(index) - VALUE_X
    fitted = fit(value, width_mm * _K, font.width)
    size_mm = fitted.size / _K
    if len(fitted.lines) == 1:
        c.text(VALUE_X, y + 6.2 - (14 / _K - size_mm) / 2, value, fitted.size)
    else:
        c.text(VALUE_X, y + 0.3 + size_mm * 0.88, fitted.lines[0], fitted.size)
        c.text(VALUE_X, y + 0.3 + size_mm * 0.88 + size_mm * 1.18, fitted.lines[1], fitted.size)
    return c.bytes(), use.glyphs


def _photo_ops(c: _Canvas, photo: PrintImage | None) -> None:
    x, y, w, h = PHOTO_BOX
    if photo is None:
        c.text(x + (w - c.font.width(PLACEHOLDER, 12) / _K) / 2, y + h / 2 + 1.5, PLACEHOLDER, 12, _LIGHT)
        return
    # Fill the frame without distorting: scale to cover it, centre, and clip what does not have its 5:7 shape.
    scale = max(w / photo.width, h / photo.height)
    iw, ih = photo.width * scale, photo.height * scale
    ix, iy = x - (iw - w) / 2, y - (ih - h) / 2
    c.ops.append(
        b"q %s %s %s %s re W n %s 0 0 %s %s %s cm /Photo Do Q"
        % (number(x * _K), number((PAGE_H - y - h) * _K), number(w * _K), number(h * _K),
           number(iw * _K), number(ih * _K), number(ix * _K), number((PAGE_H - iy - ih) * _K))
    )  # fmt: skip
    c.rect(x, y, w, h, 0.3)


def _seal_ops(width: int, height: int) -> bytes:
    scale = SEAL_SIZE / max(width, height)
    w, h = width * scale, height * scale
    x, y = SEAL_CENTRE[0] - w / 2, SEAL_CENTRE[1] - h / 2
    return b"q %s 0 0 %s %s %s cm /Seal Do Q" % (
        number(w * _K),
        number(h * _K),
        number(x * _K),
        number((PAGE_H - y - h) * _K),
    )


def _qr_ops(qr_text: str) -> bytes:
    """The QR as filled rectangles (``qrimage.dark_runs``), in module units with y growing downwards from
    the code's top left corner (``cm``), quiet zone included in the 45 mm."""
    try:
        runs = dark_runs(qr_text, "{x} {y} {w} 1 re\n")
        modules = len(qr_matrix(qr_text)) + 2 * _QUIET_MODULES
    except QrImageError as e:
        raise PdfError("qr_too_long", "二维码内容过长，无法生成", "the QR text is too long to draw") from e
    unit = QR_SIZE_MM * _K / modules
    left = (PAGE_W - QR_SIZE_MM) / 2 * _K + _QUIET_MODULES * unit
    top = (PAGE_H - QR_Y) * _K - _QUIET_MODULES * unit
    head = b"q 0 g %s 0 0 %s %s %s cm\n" % (number(unit), number(-unit), number(left), number(top))
    return b"".join((head, runs.encode("ascii"), b"f Q"))  # one copy of the ~14 KB of rectangles, not two


__all__ = [
    "PHOTO_BOX",
    "QR_SIZE_MM",
    "QUERY_FOOTER",
    "CertificateView",
    "PageStamp",
    "PdfDocument",
    "PdfError",
    "certificate_pdf",
    "printed_text",
    "render_batch_pdf",
    "render_certificate_pdf",
    "stamp_page",
    "verifier_line",
    "write_pdf",
]
