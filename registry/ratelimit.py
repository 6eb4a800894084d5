"""A token bucket per client (``clients.bucket_of``) for the public query endpoints.

In-process: each registry replica keeps its own buckets, so the effective limit is per replica
(documented in docs/security.md); a shared limiter belongs in the reverse proxy.

Memory is bounded by evicting the least recently used bucket when the table is full, one at a time.
That bucket has had the longest time to refill, so forgetting it gives its client the least; the
table is never emptied at once (which would hand every client, the attacker first, a fresh burst).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

MAX_CLIENTS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` tokens per second up to ``burst``; one token per request."""

    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS) -> None:
        self._rate = rate
        self._burst = burst
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, bucket_key: str, now: float) -> bool:
        """Take a token from a bucket at monotonic time ``now``; False when none is left."""
        with self._lock:
            bucket = self._buckets.get(bucket_key)
            if bucket is None:
                while len(self._buckets) >= self._max_clients:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[bucket_key] = _Bucket(float(self._burst), now)
            else:
                self._buckets.move_to_end(bucket_key)
            bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True
