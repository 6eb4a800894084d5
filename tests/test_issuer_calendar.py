"""The issuer and the registry share one calendar: China Standard Time, not UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from common.calendar import CHINA_STANDARD_TIME, registry_day
from registry.clock import Now


def test_the_registry_day_starts_eight_hours_before_utc() -> None:
    assert registry_day(datetime(2026, 6, 14, 15, 59, tzinfo=UTC).timestamp()) == date(2026, 6, 14)
    assert registry_day(datetime(2026, 6, 14, 16, 0, tzinfo=UTC).timestamp()) == date(2026, 6, 15)


def test_the_registry_and_the_issuer_agree_on_today() -> None:
    late_evening_utc = datetime(2026, 6, 14, 17, 30, tzinfo=UTC)
    assert Now(late_evening_utc).today == registry_day(late_evening_utc.timestamp()) == date(2026, 6, 15)


def test_the_remembered_day_agrees_with_the_calendar_across_midnights() -> None:
    """``registry_day`` remembers the day last asked; forwards, backwards and on both sides of a China
    Standard Time midnight (16:00 UTC) it answers what the calendar conversion answers."""
    midnight = int(datetime(2026, 11, 18, 16, 0, tzinfo=UTC).timestamp())
    moments = [midnight + offset for offset in (-86401, -86400, -1, 0, 1, 86399, 86400, -2, 5, 0.5, -0.5)]
    for moment in moments:
        assert registry_day(moment) == datetime.fromtimestamp(moment, CHINA_STANDARD_TIME).date(), moment
