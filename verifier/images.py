"""QR texts out of uploaded pictures and PDFs, without trusting the upload.

An upload is hostile until proven otherwise: its type is sniffed from its first bytes (never from the
file name or the declared content type), its pixel dimensions are read from the header and bounded
before anything is decompressed, and PDFs are rendered by `pdftoppm` in a separate process with a
timeout, memory limit and a cropped output size, so a crafted file can cost us at most a bounded
amount of time and memory. Every refusal is an `ImageError` with a stable code and an HTTP status.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PIL import Image, ImageOps

from common.errors import SkillpassError
from common.qrimage import read_texts

__all__ = ["DEFAULT_IMAGE_LIMITS", "ImageError", "ImageKind", "ImageLimits", "decode_upload", "sniff"]

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
        "图片尺寸过大，请缩小后再上传",
        "the image has too many pixels; scale it down and try again",
    ),
    "upload_too_large": (413, "上传的文件过大（上限 10 MiB）", "the upload is too large (limit 10 MiB)"),
    "image_corrupt": (422, "图片文件已损坏，无法读取", "the image file is damaged and cannot be read"),
    "pdf_unreadable": (422, "无法读取该 PDF 的第一页", "the first page of this PDF cannot be read"),
    "qr_not_found": (
        422,
        "图片中没有找到二维码：请让二维码清晰、完整、占据画面的较大部分",
        "no QR code found in the picture: make it sharp, whole and large in the frame",
    ),
}


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
    """Bounds on what one upload may cost. 40 MP is a 7000×5700 photo, more than any phone takes."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 20_000
    pdf_dpi: int = 150
    pdf_max_side: int = 5000
    pdf_timeout_seconds: float = 15.0
    pdf_memory_bytes: int = 1024 * 1024 * 1024
    retry_max_side: int = 800


DEFAULT_IMAGE_LIMITS = ImageLimits()

# The PDF header may follow up to 1 KiB of junk, as PDF readers tolerate (ISO 32000 §7.5.2 note).
_PDF_SEARCH_BYTES = 1024


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
    """The QR text in an uploaded picture or PDF (first page).

    Prefers a code whose text starts with "SP"; otherwise returns the first code found, so that the
    engine can reject a foreign QR with a precise format code. Raises `ImageError` (`qr_not_found`
    when the picture holds no readable QR code).
    """
    if len(data) > limits.max_bytes:
        raise ImageError("upload_too_large")
    kind = sniff(data)
    if kind is ImageKind.PDF:
        data, kind = _render_pdf_first_page(data, limits), ImageKind.PNG
    texts = _find_texts(_open_bounded(data, kind, limits), limits)
    if not texts:
        raise ImageError("qr_not_found")
    return next((text for text in texts if text.startswith(QR_TEXT_PREFIX)), texts[0])


def _open_bounded(data: bytes, kind: ImageKind, limits: ImageLimits) -> Image.Image:
    """Read the header, check the dimensions, and only then decompress the pixels.

    Our own limits are far below Pillow's bomb thresholds, so Pillow's process-wide warning filter
    is left alone (changing it per call is not thread-safe); its bomb error is still mapped.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=[kind.value])
        _check_dimensions(image.size, limits)
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


def _find_texts(image: Image.Image, limits: ImageLimits) -> list[str]:
    """Try the picture as it is, then once more as a cleaned-up variant (phone photos)."""
    texts = read_texts(image)
    if texts:
        return texts
    return read_texts(_cleaned(image, limits))


def _cleaned(image: Image.Image, limits: ImageLimits) -> Image.Image:
    """Upright, grey, at most `retry_max_side` pixels, contrast stretched.

    Downscaling averages away sensor noise and JPEG blocking, which defeat the reader on large
    phone photos. We leave binarisation to the reader's local thresholding: a global threshold of
    our own lost codes under uneven light in our trials.
    """
    grey = ImageOps.exif_transpose(image).convert("L")
    grey.thumbnail((limits.retry_max_side, limits.retry_max_side), Image.Resampling.LANCZOS)
    return ImageOps.autocontrast(grey, cutoff=1)


def _render_pdf_first_page(data: bytes, limits: ImageLimits) -> bytes:
    """Rasterise page 1 with poppler in a child process we can bound, and return its PNG."""
    with tempfile.TemporaryDirectory(prefix="skillpass-pdf-") as tmp:
        source, target = Path(tmp) / "upload.pdf", Path(tmp) / "page"
        source.write_bytes(data)
        side = str(limits.pdf_max_side)
        render = ["pdftoppm", "-r", str(limits.pdf_dpi), "-f", "1", "-l", "1", "-singlefile", "-png",
                  "-x", "0", "-y", "0", "-W", side, "-H", side]  # fmt: skip
        argv = [*_memory_capped(limits.pdf_memory_bytes), *render, str(source), str(target)]
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=limits.pdf_timeout_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise ImageError("pdf_unreadable", "rendering timed out") from e
        except OSError as e:
            raise ImageError("pdf_unreadable", f"cannot run pdftoppm: {e}") from e
        png = target.with_suffix(".png")
        if result.returncode != 0 or not png.is_file():
            raise ImageError("pdf_unreadable", result.stderr.decode(errors="replace")[-300:])
        return png.read_bytes()


def _memory_capped(max_bytes: int) -> list[str]:
    """A shell prefix capping the child's address space so a bomb PDF fails fast.

    A shell's `ulimit` rather than `preexec_fn`, which is unsafe in a threaded server.
    """
    return ["sh", "-c", 'ulimit -v "$0" && exec "$@"', str(max_bytes // 1024)]
