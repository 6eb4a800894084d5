"""The running registry: database, settings and the per-process caches the HTTP routes share."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.audit import AuditLog, Digests
from registry.challenge import Challenges
from registry.clock import Now
from registry.db import Database
from registry.inflight import InFlight
from registry.ratelimit import RateLimiter
from registry.settings import Settings
from registry.statistics import Statistics
from registry.status_tokens import StatusTokens
from registry.trust import TrustList


@dataclass
class Registry:
    """Everything a request handler needs."""

    settings: Settings
    db: Database = field(init=False)
    digests: Digests = field(init=False)
    audit: AuditLog = field(init=False)
    trust: TrustList = field(init=False)
    status_tokens: StatusTokens = field(init=False)
    limiter: RateLimiter = field(init=False)
    statistics: Statistics = field(init=False)
    challenges: Challenges = field(init=False)
    complaint_limiter: RateLimiter = field(init=False)
    in_flight: InFlight = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database_url)
        self.digests = Digests(self.settings.hmac_secret)
        self.audit = AuditLog(self.db, self.settings.signer)
        self.trust = TrustList(self.db, self.settings)
        self.status_tokens = StatusTokens(self.db, self.settings)
        self.limiter = RateLimiter(self.settings.query_rate_per_second, self.settings.query_burst)
        self.statistics = Statistics(self.db, self.audit, self.settings.statistics_refresh)
        self.challenges = Challenges(self.settings.hmac_secret)
        self.complaint_limiter = RateLimiter(
            1 / self.settings.complaint_interval, self.settings.complaint_burst
        )
        self.in_flight = InFlight(self.settings.max_in_flight_per_token)

    def now(self) -> Now:
        """One reading of the injected clock."""
        return Now.read(self.settings.clock)
