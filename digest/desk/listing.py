"""What the editor sees at a glance: flags per item and the draft as `review list` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from digest import issue as issues
from digest.config import Config
from digest.desk.refs import Ref, expected_title, find_draft, numbered
from digest.desk.verbs import reserves
from digest.issue import Issue, IssueItem
from digest.select import Candidate
from digest.store import Store
from digest.summarize import cache_version


# flags -----------------------------------------------------------------------------------------
def item_flags(item: IssueItem, store: Store | None, prompt_version: str) -> list[str]:
    """What the editor should know at a glance: 검토 필요 (a check failed), 미검토 (not yet
    seen), 새 항목, generated 토막상식, edited."""
    flags = []
    if item.needs_review:
        flags.append(issues.NEEDS_REVIEW)
    if item.unreviewed:
        flags.append(issues.UNREVIEWED)
    if item.new:
        flags.append(issues.NEW_FLAG)
    if item.glossary_note and item.glossary_generated:
        flags.append("generated 토막상식")
    if is_edited(item, store, prompt_version):
        flags.append("edited")
    if item.note:
        flags.append("한마디")
    return flags


def is_edited(item: IssueItem, store: Store | None, prompt_version: str) -> bool:
    """Whether the brief differs from what the model wrote (the cached brief for the item)."""
    if item.other_lines:
        return True
    if store is None or not item.model:
        return False  # no model wrote it, so there is nothing to compare with
    source = store.item(item.id)
    if source is None:
        return False
    brief = store.cached_brief(source.content_hash, item.model, prompt_version)
    if brief is None:
        return False
    written = (item.key_sentence, item.summary, item.significance, item.glossary_note)
    original = (brief.key_sentence, brief.summary, brief.significance, brief.glossary_note)
    return written != tuple(" ".join(text.split()) for text in original)


@dataclass
class Listing:
    """The draft as `digest review list` shows it."""

    issue: Issue
    title: str  # with the number it will get
    rows: list[tuple[Ref, list[str]]] = field(default_factory=list)
    reserves: list[Candidate] = field(default_factory=list)


def listing(config: Config, day: date | None, with_reserves: bool = False) -> Listing:
    """The issue of `day` (default: the newest unpublished one) numbered as `review list`
    shows it, each item with its flags, and, with `with_reserves` and an unpublished issue,
    the reserves (R1, R2…). Raises NothingNew when there is no such issue (`find_draft`)."""
    issue = find_draft(config, day)
    result = Listing(issue, expected_title(config, issue))
    with Store(config.state_path) as store:
        version = cache_version(config)
        result.rows = [(ref, item_flags(ref.item, store, version)) for ref in numbered(issue)]
        if with_reserves and issue.status != "published":
            result.reserves = reserves(config, store, issue)
    return result
