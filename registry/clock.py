"""Reading the injected clock: one capture per request, as seconds and as the registry's calendar day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from common.calendar import CHINA_STANDARD_TIME
from registry.settings import Clock

# The registry's calendar is China Standard Time: an approval at 01:00 in Beijing is issued that day.
REGISTRY_TZ = CHINA_STANDARD_TIME


def iso_day(day: date | None) -> str | None:
    """A day as JSON: ISO 8601, or null for an open end."""
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class Now:
    """One reading of the clock."""

    at: datetime

    @classmethod
    def read(cls, clock: Clock) -> Now:
        """Read ``clock`` once."""
        return cls(clock())

    @property
    def unix(self) -> int:
        """Seconds since the epoch."""
        return int(self.at.timestamp())

    @property
    def today(self) -> date:
        """The registry's calendar day."""
        return self.at.astimezone(REGISTRY_TZ).date()
