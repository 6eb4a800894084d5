"""Everything a running registry needs, in one value: built by ``setup.open_registry`` or by tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from common.clients import TrustedProxies
from keys import Signer

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock in UTC; tests inject their own clock instead."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    """Configuration of one registry process. Times are seconds; the clock returns aware datetimes."""

    database_url: str
    signer: Signer
    hmac_secret: bytes
    public_url: str = "http://127.0.0.1:8700"
    clock: Clock = field(default=system_clock)
    directory_validity: int = 24 * 3600
    # The official verifier hosts (``host[:port]``, lower case) the signed directory lists: the
    # URL form of a credential names one, and verifiers warn about any other (docs/spec.md §3.2).
    verifier_hosts: tuple[str, ...] = ()
    status_list_ttl: int = 300
    status_list_validity: int = 24 * 3600
    status_list_size: int = 2**20
    # A list takes new indices until half full, so a random free index is found in a try or two.
    status_list_fill: int = 2**19
    query_rate_per_second: float = 2.0
    query_burst: int = 30
    # Proxies whose X-Forwarded-For names the client (the registry's nginx); none: the peer is the client.
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    max_body_bytes: int = 10 * 1024 * 1024
    max_batch_rows: int = 20_000
    # Anonymous complaint filing per client address: a burst, then one per ``complaint_interval`` s.
    complaint_burst: int = 5
    complaint_interval: float = 600.0
    # Statistics re-check the audit log at most this often, in the background (0: on every request).
    statistics_refresh: int = 60
    # Heavy writes (submit, review, publish) one token may have running at once.
    max_in_flight_per_token: int = 2

    @property
    def base_url(self) -> str:
        """The public URL without a trailing slash."""
        return self.public_url.rstrip("/")

    def status_list_uri(self, list_id: int) -> str:
        """Where a status list token is served (the token's ``sub``)."""
        return f"{self.base_url}/api/v1/status-lists/{list_id}"
