"""The one place that asks what time it is, so tests and the sample can pin it."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo


def now(timezone: str = "UTC") -> datetime:
    """Aware current time; `DIGEST_NOW` (ISO 8601) pins it for tests and reproducible builds."""
    pinned = os.environ.get("DIGEST_NOW")
    tz = ZoneInfo(timezone)
    if pinned:
        moment = datetime.fromisoformat(pinned)
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
    return datetime.now(tz)


def today(timezone: str) -> date:
    return now(timezone).date()
