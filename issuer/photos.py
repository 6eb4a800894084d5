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
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from common.errors import SkillpassError
from issuer.jpeg_header import EXIF_ORIENTATION, Jpeg, read_jpeg

MIN_SIZE: Final = (295, 413)
MAX_BYTES: Final = 2 * 1024 * 1024
FORMATS: Final = ("JPEG", "PNG")
#: The print image: ~360 dpi over the 25 x 35 mm frame; a JPEG this small or smaller is embedded as it is.
PRINT_SIZE: Final = (354, 496)
_PASS_THROUGH_BYTES: Final = 256 * 1024
_PASS_THROUGH_PIXELS: Final = (1200, 1680)
_ROTATED: Final = frozenset({5, 6, 7, 8})


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
    header = read_jpeg(data, whole=True)
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
    header = read_jpeg(data, whole=False)
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
        and _small_and_upright(size, image.width, image.height, _orientation(image))
    )


def _header_passes_through(header: Jpeg, size: int) -> bool:
    """``_passes_through`` asked of what the header reader learnt (its JPEGs are always RGB or grey)."""
    return _small_and_upright(size, header.width, header.height, header.orientation)


def _small_and_upright(size: int, width: int, height: int, orientation: int) -> bool:
    """Small enough to embed as it is, and needing no turn (``orientation`` as ``_orientation`` reads it)."""
    return (
        size <= _PASS_THROUGH_BYTES
        and width <= _PASS_THROUGH_PIXELS[0]
        and height <= _PASS_THROUGH_PIXELS[1]
        and orientation == 1
    )


def _orientation(image: Image.Image) -> int:
    return int(image.getexif().get(EXIF_ORIENTATION, 1) or 1)


def _check_decodes(image: Image.Image) -> None:
    """Decode the picture cheaply (JPEG at 1/8 scale), so a truncated file is refused before signing. (A side
    under 8 px asks for at least 1 px: Pillow's ``draft`` divides by the size asked.)"""
    if image.format == "JPEG":
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


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
