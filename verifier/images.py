"""Every QR code in an uploaded picture or PDF, with where it was found, without trusting the upload.

An upload is hostile until proven otherwise: its type is sniffed from its first bytes (never from the
file name or the declared content type); its pixel dimensions and the memory its pixels would take
at their bit depth are read from the header and bounded before anything is decompressed; and PDF
pages are rendered one at a time by poppler in bounded child processes (`pdf_pages`). Every refusal
is an `ImageError` with a stable code and an HTTP status.

The unit of work is one page of a file on disk (`read_page`), so that the decode pool can give each
page its own limits and spread the pages of a large PDF over its workers; `read_codes` reads a whole
upload in this process (the CLI), `decode_upload` keeps the single-code answer of the first page.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from common import qrimage
from common.errors import SkillpassError
from common.qrimage import ReadCode
from verifier.pdf_pages import PdfLimits, PdfPageError, page_count, render_page

__all__ = [
    "DEFAULT_IMAGE_LIMITS",
    "IMAGE_ERROR_CODES",
    "DecodedUpload",
    "FoundCode",
    "ImageError",
    "ImageKind",
    "ImageLimits",
    "Position",
    "count_pages",
    "decode_upload",
    "read_codes",
    "read_page",
    "sniff",
    "upload_file",
]

QR_TEXT_PREFIX = "SP"

_ERRORS: dict[str, tuple[int, str, str]] = {
    "image_empty": (400, "上传的文件是空的", "the uploaded file is empty"),
    "image_unsupported": (
        415,
        "不支持的文件类型：请上传 PNG、JPEG、WebP 图片或 PDF",
        "unsupported file type: upload a PNG, JPEG or WebP image, or a PDF",
    ),
    "image_too_large": (
        413,
        "图片尺寸或色深过大，请缩小后再上传",
        "the image has too many pixels or too deep a colour depth; scale it down and try again",
    ),
    "upload_too_large": (413, "上传的文件过大（上限 10 MiB）", "the upload is too large (limit 10 MiB)"),
    "image_corrupt": (422, "图片文件已损坏，无法读取", "the image file is damaged and cannot be read"),
    "pdf_unreadable": (422, "无法读取该 PDF 的页面", "a page of this PDF cannot be read"),
    "pdf_too_many_pages": (413, "PDF 页数过多（上限 1000 页）", "the PDF has too many pages (limit 1000)"),
    "page_too_complex": (
        422,
        "该页内容过于复杂，无法在限定时间内读取",
        "a page is too complex to read within its time and memory limits",
    ),
    "client_busy": (
        429,
        "您同时上传的文件过多，请等前一个完成后再试",
        "too many uploads from you at once; wait for the previous one to finish",
    ),
    "decode_busy": (503, "服务繁忙，请稍后重试", "the service is busy; please try again in a moment"),
    "qr_not_found": (
        422,
        "图片中没有找到二维码：请让二维码清晰、完整、占据画面的较大部分",
        "no QR code found in the picture: make it sharp, whole and large in the frame",
    ),
}


IMAGE_ERROR_CODES = frozenset(_ERRORS)


class ImageError(SkillpassError):
    """An upload we refuse or cannot read; `status` is the HTTP status the service answers with."""

    def __init__(self, code: str, detail: str = "") -> None:
        status, zh, en = _ERRORS[code]
        super().__init__(code, zh, en, detail)
        self.status = status


class ImageKind(Enum):
    """File types we accept, each known by its magic bytes."""

    PNG = "PNG"
    JPEG = "JPEG"
    WEBP = "WEBP"
    PDF = "PDF"


@dataclass(frozen=True)
class ImageLimits:
    """Bounds on what one upload, and each of its pages, may cost.

    40 MP is a 7000×5700 photo, more than any phone takes. `max_decode_bytes` bounds the memory one
    page's pixels take once decompressed at their stored depth, plus the grey copy and the reader's
    working copy: a 40-megapixel 16-bit picture is refused from its header alone.
    """

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 20_000
    max_decode_bytes: int = 128 * 1024 * 1024
    max_pages: int = 1000
    retry_max_side: int = 800
    pdf: PdfLimits = field(default_factory=PdfLimits)


DEFAULT_IMAGE_LIMITS = ImageLimits()

# The PDF header may follow up to 1 KiB of junk, as PDF readers tolerate (ISO 32000 §7.5.2 note).
_PDF_SEARCH_BYTES = 1024
# Bytes per pixel Pillow stores for a mode (every multi-band mode takes 4); the reader adds 2 more.
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_WORKING_BYTES = 2


@dataclass(frozen=True)
class Position:
    """Where a code sits on its page: a box in pixels of the page as read (a PDF page at `pdf.dpi`)."""

    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class FoundCode:
    """One QR code's text, the page it is on (1 for a picture) and its place on that page."""

    text: str
    page: int
    position: Position

    def to_json(self) -> dict[str, Any]:
        """``{"text", "page", "position": {"left", "top", "width", "height"}}``."""
        return {"text": self.text, "page": self.page, "position": asdict(self.position)}


@dataclass(frozen=True)
class DecodedUpload:
    """Every code found in an upload, in reading order (page, then top to bottom, left to right)."""

    kind: ImageKind
    pages: int
    codes: tuple[FoundCode, ...]
    failed_pages: tuple[tuple[int, ImageError], ...] = ()  # only when read with `partial` (bulk)

    @property
    def pages_without_code(self) -> tuple[int, ...]:
        """Pages where no code was found: a page of a batch PDF the caller must not pass over."""
        found = {code.page for code in self.codes} | {page for page, _ in self.failed_pages}
        return tuple(page for page in range(1, self.pages + 1) if page not in found)

    def preferred_text(self) -> str:
        """The first code whose text looks like ours, else the first code: the engine then names
        a foreign QR precisely. Raises `qr_not_found` when there is none."""
        if not self.codes:
            raise ImageError("qr_not_found")
        texts = [code.text for code in self.codes]
        return next((text for text in texts if text.startswith(QR_TEXT_PREFIX)), texts[0])


def sniff(data: bytes) -> ImageKind:
    """The upload's type from its magic bytes; raises `image_empty` or `image_unsupported`."""
    if not data:
        raise ImageError("image_empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return ImageKind.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageKind.WEBP
    if b"%PDF-" in data[:_PDF_SEARCH_BYTES]:
        return ImageKind.PDF
    raise ImageError("image_unsupported")


def decode_upload(data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> str:
    """The one QR text to verify in an upload's first page (see `DecodedUpload.preferred_text`)."""
    return read_codes(data, limits, first_page_only=True).preferred_text()


def read_codes(
    data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, *, first_page_only: bool = False
) -> DecodedUpload:
    """Every QR code in an upload, every page of a PDF, read in this process."""
    with upload_file(data, limits) as (path, kind):
        pages = 1 if first_page_only else count_pages(path, kind, limits)
        codes = [code for page in range(1, pages + 1) for code in read_page(path, kind, page, limits)]
    return DecodedUpload(kind, pages, tuple(codes))


@contextmanager
def upload_file(data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> Iterator[tuple[Path, ImageKind]]:
    """The upload, size-checked and sniffed, in a private temporary file removed afterwards."""
    if len(data) > limits.max_bytes:
        raise ImageError("upload_too_large")
    kind = sniff(data)
    with tempfile.TemporaryDirectory(prefix="skillpass-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        yield path, kind


def count_pages(path: Path, kind: ImageKind, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> int:
    """1 for a picture; a PDF's page count, refused beyond `max_pages`."""
    if kind is not ImageKind.PDF:
        return 1
    try:
        pages = page_count(path, limits.pdf)
    except PdfPageError as e:
        raise _pdf_error(e) from e
    if pages < 1:
        raise ImageError("pdf_unreadable", "no pages")
    if pages > limits.max_pages:
        raise ImageError("pdf_too_many_pages", f"{pages} pages")
    return pages


def read_page(
    path: Path, kind: ImageKind, page: int, limits: ImageLimits = DEFAULT_IMAGE_LIMITS
) -> tuple[FoundCode, ...]:
    """The codes on one page (1-based) of the upload at `path`, in reading order."""
    if kind is not ImageKind.PDF:
        return _codes_in(path, kind, page, limits)
    with tempfile.TemporaryDirectory(prefix="skillpass-page-") as folder:
        try:
            pgm = render_page(path, page, Path(folder) / "page", limits.pdf)
        except PdfPageError as e:
            raise _pdf_error(e, page) from e
        return _codes_in(pgm, None, page, limits)


def _codes_in(path: Path, kind: ImageKind | None, page: int, limits: ImageLimits) -> tuple[FoundCode, ...]:
    image = _open_bounded(path, kind, limits)
    found = sorted(_find_codes(image, limits), key=lambda code: (code.top, code.left))
    return tuple(
        FoundCode(
            code.text, page, Position(code.left, code.top, code.right - code.left, code.bottom - code.top)
        )
        for code in found
    )


def _pdf_error(e: PdfPageError, page: int | None = None) -> ImageError:
    where = "" if page is None else f"page {page}: "
    code = "page_too_complex" if e.reason == "too_complex" else "pdf_unreadable"
    return ImageError(code, where + e.detail)


def _open_bounded(path: Path, kind: ImageKind | None, limits: ImageLimits) -> Image.Image:
    """Read the header, check dimensions and decoded size, and only then decompress the pixels.

    A JPEG is decoded straight to grey (its decoder can, at no cost), which is all the reader needs.
    Our own limits are far below Pillow's bomb thresholds, so Pillow's process-wide warning filter
    is left alone (changing it per call is not thread-safe); its bomb error is still mapped.
    """
    formats = None if kind is None else [kind.value]
    try:
        image = Image.open(path, formats=formats)
        _check_dimensions(image.size, limits)
        if image.format == "JPEG":
            image.draft("L", image.size)
        _check_decoded_size(image, limits)
        image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError("image_too_large", str(e)) from e
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as e:
        raise ImageError("image_corrupt", str(e)) from e
    return image


def _check_dimensions(size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError("image_corrupt", f"dimensions {width}x{height}")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise ImageError("image_too_large", f"{width}x{height}")


def _check_decoded_size(image: Image.Image, limits: ImageLimits) -> None:
    """The pixel and bit-depth budget, from the header: stored bytes per pixel plus working copies."""
    width, height = image.size
    decoded = width * height * (_STORED_BYTES.get(image.mode, 4) + _WORKING_BYTES)
    if decoded > limits.max_decode_bytes:
        raise ImageError("image_too_large", f"{width}x{height} {image.mode}: {decoded} bytes decoded")


def _find_codes(image: Image.Image, limits: ImageLimits) -> list[ReadCode]:
    """Try the picture as it is, then once more as a cleaned-up variant (phone photos)."""
    codes = qrimage.read_codes(_grey(image))
    if codes:
        return codes
    cleaned = _cleaned(image, limits)
    return [_scaled(code, image.width / cleaned.width) for code in qrimage.read_codes(cleaned)]


def _scaled(code: ReadCode, scale: float) -> ReadCode:
    """A code found on the downscaled retry, placed back on the picture as uploaded."""
    left, top, right, bottom = (
        round(value * scale) for value in (code.left, code.top, code.right, code.bottom)
    )
    return ReadCode(code.text, left, top, right, bottom)


def _grey(image: Image.Image) -> Image.Image:
    """8-bit grey; 16-bit grey is scaled down, not clipped (clipping turns it all white)."""
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.point(lambda value: value / 256).convert("L")
    return image.convert("L")


def _cleaned(image: Image.Image, limits: ImageLimits) -> Image.Image:
    """Upright, grey, at most `retry_max_side` pixels, contrast stretched.

    Downscaling averages away sensor noise and JPEG blocking, which defeat the reader on large
    phone photos. We leave binarisation to the reader's local thresholding: a global threshold of
    our own lost codes under uneven light in our trials.
    """
    grey = _grey(ImageOps.exif_transpose(image))
    grey.thumbnail((limits.retry_max_side, limits.retry_max_side), Image.Resampling.LANCZOS)
    return ImageOps.autocontrast(grey, cutoff=1)
