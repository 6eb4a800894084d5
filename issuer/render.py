"""Write every certificate's files — ``<certno>.txt`` (QR text), ``.png`` (QR at level Q) and ``.pdf``, and
``.svg`` (the QR as vectors) when asked — in parallel across cores, safely under crashes and cheaply on re-runs.

- Few files: each file is a new inode, and creating one is the costliest system call of a certificate (on
  some file systems far more than drawing its QR), so the SVG, which no one receives by default (the holder
  gets the PDF, the PNG and the text; the PDF already holds the QR as vectors), is written only on request
  (``svg``; ``skillpass issue --svg``).
- Atomic: each file is written under a temporary name in the same folder and renamed into place, so a run
  killed at any moment never leaves a half-written file under a final name.
- Idempotent: a file that already holds the right content is not touched. For the QR files the right content
  is cheap to compute and compare. A PDF is costly to render, so each PDF carries a fingerprint of everything
  it shows (``skillpass-render:<sha256>`` in its Keywords); a PDF whose fingerprint matches is kept unread.
  The batch print file is the exception: it is written whole whenever it is asked for (``run`` asks until
  its journal records it), since its pages come from the stamps drawn in the same pass.
- Fast: PDFs are a template laid out once per process with each certificate stamped on it (``pdf``), their
  font cut from a *batch subset* of the CJK face (``fonts.batch_subset``); items are rendered in chunks on a
  process pool, one chunk per task. The batch print file is written here as the chunks come back, in
  order, from the pages the workers stamped: each page is drawn once for both files, and the print file is
  never held in memory.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import errno
import functools
import hashlib
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from common.errors import SkillpassError
from common.paging import in_pages
from common.qrimage import render_png, render_svg
from issuer.fonts import FontFace, batch_subset
from issuer.pdf import CertificateView, PageStamp, PdfDocument, certificate_pdf, printed_text, stamp_page
from issuer.processes import worker_count, worker_processes
from issuer.progress import Progress

RENDER_VERSION: Final = "2"  # 2: template and stamp, 1-inch photo, vector QR
_MARKER: Final = "skillpass-render:"
_SAFE_NAME: Final = re.compile(r"[A-Z0-9]{1,40}")
_TMP: Final = re.compile(r"\..+\.(\d+)\.tmp")
_MAX_CHUNK: Final = 32


class RenderError(SkillpassError):
    """Outputs that cannot be written; stable ``code`` and messages in Chinese and English."""


@dataclass(frozen=True)
class RenderItem:
    """One certificate to render: what it shows and its QR text."""

    view: CertificateView
    qr_text: str


@dataclass(frozen=True)
class RenderedPaths:
    """Where one certificate's files are (``svg`` None when not asked for), and which of them this run
    (re)wrote (``"png"``, ``"pdf"``, …)."""

    certificate_number: str
    txt: Path
    png: Path
    svg: Path | None
    pdf: Path
    written: tuple[str, ...] = ()


def render_outputs(
    items: Sequence[RenderItem],
    out_dir: Path,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    font: FontFace | None = None,
    batch_pdf: Path | None = None,
    svg: bool = False,
) -> list[RenderedPaths]:
    """Write all files of all items into ``out_dir``; results in the order of ``items``.

    ``workers`` defaults to the number of cores; 1 renders in this process. ``font`` defaults to a batch
    subset of the installed CJK face. With ``batch_pdf``, the batch print file is written there too, one
    page per item in order; with ``svg``, each QR as an SVG file too. Every certificate number is checked
    before any file is written.
    """
    for item in items:
        _safe_name(item.view.certificate_number)
    if not items:
        out_dir.mkdir(parents=True, exist_ok=True)
        return []
    face = font or batch_subset(printed_text(item.view, item.qr_text) for item in items)
    return list(
        render_each(
            items, len(items), out_dir, face, workers=workers, progress=progress, batch_pdf=batch_pdf, svg=svg
        )
    )


def render_each(
    items: Iterable[RenderItem],
    count: int,
    out_dir: Path,
    face: FontFace,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    batch_pdf: Path | None = None,
    svg: bool = False,
) -> Iterator[RenderedPaths]:
    """``render_outputs`` for a run of any size: the ``count`` items are taken as they come, a few chunks in
    flight at a time, and each result is handed on as soon as it is in (memory flat in the roster size).
    ``face`` must hold every character printed; a certificate number unfit for a file name stops the run at
    its chunk (the files before it are complete)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir)
    if progress is not None:
        progress.set_total(count)
    with _print_file(batch_pdf, face) as book:
        wanted = _Wanted(stamps=book is not None, svg=svg)
        for done in _rendered(items, count, out_dir, face, workers, wanted):
            for paths, stamp in done:
                if book is not None and stamp is not None:
                    book.page(stamp)
                yield paths
            if progress is not None:
                progress.advance(len(done))


_Done = list[tuple[RenderedPaths, PageStamp | None]]


@dataclass(frozen=True)
class _Wanted:
    """What a worker hands back or writes beyond the certificate's own files: the page stamps (for the
    batch print file) and the SVG."""

    stamps: bool
    svg: bool


def _rendered(
    items: Iterable[RenderItem],
    count: int,
    out_dir: Path,
    face: FontFace,
    workers: int | None,
    wanted: _Wanted,
) -> Iterator[_Done]:
    """Each chunk's results, in the order of ``items`` (the print file's page order). At most two chunks per
    worker are queued ahead of the one being read, so neither the items nor the stamps pile up."""
    processes = worker_count(workers)
    size = max(1, min(_MAX_CHUNK, math.ceil(count / (processes * 4))))
    chunks = _chunks(items, size)
    if processes == 1 or count <= size:
        for chunk in chunks:
            yield _render_chunk(chunk, out_dir, face, wanted)
        return
    with worker_processes(processes) as pool:
        pending: collections.deque[Future[_Done]] = collections.deque()
        for chunk in chunks:
            pending.append(pool.submit(_render_chunk, chunk, out_dir, face, wanted))
            if len(pending) > 2 * processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _chunks(items: Iterable[RenderItem], size: int) -> Iterator[list[RenderItem]]:
    for chunk in in_pages(items, size):
        for item in chunk:
            _safe_name(item.view.certificate_number)
        yield chunk


def _render_chunk(chunk: list[RenderItem], out_dir: Path, face: FontFace, wanted: _Wanted) -> _Done:
    folder = os.fspath(out_dir)
    return [_render_one(item, out_dir, folder, face, wanted) for item in chunk]


def _render_one(
    item: RenderItem, out_dir: Path, folder: str, face: FontFace, wanted: _Wanted
) -> tuple[RenderedPaths, PageStamp | None]:
    """One certificate's files; its page stamp too when the PDF was drawn or ``wanted.stamps``. The files
    are read and written by their names as text (``folder``, the same place as ``out_dir``): ``pathlib``
    parses every path it builds, several times a file."""
    number = item.view.certificate_number
    base = f"{folder}/{number}"
    written = []
    cheap = [("txt", (item.qr_text + "\n").encode("ascii")), ("png", render_png(item.qr_text))]
    if wanted.svg:
        cheap.append(("svg", render_svg(item.qr_text).encode("utf-8")))
    for kind, data in cheap:
        if _read(f"{base}.{kind}") != data:
            write_atomic(f"{base}.{kind}", data)
            written.append(kind)
    photo = None if item.view.photo is None else item.view.photo.source.read(item.view.photo.name)
    marker = _MARKER + fingerprint(item, photo)
    stale = marker.encode("ascii") not in (_read(f"{base}.pdf") or b"")
    stamp = None
    if stale or wanted.stamps:
        stamp = stamp_page(item.view, item.qr_text, font=face, photo_bytes=photo)
        if stale:
            write_atomic(f"{base}.pdf", certificate_pdf(stamp, keywords=marker))
            written.append("pdf")
    paths = RenderedPaths(
        number,
        txt=out_dir / f"{number}.txt",
        png=out_dir / f"{number}.png",
        svg=out_dir / f"{number}.svg" if wanted.svg else None,
        pdf=out_dir / f"{number}.pdf",
        written=tuple(written),
    )
    return paths, stamp if wanted.stamps else None


@contextlib.contextmanager
def _print_file(path: Path | None, face: FontFace) -> Iterator[PdfDocument | None]:
    """The batch print file being written under a temporary name, renamed into place when every page is
    in (None when none is wanted; no file when no page came). It is always written whole: ``run`` asks for
    it until its journal records it, and the same pages make the same bytes."""
    if path is None:
        yield None
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            book = PdfDocument(out, face)
            yield book
            if book.created is None:  # no page came (every row refused when signed): no print file
                return
            book.close()
        tmp.replace(path)
    except OSError as e:
        raise RenderError(
            "output_write_failed", f"无法写入 {path}：{e.strerror}", f"cannot write {path}: {e.strerror}"
        ) from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def fingerprint(item: RenderItem, photo_bytes: bytes | None = None) -> str:
    """SHA-256 over everything a PDF shows (fields, QR text, photo and seal bytes) and the layout version.
    ``photo_bytes``: the photo's file when the caller has read it (and renders from those same bytes)."""
    h = hashlib.sha256(f"skillpass-pdf|{RENDER_VERSION}|".encode())
    fields = {f.name: getattr(item.view, f.name) for f in dataclasses.fields(item.view)}  # no deep copy
    fields["issue_date"] = item.view.issue_date.isoformat()
    photo = item.view.photo
    fields["photo"] = "" if photo is None else photo.name
    fields["seal"] = str(item.view.seal or "")
    for key in sorted(fields):
        h.update(f"{key}={fields[key]}\x00".encode())
    h.update(item.qr_text.encode("utf-8"))
    if photo is not None:
        h.update(photo_bytes or photo.source.read(photo.name) or b"missing")
    if item.view.seal is not None:
        h.update(_read(item.view.seal) or b"missing")
    return h.hexdigest()


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that the name never shows a partial file, with the bare system calls
    (open, write, close, link or rename): a buffered file object adds an ``fstat``, an ``ioctl`` and an
    ``lseek`` to each of a run's tens of thousands of files.

    A new file is written unnamed (``O_TMPFILE``) and linked under its name once whole: a run killed
    meanwhile leaves nothing behind, and the file costs a third less system time than one written under a
    temporary name and renamed into place (ext4: 73 against 48 µs). An existing file is still replaced by
    a rename, and so is any file where the file system has no unnamed files."""
    target = os.fspath(path)
    try:
        if not _link_new(target, data):
            _rename_into_place(target, data)
    except OSError as e:
        raise RenderError(
            "output_write_failed", f"无法写入 {target}：{e.strerror}", f"cannot write {target}: {e.strerror}"
        ) from e


def _link_new(target: str, data: bytes) -> bool:
    """``target`` written as a new, unnamed file and then linked under its name; False, and nothing
    written, when the name exists or unnamed files cannot be made or linked here."""
    if not _O_TMPFILE:
        return False
    folder = os.path.split(target)[0] or "."
    try:
        fd = os.open(folder, os.O_WRONLY | _O_TMPFILE | os.O_CLOEXEC, 0o666)
    except OSError as e:
        if e.errno in _NO_UNNAMED_FILES:
            return False
        raise
    try:
        _write_all(fd, data)
        # Linked by its /proc name, followed (``linkat``'s AT_SYMLINK_FOLLOW): needs no privilege.
        os.link(f"/proc/self/fd/{fd}", target, src_dir_fd=_root(), follow_symlinks=True)
    except (FileExistsError, FileNotFoundError):  # the name is taken; or there is no /proc
        return False
    finally:
        os.close(fd)
    return True


def _rename_into_place(target: str, data: bytes) -> None:
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")  # noqa: PTH118 (names as text, see _render_one)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, target)  # noqa: PTH105
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # noqa: PTH108
        raise


def _write_all(fd: int, data: bytes) -> None:
    rest = memoryview(data)
    while rest:
        rest = rest[os.write(fd, rest) :]


_O_TMPFILE: Final = getattr(os, "O_TMPFILE", 0)  # Linux only
#: What ``open`` answers where a file system (or an old kernel) makes no unnamed files.
_NO_UNNAMED_FILES: Final = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL})


@functools.cache
def _root() -> int:
    """A descriptor of ``/``: passing one makes ``os.link`` call ``linkat``, which can follow the /proc link
    (the path given is absolute, so the descriptor itself is never used to look anything up)."""
    return os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _read(path: str | os.PathLike[str]) -> bytes | None:
    """The file's bytes, None when it cannot be read (most often: not written yet, one failed ``open``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _safe_name(number: str) -> None:
    if _SAFE_NAME.fullmatch(number) is None:
        raise RenderError(
            "certificate_number_unsafe",
            f"证书编号 {number!r} 不能用作文件名",
            f"certificate number {number!r} cannot be used as a file name",
        )


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporaries left by killed runs (their process is gone); live writers keep theirs."""
    for tmp in out_dir.glob(".*.tmp"):
        m = _TMP.fullmatch(tmp.name)
        if m is not None and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
