"""The service's notion of "now" and "today"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# China Standard Time has no daylight saving: a fixed offset needs no tz database in a slim image
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (every timestamp is stored in UTC)."""
    return datetime.now(UTC)


def local_today() -> date:
    """Return today's date in China, the date users mean by a deadline."""
    return datetime.now(CHINA_TZ).date()
