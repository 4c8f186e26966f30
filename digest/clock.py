"""The one place that asks what time it is, so tests and the sample can pin it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from digest.config import Secrets


def now(timezone: str = "UTC") -> datetime:
    """Aware current time; `DIGEST_NOW` (ISO 8601) pins it for tests and reproducible builds."""
    pinned = Secrets.from_env().now
    tz = ZoneInfo(timezone)
    if pinned:
        moment = datetime.fromisoformat(pinned)
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
    return datetime.now(tz)


def today(timezone: str) -> date:
    """Today's date in `timezone` (an IANA name, e.g. feeds.yaml's Asia/Seoul), per `now`."""
    return now(timezone).date()
