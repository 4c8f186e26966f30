"""Which stored items make an issue: date window, dedup against other issues, ranking, caps.

Every decision is kept with its reason, so `--explain` and the editor's reserves can show why an
item is in or out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digest.config import Config
from digest.models import Item


@dataclass(frozen=True)
class Candidate:
    item: Item
    score: float
    reasons: tuple[str, ...] = ()


@dataclass
class Selection:
    chosen: dict[str, list[Candidate]]  # section id → best first, within the cap
    reserves: list[Candidate] = field(default_factory=list)  # eligible, but over a cap
    rejected: list[tuple[Item, str]] = field(default_factory=list)  # not eligible, and why

    def items(self, section_id: str) -> list[Item]:
        return [c.item for c in self.chosen.get(section_id, [])]


def score(item: Item, day_end: datetime) -> Candidate:
    """Higher is better: freshness, then community interest where the source has it."""
    reasons = []
    value = 0.0
    if item.published:
        age_days = max(0.0, (day_end - item.published).total_seconds() / 86400)
        freshness = 1.0 / (1.0 + age_days)
        value += freshness
        reasons.append(f"freshness {freshness:.2f} ({age_days:.1f} days old)")
    votes = int(item.extra.get("score", 0) or 0)
    if votes > 0:
        bonus = math.log10(1 + votes)
        value += bonus
        reasons.append(f"reddit score {votes} (+{bonus:.2f})")
    return Candidate(item, round(value, 4), tuple(reasons))


def select(
    config: Config,
    candidates: list[Item],
    day: date,
    taken: set[str],
    already_in_draft: dict[str, int] | None = None,
) -> Selection:
    """Items for each section of the issue of `day`, best first, within the section's cap.

    `taken` holds ids that appear in any other issue (they are not news twice);
    `already_in_draft` counts what a draft for this day already holds per section.
    """
    tz = ZoneInfo(config.timezone)
    day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    window = config.select.window_days
    day_start = day_end - timedelta(days=window + 1) if window else None
    already_in_draft = already_in_draft or {}
    selection = Selection(chosen={s.id: [] for s in config.sections})
    eligible = []
    for item in candidates:
        if item.id in taken:
            selection.rejected.append((item, "already in an issue"))
        elif item.section_id not in selection.chosen:
            selection.rejected.append((item, f"section {item.section_id!r} is not in feeds.yaml"))
        elif item.published and item.published >= day_end:
            selection.rejected.append((item, "published after this issue's day"))
        elif day_start and item.published and item.published < day_start:
            selection.rejected.append((item, f"older than {window} days"))
        else:
            eligible.append(score(item, day_end))
    eligible.sort(key=lambda c: (-c.score, c.item.id))
    seen: set[str] = set()
    for candidate in eligible:
        item = candidate.item
        if item.id in seen:
            continue
        seen.add(item.id)
        cap = config.section(item.section_id).max_items
        chosen = selection.chosen[item.section_id]
        if len(chosen) + already_in_draft.get(item.section_id, 0) < cap:
            chosen.append(candidate)
        else:
            selection.reserves.append(candidate)
    return selection
