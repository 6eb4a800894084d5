"""Verifying a whole hiring list at once: every certificate in many files, one verdict each.

An upload is a list of files, each a picture, a PDF (every page), a ZIP of such files, or a CSV or
XLSX table with a column of QR texts. ``find_items`` turns them into the things to verify — one per
QR code found, plus one per file or PDF page where none was found (an empty page of a batch PDF
must never pass unnoticed) — each with where it was found. ``verify_items`` judges them on a pool of
threads (zxing-cpp and poppler release the GIL, so decoding uses every core) and reports progress.

Limits are checked before anything is decoded, and a batch beyond them is refused whole with a
``BatchError``: never a partial answer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

from common.errors import CataloguedError
from verifier.images import ImageError, ImageKind, count_pages, read_page, sniff
from verifier.verdict import UNRECOGNIZED_IMAGE_CODES, Verdict
from verifier.verifier import HolderInput, Verifier

__all__ = ["BatchError", "BatchLimits", "Item", "Upload", "find_items", "verify_items"]

_QR_HEADERS: Final = frozenset({"qr", "qr_text", "qrcode", "二维码", "二维码内容", "二维码文本"})
_QR_PREFIXES: Final = ("SP", "HTTP://", "HTTPS://")

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "batch_empty": ("没有上传任何文件", "no files were uploaded"),
    "batch_too_many_files": ("一次上传的文件过多", "too many files in one batch"),
    "batch_too_large": ("上传的文件总量过大", "the batch is too large in total"),
    "batch_file_too_large": ("其中一个文件过大", "one of the files is too large"),
    "batch_too_many_certificates": ("一次核验的证书过多", "too many certificates in one batch"),
    "zip_unreadable": ("ZIP 文件已损坏或已加密，无法读取", "a ZIP file is damaged or encrypted"),
    "zip_too_large": (
        "ZIP 文件解压后过大或文件过多",
        "a ZIP file unpacks to too much data or too many files",
    ),
    "table_unreadable": ("表格文件无法读取", "a CSV or XLSX file cannot be read"),
    "table_without_qr": (
        "表格中没有二维码文本列（列名“二维码”或“qr”，或以 SP2: 开头的内容或核验网址）",
        "a table has no column of QR texts (headed 二维码 or qr, or holding texts starting with SP2: or a verifier URL)",
    ),
}


class BatchError(CataloguedError):
    """A batch refused whole (HTTP 413 for the size limits, 422 otherwise)."""

    catalogue = _MESSAGES

    @property
    def status(self) -> int:
        """The HTTP status the service answers with."""
        return 413 if "large" in self.code or "many" in self.code else 422


@dataclass(frozen=True)
class BatchLimits:
    """What one batch may hold (docs/verifier.md): 1,000 pictures, or a 1,000-page batch PDF."""

    max_files: int = 1000
    max_total_bytes: int = 256 * 1024 * 1024
    max_file_bytes: int = 64 * 1024 * 1024  # a batch PDF; each picture's pixels stay bounded by ImageLimits
    max_certificates: int = 2000
    max_zip_members: int = 2000
    max_zip_bytes: int = 512 * 1024 * 1024
    max_table_rows: int = 2000


DEFAULT_BATCH_LIMITS: Final = BatchLimits()


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name (only for the report) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Item:
    """One thing to verify: a QR text, or a file or page with none (then ``error`` says why)."""

    source: dict[str, Any]
    text: str | None = None
    error: ImageError | None = None
    file_sha256: str = ""


@dataclass
class _Page:
    """A page of a picture or PDF waiting to be decoded."""

    source: dict[str, Any]
    path: Path
    kind: ImageKind
    page: int
    file_sha256: str
    items: list[Item] = field(default_factory=list)


def find_items(
    uploads: Sequence[Upload],
    *,
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Item]:
    """Every certificate in the uploads, in upload order, each with where it was found."""
    _check_upload_limits(uploads, limits)
    with tempfile.TemporaryDirectory(prefix="skillpass-batch-") as folder:
        entries: list[Item | _Page] = []
        for index, upload in enumerate(uploads):
            entries.extend(_expand(upload, {"file": upload.name or f"#{index + 1}"}, Path(folder), limits))
        pages = [entry for entry in entries if isinstance(entry, _Page)]
        done = 0

        def decode(page: _Page) -> None:
            page.items = _decode_page(page)

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            for _ in pool.map(decode, pages):
                done += 1
                if progress is not None:
                    progress(done, len(pages))
        items = [item for entry in entries for item in (entry.items if isinstance(entry, _Page) else [entry])]
    if len(items) > limits.max_certificates:
        raise BatchError("batch_too_many_certificates", f"{len(items)} > {limits.max_certificates}")
    return items


def verify_items(
    items: Sequence[Item],
    verifier: Verifier,
    *,
    holder: HolderInput | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Item, Verdict]]:
    """A verdict for every item, in order (online ones wait on the registry in parallel)."""

    def judge(item: Item) -> tuple[Item, Verdict]:
        if item.text is None:
            error = item.error or ImageError("qr_not_found")
            return item, verifier.unrecognized(error.code, (error.message_zh, error.message_en))
        return item, verifier.verify_text(item.text, holder=holder)

    answers: list[tuple[Item, Verdict]] = []
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for answer in pool.map(judge, items):
            answers.append(answer)
            if progress is not None:
                progress(len(answers), len(items))
    return answers


def item_sha256(item: Item) -> str:
    """What a receipt records for an item (see ``verifier.receipt``)."""
    if item.text is None:
        return item.file_sha256
    from credential import CredentialError, decode

    try:
        return hashlib.sha256(decode(item.text).cose_bytes).hexdigest()
    except CredentialError:
        return hashlib.sha256(item.text.encode()).hexdigest()


# ---- limits


def _check_upload_limits(uploads: Sequence[Upload], limits: BatchLimits) -> None:
    if not uploads:
        raise BatchError("batch_empty")
    if len(uploads) > limits.max_files:
        raise BatchError("batch_too_many_files", f"{len(uploads)} > {limits.max_files}")
    total = sum(len(upload.data) for upload in uploads)
    if total > limits.max_total_bytes:
        raise BatchError("batch_too_large", f"{total} bytes > {limits.max_total_bytes}")
    for upload in uploads:
        if len(upload.data) > limits.max_file_bytes and not _is_zip(upload.data):
            raise BatchError("batch_file_too_large", f"{upload.name}: {len(upload.data)} bytes")


# ---- what each file holds


def _expand(
    upload: Upload, source: dict[str, Any], folder: Path, limits: BatchLimits
) -> Iterator[Item | _Page]:
    """A file as items (tables, unreadable files) and pages to decode (pictures, PDFs)."""
    digest = hashlib.sha256(upload.data).hexdigest()
    suffix = PurePosixPath(upload.name).suffix.lower()
    if _is_zip(upload.data) and suffix != ".xlsx" and "member" not in source:
        yield from _zip(upload, source, folder, limits)
    elif suffix in (".csv", ".xlsx"):
        yield from _table(upload, source, suffix, limits)
    elif suffix == ".txt" or upload.data.lstrip()[:2] == b"SP":  # QR text saved as a file
        yield Item(source, text=upload.data.decode("utf-8", errors="replace").strip(), file_sha256=digest)
    else:
        yield from _pictures(upload.data, source, folder, digest)


def _pictures(data: bytes, source: dict[str, Any], folder: Path, digest: str) -> Iterator[Item | _Page]:
    try:
        kind = sniff(data)
    except ImageError as e:
        yield Item(source, error=e, file_sha256=digest)
        return
    path = folder / f"{digest}.upload"  # the same file uploaded twice is stored once
    if not path.exists():
        path.write_bytes(data)
    try:
        pages = count_pages(path, kind)
    except ImageError as e:
        if e.code not in UNRECOGNIZED_IMAGE_CODES:
            raise BatchError("batch_file_too_large", f"{source['file']}: {e.code}") from e
        yield Item(source, error=e, file_sha256=digest)
        return
    for page in range(1, pages + 1):
        where = source | {"page": page} if kind is ImageKind.PDF else source
        yield _Page(where, path, kind, page, digest)


def _decode_page(page: _Page) -> list[Item]:
    try:
        codes = read_page(page.path, page.kind, page.page)
    except ImageError as e:
        return [Item(page.source, error=e, file_sha256=page.file_sha256)]
    if not codes:
        return [Item(page.source, error=ImageError("qr_not_found"), file_sha256=page.file_sha256)]
    many = len(codes) > 1
    return [
        Item(
            page.source | ({"index": i + 1} if many else {}) | {"position": code.to_json()["position"]},
            text=code.text,
            file_sha256=page.file_sha256,
        )
        for i, code in enumerate(codes)
    ]


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _zip(upload: Upload, source: dict[str, Any], folder: Path, limits: BatchLimits) -> Iterator[Item | _Page]:
    """The members of a ZIP (folders and macOS metadata skipped), each as if uploaded alone."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.data))
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise BatchError("zip_unreadable", f"{upload.name}: {e}") from e
    if len(members) > limits.max_zip_members or sum(m.file_size for m in members) > limits.max_zip_bytes:
        raise BatchError("zip_too_large", upload.name)
    with archive:
        for member in members:
            if member.flag_bits & 0x1:
                raise BatchError("zip_unreadable", f"{upload.name}: encrypted")
            if member.file_size > limits.max_file_bytes:
                raise BatchError("batch_file_too_large", f"{upload.name}/{member.filename}")
            data = _read_member(archive, member, limits.max_file_bytes, upload.name)
            inner = Upload(member.filename, data)
            yield from _expand(inner, source | {"member": member.filename}, folder, limits)


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    """A member's bytes, never more than ``limit`` whatever its header claims (zip bombs)."""
    try:
        with archive.open(member) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as e:
        raise BatchError("zip_unreadable", f"{name}/{member.filename}: {e}") from e
    if len(data) > limit:
        raise BatchError("batch_file_too_large", f"{name}/{member.filename}")
    return data


def _table(upload: Upload, source: dict[str, Any], suffix: str, limits: BatchLimits) -> Iterator[Item]:
    """The QR texts of a table's QR column, one item per non-empty cell, with its row number."""
    rows = _csv_rows(upload) if suffix == ".csv" else _xlsx_rows(upload, limits)
    rows = rows[: limits.max_table_rows + 2]
    if len(rows) > limits.max_table_rows + 1:
        raise BatchError(
            "batch_too_many_certificates", f"{upload.name}: more than {limits.max_table_rows} rows"
        )
    column, first = _qr_column(rows)
    if column is None:
        raise BatchError("table_without_qr", upload.name)
    for number, row in enumerate(rows[first:], start=first + 1):
        cell = row[column].strip() if column < len(row) else ""
        if cell:
            yield Item(source | {"row": number}, text=cell)


def _csv_rows(upload: Upload) -> list[list[str]]:
    try:
        text = upload.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = upload.data.decode("gb18030")  # what Excel in China saves CSV as
        except UnicodeDecodeError as e:
            raise BatchError("table_unreadable", f"{upload.name}: not UTF-8 or GB 18030") from e
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as e:
        raise BatchError("table_unreadable", f"{upload.name}: {e}") from e


def _xlsx_rows(upload: Upload, limits: BatchLimits) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(upload.data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True, max_row=limits.max_table_rows + 2):
            rows.append(["" if value is None else str(value) for value in row])
        book.close()
    except Exception as e:  # openpyxl raises many kinds of error for a damaged file
        raise BatchError("table_unreadable", f"{upload.name}: {type(e).__name__}") from e
    return rows


def _qr_column(rows: list[list[str]]) -> tuple[int | None, int]:
    """(column index, first data row index): a column headed like "二维码"/"qr", else the first
    column whose cells look like QR texts (then there may be no header)."""
    if rows:
        for index, header in enumerate(rows[0]):
            if header.strip().lower() in _QR_HEADERS:
                return index, 1
    for row in rows[:20]:
        for index, cell in enumerate(row):
            if cell.strip().upper().startswith(_QR_PREFIXES):
                first = rows[0][index] if index < len(rows[0]) else ""
                return index, 0 if first.strip().upper().startswith(_QR_PREFIXES) else 1
    return None, 0
