"""The issuing process's worker processes (rendering, photo checks): one forkserver, its modules preloaded.

forkserver, not fork: the issuing process has threads (a console's server), and a child forked while one
of them holds a lock waits on it forever. The server imports the workers' modules (the PDF writer, Pillow,
zxing-cpp, fontTools: over half a second of CPU) once, before it forks the first worker, so each worker
starts with them imported. A process has one forkserver, started by the first pool, so every pool names the
same modules here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from concurrent.futures import ProcessPoolExecutor

_PRELOAD = ["issuer.render", "issuer.photos"]


def worker_count(requested: int | None) -> int:
    """How many workers a pool gets: ``requested`` (``--workers``), else one per core."""
    return max(1, requested or os.cpu_count() or 1)


def worker_processes(count: int) -> ProcessPoolExecutor:
    """A pool of ``count`` processes from the preloaded forkserver."""
    return ProcessPoolExecutor(max_workers=count, mp_context=_context())


def start_early() -> None:
    """Start the forkserver now rather than with the first pool: its imports then run on the other core
    while this process reads the roster or plans the rendering, instead of delaying the pool's first
    answer (~0.7 s from a pool's creation to its first result when the server starts with it)."""
    _context()
    multiprocessing.forkserver.ensure_running()


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context
