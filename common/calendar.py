"""The registry's calendar: certificates, keys and scopes are dated in China Standard Time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Final

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")

# The day last asked for and its span [start, end) in unix seconds: a verifier asks twice per credential,
# in bursts within one day, and the conversion cost more than a check. A tuple, replaced whole, so that
# threads sharing it read a consistent span.
_last_day: tuple[float, float, date] = (0.0, 0.0, date.min)


def registry_day(unix: float) -> date:
    """The calendar day, in China Standard Time, of a moment given in seconds since the epoch.

    Remembered for the day last asked: China Standard Time is a fixed offset without daylight saving,
    so every day is exactly 86,400 seconds long.
    """
    global _last_day
    start, end, day = _last_day
    if start <= unix < end:
        return day
    day = datetime.fromtimestamp(unix, CHINA_STANDARD_TIME).date()
    start = datetime.combine(day, time(), CHINA_STANDARD_TIME).timestamp()
    _last_day = (start, start + 86400, day)
    return day


def cst_minute(unix: float) -> str:
    """A moment as people in China read it: ``2026-09-21 10:05 CST`` (China Standard Time)."""
    return datetime.fromtimestamp(unix, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M CST")
