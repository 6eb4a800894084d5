"""PDF pages as grey pixels, through poppler in child processes we can bound.

A PDF is a program: a few kilobytes of nested form drawings can keep a renderer busy for minutes and
a small file can ask for gigabytes. So poppler never runs in our own process. Each child (`pdfinfo`
to count the pages, one `pdftoppm` per page) gets a CPU-time limit and an address-space limit from
the shell's `ulimit` (not `preexec_fn`, which is unsafe in a threaded server) and a short wall-clock
limit, and one page is rendered at a time into a raw grey file (PGM: writing PNG would cost five
times the rendering itself).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PdfLimits", "PdfPageError", "page_count", "render_page"]

_PAGES = re.compile(rb"^Pages:\s+(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PdfLimits:
    """What one page may cost: rendering resolution and size, CPU seconds, wall seconds, memory."""

    dpi: int = 150
    max_side: int = 5000
    cpu_seconds: int = 2
    wall_seconds: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024


class PdfPageError(Exception):
    """Poppler could not do it: ``too_complex`` when a limit stopped it, else ``unreadable``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def page_count(pdf: Path, limits: PdfLimits) -> int:
    """How many pages the PDF has, as poppler reads it."""
    result = _run_bounded(["pdfinfo", str(pdf)], limits)
    match = _PAGES.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise PdfPageError("unreadable", _tail(result.stderr) or "no page count")
    return int(match.group(1))


def render_page(pdf: Path, page: int, target: Path, limits: PdfLimits) -> Path:
    """Render one page (1-based) as a grey PGM next to ``target``; its size is cropped to ``max_side``."""
    side = str(limits.max_side)
    argv = ["pdftoppm", "-r", str(limits.dpi), "-gray", "-f", str(page), "-l", str(page), "-singlefile",
            "-x", "0", "-y", "0", "-W", side, "-H", side, str(pdf), str(target)]  # fmt: skip
    result = _run_bounded(argv, limits)
    pgm = target.with_suffix(".pgm")
    if result.returncode != 0 or not pgm.is_file():
        raise PdfPageError(_reason(result.returncode), _tail(result.stderr) or f"exit {result.returncode}")
    return pgm


def _run_bounded(argv: list[str], limits: PdfLimits) -> subprocess.CompletedProcess[bytes]:
    capped = ["sh", "-c", 'ulimit -t "$0" && ulimit -v "$1" && shift && exec "$@"',
              str(limits.cpu_seconds), str(limits.memory_bytes // 1024), *argv]  # fmt: skip
    try:
        return subprocess.run(
            capped, stdin=subprocess.DEVNULL, capture_output=True, timeout=limits.wall_seconds, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise PdfPageError("too_complex", f"{argv[0]}: more than {limits.wall_seconds} s") from e
    except OSError as e:
        raise PdfPageError("unreadable", f"cannot run {argv[0]}: {e}") from e


def _reason(returncode: int) -> str:
    """Killed by a signal (SIGXCPU at the CPU limit, SIGKILL after it) means a limit stopped it."""
    return "too_complex" if returncode < 0 else "unreadable"


def _tail(stderr: bytes) -> str:
    return stderr.decode(errors="replace").strip()[-300:]
