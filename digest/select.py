"""Which stored items make an issue: date window, dedup against other issues, ranking, caps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digest.config import Config
from digest.models import Item


def rank_key(item: Item) -> tuple[float, float, str]:
    """Higher first: Reddit by score, everything else by recency; the id breaks ties."""
    score = float(item.extra.get("score", 0))
    stamp = item.published.timestamp() if item.published else 0.0
    return (-score, -stamp, item.id)


def select(
    config: Config,
    candidates: list[Item],
    day: date,
    taken: set[str],
    already_in_draft: dict[str, int] | None = None,
) -> dict[str, list[Item]]:
    """Items for each section of the issue of `day`, best first, within the section's cap.

    `taken` holds ids that appear in any other issue (they are not news twice);
    `already_in_draft` counts what a draft for this day already holds per section.
    """
    tz = ZoneInfo(config.timezone)
    day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    window = config.select.window_days
    day_start = day_end - timedelta(days=window + 1) if window else None
    already_in_draft = already_in_draft or {}
    chosen: dict[str, list[Item]] = {s.id: [] for s in config.sections}
    seen = set(taken)
    for item in sorted(candidates, key=rank_key):
        if item.id in seen or item.section_id not in chosen:
            continue
        if item.published and item.published >= day_end:
            continue  # written after this day
        if day_start and item.published and item.published < day_start:
            continue
        section = config.section(item.section_id)
        if len(chosen[item.section_id]) + already_in_draft.get(section.id, 0) >= section.max_items:
            continue
        chosen[item.section_id].append(item)
        seen.add(item.id)
    return chosen
