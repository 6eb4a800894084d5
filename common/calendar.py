"""The registry's calendar: certificates, keys and scopes are dated in China Standard Time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")


def registry_day(unix: float) -> date:
    """The calendar day, in China Standard Time, of a moment given in seconds since the epoch."""
    return datetime.fromtimestamp(unix, CHINA_STANDARD_TIME).date()


def cst_minute(unix: float) -> str:
    """A moment as people in China read it: ``2026-09-21 10:05 CST`` (China Standard Time)."""
    return datetime.fromtimestamp(unix, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M CST")
