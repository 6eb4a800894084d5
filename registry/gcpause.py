"""Batch-sized work runs with Python's cyclic garbage collector paused.

Submitting, reviewing or reporting a 10,000-row batch builds some 100,000 containers that all stay alive
until the answer is sent (parsed rows, checked values, result rows, the report). Each of them counts
towards the collector's thresholds, and since none is garbage every collection is wasted: the
collections of the oldest generation walk every object of the process, and together they took about a
third of the registry's CPU time in an issuance's submission and review (docs/decisions.md). Reference
counting still frees everything these requests drop; only reference cycles wait for the collector, which
resumes when the last batch-sized request in the process ends (requests run in threads, so the pause is
counted) and was never paused if someone else had disabled it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """How many bodies are running, and whether the collector was enabled before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.resume = False


_PAUSE = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while the body runs (nor while any other such body runs)."""
    with _PAUSE.lock:
        if _PAUSE.depth == 0:
            _PAUSE.resume = gc.isenabled()
            gc.disable()
        _PAUSE.depth += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.depth -= 1
            if _PAUSE.depth == 0 and _PAUSE.resume:
                gc.enable()
