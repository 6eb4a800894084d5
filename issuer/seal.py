"""The institution's seal (公章) printed over the issue date: a PNG with transparency from the institution's
own configuration (``skillpass issue --seal``), the same on every certificate of a batch, so each PDF embeds
it once (colour and alpha as two deflated images, the alpha as the colour's soft mask).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, UnidentifiedImageError

from common.errors import SkillpassError

MAX_BYTES: Final = 2 * 1024 * 1024
_MAX_SIDE: Final = 600  # 40 mm at ~380 dpi


class SealError(SkillpassError):
    """A seal image that cannot be used; stable ``code`` and messages in Chinese and English."""


@dataclass(frozen=True)
class SealImage:
    """The seal ready for the PDF: deflated 8-bit RGB and alpha planes and their pixel size."""

    rgb: bytes
    alpha: bytes
    width: int
    height: int


def check_seal(path: Path) -> None:
    """Refuse, before anything is submitted, a seal that is not a PNG with transparency."""
    load_seal(path)


def load_seal(path: Path) -> SealImage:
    """The seal file read and prepared (cached per process by path, size and modification time)."""
    try:
        stat = path.stat()
    except OSError as e:
        raise _invalid(path) from e
    return _load(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load(path: Path, size: int, mtime: int) -> SealImage:
    del mtime  # part of the cache key only
    if size > MAX_BYTES:
        raise _invalid(path)
    try:
        with Image.open(path) as image:
            if image.format != "PNG" or not _has_alpha(image):
                raise _invalid(path)
            rgba = image.convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        raise _invalid(path) from e
    rgba.thumbnail((_MAX_SIDE, _MAX_SIDE))
    rgb, alpha = rgba.convert("RGB"), rgba.getchannel("A")
    return SealImage(
        zlib.compress(rgb.tobytes(), 6), zlib.compress(alpha.tobytes(), 6), rgba.width, rgba.height
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _invalid(path: Path) -> SealError:
    return SealError(
        "seal_invalid",
        f"公章图片 {path} 无法使用：须为带透明背景的 PNG，不超过 2 MiB",
        f"the seal image {path} cannot be used: it must be a PNG with transparency, at most 2 MiB",
    )


__all__ = ["SealError", "SealImage", "check_seal", "load_seal"]
