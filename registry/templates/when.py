"""Times on the public pages: the registry's calendar is Beijing time, so is what people read."""

from __future__ import annotations

from datetime import datetime

from registry.clock import REGISTRY_TZ


def beijing_time(unix: int) -> str:
    """A Unix time as ``2026-06-15 12:00:00 (UTC+8)``."""
    return datetime.fromtimestamp(unix, REGISTRY_TZ).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"
