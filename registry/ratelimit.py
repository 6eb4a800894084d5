"""A token bucket per client address for the public query endpoints.

In-process: each registry replica keeps its own buckets, so the effective limit is per replica
(documented in docs/security.md); a shared limiter belongs in the reverse proxy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

_MAX_CLIENTS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` tokens per second up to ``burst``; one token per request."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float) -> bool:
        """Take a token for ``client`` at monotonic time ``now``; False when none is left."""
        with self._lock:
            if len(self._buckets) > _MAX_CLIENTS:
                self._buckets.clear()  # bounded memory under an address-spraying flood
            bucket = self._buckets.setdefault(client, _Bucket(float(self._burst), now))
            bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True
