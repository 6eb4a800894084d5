"""Verifying a whole hiring list at once: every certificate in many files, one verdict each.

An upload is a list of files, each a picture, a PDF (every page), a ZIP of such files, or a CSV or
XLSX table with a column of QR texts. ``find_items`` turns them into the things to verify — one per
QR code found, plus one per file or PDF page where none was found (an empty page of a batch PDF
must never pass unnoticed) — each with where it was found. The pictures and PDF pages are read by a ``FileReader``: in the verifier service, its decode pool
(worker processes under the kernel's limits, see ``verifier.decode_pool``), so a hostile file in a
batch meets the same limits as a single upload; in the CLI, this process (``read_in_process``: the
user's own machine and files). ``verify_items`` then judges the items on a pool of threads and
reports progress.

Limits are checked before anything is decoded, and a batch beyond them is refused whole with a
``BatchError``: never a partial answer. A PDF found to hold more pages than allowed while it is read
refuses the batch the same way.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Final

from common.errors import CataloguedError
from verifier.images import DecodedUpload, FoundCode, ImageError, ImageKind, count_pages, read_page, sniff
from verifier.verdict import Verdict
from verifier.verifier import HolderInput, Verifier

__all__ = [
    "BatchError",
    "BatchLimits",
    "FileReader",
    "Item",
    "Upload",
    "find_items",
    "read_in_process",
    "verify_items",
]

#: Reads every page of one picture or PDF: a page that fails is in ``failed_pages``; raises
#: ``ImageError`` only for the file as a whole.
FileReader = Callable[[bytes], DecodedUpload]

# A file refused for its size or page count refuses the batch (as the limits do); the service being
# too busy to read it refuses the batch too (503, try again): never a verdict on the certificate.
_REFUSING_CODES: Final = frozenset({"upload_too_large", "pdf_too_many_pages"})
_SERVICE_CODES: Final = frozenset({"decode_busy", "client_busy"})

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
class _File:
    """A picture or PDF waiting to be read."""

    source: dict[str, Any]
    data: bytes
    file_sha256: str
    items: list[Item] = field(default_factory=list)


def find_items(
    uploads: Sequence[Upload],
    *,
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    read: FileReader | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Item]:
    """Every certificate in the uploads, in upload order, each with where it was found.

    ``read`` reads each picture or PDF (default: ``read_in_process`` on ``workers`` threads);
    ``workers`` files are read at once. Progress counts the files read.
    """
    _check_upload_limits(uploads, limits)
    entries: list[Item | _File] = []
    for index, upload in enumerate(uploads):
        entries.extend(_expand(upload, {"file": upload.name or f"#{index + 1}"}, limits))
    files = [entry for entry in entries if isinstance(entry, _File)]
    threads = workers or os.cpu_count() or 2
    with contextlib.ExitStack() as stack:
        reader = read or partial(read_in_process, pages=stack.enter_context(ThreadPoolExecutor(threads)))
        pool = stack.enter_context(ThreadPoolExecutor(threads))

        def decode(file: _File) -> None:
            file.items = _items_of(file, reader)

        for done, _ in enumerate(pool.map(decode, files), start=1):
            if progress is not None:
                progress(done, len(files))
    items = [item for entry in entries for item in (entry.items if isinstance(entry, _File) else [entry])]
    if len(items) > limits.max_certificates:
        raise BatchError("batch_too_many_certificates", f"{len(items)} > {limits.max_certificates}")
    return items


def read_in_process(data: bytes, *, pages: Executor | None = None) -> DecodedUpload:
    """A file's pages read in this process (the CLI), on ``pages`` when given; a page that fails is
    recorded with its error and the other pages are still read."""
    kind = sniff(data)
    with tempfile.TemporaryDirectory(prefix="skillpass-batch-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        count = count_pages(path, kind)

        def page_of(page: int) -> tuple[int, tuple[FoundCode, ...] | ImageError]:
            try:
                return page, read_page(path, kind, page)
            except ImageError as e:
                return page, e

        numbers = range(1, count + 1)
        read = list(pages.map(page_of, numbers) if pages is not None else map(page_of, numbers))
    codes = tuple(code for _, found in read if not isinstance(found, ImageError) for code in found)
    failed = tuple((page, found) for page, found in read if isinstance(found, ImageError))
    return DecodedUpload(kind, count, codes, failed)


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


def _expand(upload: Upload, source: dict[str, Any], limits: BatchLimits) -> Iterator[Item | _File]:
    """A file as items (tables, QR texts) and files to read (pictures, PDFs, anything else)."""
    digest = hashlib.sha256(upload.data).hexdigest()
    suffix = PurePosixPath(upload.name).suffix.lower()
    if _is_zip(upload.data) and suffix != ".xlsx" and "member" not in source:
        yield from _zip(upload, source, limits)
    elif suffix in (".csv", ".xlsx"):
        yield from _table(upload, source, suffix, limits)
    elif suffix == ".txt" or upload.data.lstrip()[:2] == b"SP":  # QR text saved as a file
        yield Item(source, text=upload.data.decode("utf-8", errors="replace").strip(), file_sha256=digest)
    else:
        yield _File(source, upload.data, digest)


def _items_of(file: _File, read: FileReader) -> list[Item]:
    """One item per code found, one per page without a code or that failed, in page order."""
    try:
        decoded = read(file.data)
    except ImageError as e:
        if e.code in _REFUSING_CODES:
            raise BatchError("batch_file_too_large", f"{file.source['file']}: {e.code}") from e
        if e.code in _SERVICE_CODES:
            raise
        return [Item(file.source, error=e, file_sha256=file.file_sha256)]
    failed = dict(decoded.failed_pages)
    on_page: dict[int, list[FoundCode]] = {}
    for code in decoded.codes:
        on_page.setdefault(code.page, []).append(code)
    items: list[Item] = []
    for page in range(1, decoded.pages + 1):
        where = file.source | {"page": page} if decoded.kind is ImageKind.PDF else file.source
        codes = on_page.get(page, [])
        if page in failed or not codes:
            error = failed.get(page) or ImageError("qr_not_found")
            items.append(Item(where, error=error, file_sha256=file.file_sha256))
            continue
        many = len(codes) > 1
        items.extend(
            Item(
                where | ({"index": i + 1} if many else {}) | {"position": code.to_json()["position"]},
                text=code.text,
                file_sha256=file.file_sha256,
            )
            for i, code in enumerate(codes)
        )
    return items


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _zip(upload: Upload, source: dict[str, Any], limits: BatchLimits) -> Iterator[Item | _File]:
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
            yield from _expand(inner, source | {"member": member.filename}, limits)


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
