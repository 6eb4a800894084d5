"""The printable certificate: one A4 portrait page after the national reference style, with the QR.

Layout (millimetres, A4 210 x 297): a double frame; the title 职业技能等级证书 with "Vocational Skill Level
Certificate" beneath; the photo top right (the roster's photo, else a framed placeholder 照片); labelled
lines 姓名, 证件类型, 证件号码, 职业名称 (with code), 工种/职业方向, 职业技能等级, 证书编号, 评价机构, 发证日期; the
QR (45 mm, error correction Q, drawn from ``common.qrimage``); and the national query addresses.

ID number decision: the paper prints the *full* ID number, as the national reference style does. The paper is
the holder's own document and is shown in person together with the ID card; the QR, which anyone who sees the
paper can copy and which verifiers store, carries only the masked form (``MaskedId``). ``CertificateView``
takes the number exactly as it should be printed (``id_number_display``), so a caller that wants a masked
print passes ``MaskedId.display()``.

Text is set in the CJK face from ``fonts`` (embedded and subset by fpdf2, ~30 KB per page). The creation date
is the issue date, so the same certificate always renders to the same bytes. Every string is checked against
the font's cmap first: a character the font lacks raises ``PdfError`` instead of printing blank.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fpdf import FPDF
from PIL import Image, UnidentifiedImageError

from common.errors import SkillpassError
from common.qrimage import QrImageError, render_png
from issuer.fonts import FontFace, cjk_font, missing_glyphs
from schemas.vocabulary import LEVEL_NAMES, LEVEL_NAMES_EN

QUERY_FOOTER: Final = "证书查询 http://jndj.osta.org.cn　机构查询 http://pjjg.osta.org.cn"
QR_SIZE_MM: Final = 45.0
_FONT: Final = "cjk"
_PAGE_W: Final = 210.0
_PHOTO: Final = (150.0, 66.0, 33.0, 45.0)  # x, y, w, h: a 2-inch ID photo
_LABEL_X: Final = 28.0
_VALUE_X: Final = 68.0
_LINES_Y: Final = 70.0
_LINE_STEP: Final = 11.5
_RIGHT_EDGE: Final = 184.0
_QR_SCALE: Final = 6

# fpdf2 reports missing glyphs through logging; we check glyphs ourselves, so keep its log quiet.
logging.getLogger("fpdf").setLevel(logging.ERROR)


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
    photo: Path | None = None

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


def printed_text(view: CertificateView) -> str:
    """Every character the page will print (for font subsetting and glyph checks)."""
    fixed = "职业技能等级证书Vocational Skill Level Certificate照片扫码验证Scan to verify" + QUERY_FOOTER
    labels = "".join(zh + en for zh, en, _ in view.lines())
    return (
        fixed + labels + "".join(value for _, _, value in view.lines()) + LEVEL_NAMES_EN.get(view.level, "")
    )


def render_certificate_pdf(
    cert: CertificateView, qr_text: str, *, font: FontFace | None = None, keywords: str = ""
) -> bytes:
    """One A4 page as PDF bytes. ``font`` defaults to the installed CJK face; a batch passes its subset.
    ``keywords`` goes into the document information (``render`` stores its input fingerprint there)."""
    return render_batch_pdf([(cert, qr_text)], font=font, keywords=keywords)


def render_batch_pdf(
    certs: Sequence[tuple[CertificateView, str]], *, font: FontFace | None = None, keywords: str = ""
) -> bytes:
    """One page per certificate in a single PDF (the batch's print file)."""
    if not certs:
        raise PdfError("pdf_empty", "没有要打印的证书", "no certificates to print")
    face = font or cjk_font()
    pdf = _new_document(face, max(view.issue_date for view, _ in certs))
    if keywords:
        pdf.set_keywords(keywords)
    for view, qr_text in certs:
        _check_glyphs(view)
        _page(pdf, view, qr_text)
    return bytes(pdf.output())


def _new_document(face: FontFace, created: dt.date) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_creation_date(dt.datetime(created.year, created.month, created.day, tzinfo=dt.UTC))
    pdf.set_title("职业技能等级证书 Vocational Skill Level Certificate")
    pdf.set_creator("skillpass")
    pdf.add_font(_FONT, fname=str(face.path), collection_font_number=face.index)
    return pdf


def _check_glyphs(view: CertificateView) -> None:
    lacking = missing_glyphs(printed_text(view))
    if lacking:
        chars = "、".join(f"{c}（U+{ord(c):04X}）" for c in lacking)
        raise PdfError(
            "name_glyph_missing",
            f"证书 {view.certificate_number} 含有字体无法显示的字：{chars}",
            f"certificate {view.certificate_number} has characters the font cannot print: {chars}",
        )


def _page(pdf: FPDF, view: CertificateView, qr_text: str) -> None:
    pdf.add_page()
    _frame(pdf)
    _title(pdf)
    _photo(pdf, view.photo)
    for i, (zh, en, value) in enumerate(view.lines()):
        _line(pdf, _LINES_Y + i * _LINE_STEP, zh, en, value, narrow=i < 4)
    _qr(pdf, qr_text)
    _footer(pdf)


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(150, 110, 40)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 184, 271)
    pdf.set_draw_color(0, 0, 0)


def _centred(pdf: FPDF, y: float, text: str, size: float) -> None:
    pdf.set_font(_FONT, size=size)
    pdf.set_xy(0, y)
    pdf.cell(w=_PAGE_W, h=size * 0.45, text=text, align="C")


def _title(pdf: FPDF) -> None:
    pdf.set_text_color(150, 30, 30)
    _centred(pdf, 30, "职业技能等级证书", 30)
    pdf.set_text_color(90, 90, 90)
    _centred(pdf, 46, "Vocational Skill Level Certificate", 12)
    pdf.set_text_color(0, 0, 0)


def _photo(pdf: FPDF, photo: Path | None) -> None:
    x, y, w, h = _PHOTO
    pdf.set_line_width(0.3)
    if photo is None:
        pdf.rect(x, y, w, h)
        pdf.set_text_color(140, 140, 140)
        pdf.set_font(_FONT, size=12)
        pdf.set_xy(x, y + h / 2 - 3)
        pdf.cell(w=w, h=6, text="照片", align="C")
        pdf.set_text_color(0, 0, 0)
        return
    pdf.image(_photo_bytes(photo), x=x, y=y, w=w, h=h)
    pdf.rect(x, y, w, h)


def _photo_bytes(path: Path) -> io.BytesIO:
    """The photo re-encoded as a JPEG at print size (a phone photo would otherwise bloat every PDF)."""
    try:
        with Image.open(path) as original:
            image = original.convert("RGB")
        image.thumbnail((390, 530))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise PdfError("photo_unreadable", f"照片 {path} 无法读取", f"cannot read the photo {path}") from e
    out.seek(0)
    return out


def _line(pdf: FPDF, y: float, zh: str, en: str, value: str, *, narrow: bool) -> None:
    pdf.set_text_color(90, 90, 90)
    pdf.set_font(_FONT, size=12)
    pdf.set_xy(_LABEL_X, y)
    pdf.cell(w=_VALUE_X - _LABEL_X, h=5, text=zh)
    pdf.set_font(_FONT, size=6.5)
    pdf.set_xy(_LABEL_X, y + 5)
    pdf.cell(w=_VALUE_X - _LABEL_X, h=3, text=en)
    pdf.set_text_color(0, 0, 0)
    right = _PHOTO[0] - 3 if narrow else _RIGHT_EDGE
    _fitted(pdf, _VALUE_X, y, right - _VALUE_X, value)


def _fitted(pdf: FPDF, x: float, y: float, width: float, text: str) -> None:
    """``text`` on one line, shrunk from 14 pt until it fits ``width`` (long institution names)."""
    size = 14.0
    pdf.set_font(_FONT, size=size)
    while size > 7 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font(_FONT, size=size)
    pdf.set_xy(x, y)
    pdf.cell(w=width, h=6, text=text)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    pdf.line(x, y + 7, x + width, y + 7)
    pdf.set_draw_color(0, 0, 0)


def _qr(pdf: FPDF, qr_text: str) -> None:
    try:
        png = render_png(qr_text, scale=_QR_SCALE)
    except QrImageError as e:
        raise PdfError("qr_too_long", "二维码内容过长，无法生成", "the QR text is too long to draw") from e
    x = (_PAGE_W - QR_SIZE_MM) / 2
    y = 181.0
    pdf.image(io.BytesIO(png), x=x, y=y, w=QR_SIZE_MM, h=QR_SIZE_MM)
    pdf.set_text_color(90, 90, 90)
    _centred(pdf, y + QR_SIZE_MM + 1, "扫码验证 Scan to verify", 9)
    pdf.set_text_color(0, 0, 0)


def _footer(pdf: FPDF) -> None:
    pdf.set_draw_color(150, 110, 40)
    pdf.set_line_width(0.3)
    pdf.line(25, 262, 185, 262)
    pdf.set_draw_color(0, 0, 0)
    _centred(pdf, 266, QUERY_FOOTER, 10)


__all__ = [
    "QUERY_FOOTER",
    "CertificateView",
    "PdfError",
    "printed_text",
    "render_batch_pdf",
    "render_certificate_pdf",
]
