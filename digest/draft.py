"""The draft stage: select → summarize → the issue file for a date.

Re-drafting a date keeps everything already in its file (an editor may have touched it) and only
appends items that are new since, so running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from digest import clock
from digest import issue as issues
from digest.config import Config
from digest.errors import NothingNew
from digest.issue import Issue, IssueItem, Section
from digest.select import select
from digest.store import Store
from digest.summarize import Summarizer, make_summarizer, summarize_cached


@dataclass(frozen=True)
class DraftResult:
    issue: Issue
    added: int  # items added by this run
    cached: int  # briefs that came from the cache
    changed: bool  # whether the file was written


def make_draft(
    config: Config, store: Store, day: date, summarizer: Summarizer | None = None
) -> DraftResult:
    all_issues = issues.load_all(config.issues_path)
    existing = issues.for_date(all_issues, day)
    if existing and existing.status != "draft":
        return DraftResult(existing, 0, 0, False)  # approved or published: frozen
    taken = {i for other in all_issues if other is not existing for i in other.item_ids}
    current = existing or Issue(number=issues.draft_number(all_issues), date=day, name=config.title)
    in_draft = {s.id: len(s.items) for s in current.sections}
    selection = select(config, store.items(), day, taken | current.item_ids, in_draft)
    new_items = [item for section in config.sections for item in selection.items(section.id)]
    if not new_items:
        if existing:
            return DraftResult(existing, 0, 0, False)
        raise NothingNew(f"no new items for {day.isoformat()} — nothing to draft")
    summarizer = summarizer or make_summarizer(config)
    briefs, cached = summarize_cached(
        summarizer, new_items, store, config.summarizer.prompt_version, clock.now(config.timezone)
    )
    by_id = {
        item.id: IssueItem.from_brief(item, b) for item, b in zip(new_items, briefs, strict=True)
    }
    for section_config in config.sections:
        picked = [by_id[item.id] for item in selection.items(section_config.id)]
        if not picked:
            continue
        section = current.section(section_config.id)
        if section is None:
            section = Section(section_config.id, section_config.title)
            _insert_in_config_order(current, section, config.section_ids)
        section.items.extend(picked)
    issues.save(current, config.issues_path)
    return DraftResult(current, len(new_items), cached, True)


def _insert_in_config_order(issue: Issue, section: Section, order: list[str]) -> None:
    rank = {sid: n for n, sid in enumerate(order)}
    position = len(issue.sections)
    for index, other in enumerate(issue.sections):
        if rank.get(other.id, len(order)) > rank[section.id]:
            position = index
            break
    issue.sections.insert(position, section)
