"""The issuing process's worker processes (rendering, photo checks): one forkserver, its modules preloaded.

forkserver, not fork: the issuing process has threads (a console's server), and a child forked while one
of them holds a lock waits on it forever. The server imports the workers' modules (the PDF writer, Pillow,
zxing-cpp, fontTools: over half a second of CPU) once, before it forks the first worker, so each worker
starts with them imported. A process has one forkserver, started by the first pool, so every pool names the
same modules here.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

_PRELOAD = ["issuer.render", "issuer.photos"]


def worker_count(requested: int | None) -> int:
    """How many workers a pool gets: ``requested`` (``--workers``), else one per core."""
    return max(1, requested or os.cpu_count() or 1)


def worker_processes(count: int) -> ProcessPoolExecutor:
    """A pool of ``count`` processes from the preloaded forkserver."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return ProcessPoolExecutor(max_workers=count, mp_context=context)
