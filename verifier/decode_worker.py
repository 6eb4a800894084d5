"""One decode worker process: reads pages of uploads on disk, one task at a time, under OS limits.

Started by `decode_pool` as ``python -m verifier.decode_worker LIMITS_JSON``. It speaks one JSON
object per line: ``READY_LINE`` once started, then for each task on stdin, ``{"op": "count" | "read", "path", "kind", "page"}``, and the
answer on stdout, ``{"ok": true, "pages": N}`` / ``{"ok": true, "codes": [...]}`` or
``{"ok": false, "code", "detail"}``; ``"retire": true`` asks the pool for a fresh process.

Limits the operating system enforces, which Python code cannot escape: before each task the CPU-time
limit is moved to the CPU already spent plus one page's allowance (the kernel then ends the process
with SIGXCPU, and the pool starts a new one); the address space is capped once at start. Anything
stray written to stdout goes to stderr instead, so the protocol stays clean.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from verifier.images import ImageError, ImageKind, ImageLimits, count_pages, read_page
from verifier.pdf_pages import PdfLimits

__all__ = ["READY_LINE", "limits_from_json", "limits_to_json", "main"]

READY_LINE = b'{"ready": true}'

# Python, Pillow and zxing-cpp take about 55 MiB of address space before any work.
_BASE_ADDRESS_SPACE = 192 * 1024 * 1024
# A worker holding more than this after a task (allocator caches) is replaced by a fresh one.
_RETIRE_RESIDENT_BYTES = 160 * 1024 * 1024


def limits_to_json(limits: ImageLimits) -> str:
    return json.dumps(asdict(limits))


def limits_from_json(text: str) -> ImageLimits:
    fields = json.loads(text)
    return ImageLimits(**{**fields, "pdf": PdfLimits(**fields["pdf"])})


def main(argv: list[str]) -> int:
    limits = limits_from_json(argv[1])
    protocol = _take_stdout()
    _cap(resource.RLIMIT_AS, _BASE_ADDRESS_SPACE + limits.max_decode_bytes)
    _cap(resource.RLIMIT_CORE, 0)  # SIGXCPU would otherwise leave a core file behind
    protocol.write(READY_LINE.decode() + "\n")
    protocol.flush()
    for line in sys.stdin:
        _allow_cpu(limits.pdf.cpu_seconds)
        answer = _answer(json.loads(line), limits)
        if _resident_bytes() > _RETIRE_RESIDENT_BYTES:
            answer["retire"] = True
        protocol.write(json.dumps(answer, ensure_ascii=False) + "\n")
        protocol.flush()
    return 0


def _answer(task: dict[str, Any], limits: ImageLimits) -> dict[str, Any]:
    path, kind = Path(task["path"]), ImageKind(task["kind"])
    try:
        if task["op"] == "count":
            return {"ok": True, "pages": count_pages(path, kind, limits)}
        codes = read_page(path, kind, int(task["page"]), limits)
    except ImageError as e:
        return {"ok": False, "code": e.code, "detail": e.detail}
    except MemoryError:
        return {"ok": False, "code": "image_too_large", "detail": "out of memory"}
    return {"ok": True, "codes": [code.to_json() for code in codes]}


def _take_stdout() -> TextIO:
    """Keep the real stdout for answers; point file descriptor 1 at stderr for anything else."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return protocol


def _allow_cpu(seconds: int) -> None:
    """CPU limit = CPU used so far + this task's allowance (soft limit: SIGXCPU ends the process)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _cap(resource.RLIMIT_CPU, math.ceil(usage.ru_utime + usage.ru_stime) + seconds)


def _cap(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    resource.setrlimit(which, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _resident_bytes() -> int:
    statm = Path("/proc/self/statm").read_text(encoding="ascii")
    return int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
