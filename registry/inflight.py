"""A bound on the work one token may have in flight: heavy writes (batch submission, review,
publication) beyond ``limit`` at once from the same token answer 429 ``too_busy`` at once, instead of
queueing behind the single write lock and stalling every other caller's writes.

In-process, per replica, like the query rate limit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from registry.errors import RegistryError


class InFlight:
    """Counts running heavy requests per token id."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, token_id: str) -> Iterator[None]:
        """Hold one of the token's slots for the duration, or ``too_busy`` when all are taken."""
        with self._lock:
            if self._running.get(token_id, 0) >= self._limit:
                raise RegistryError("too_busy", f"at most {self._limit} at once per token")
            self._running[token_id] = self._running.get(token_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[token_id] - 1
                if left:
                    self._running[token_id] = left
                else:
                    del self._running[token_id]
