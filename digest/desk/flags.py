"""What the editor should know of an item at a glance: its flags, and whether they edited it."""

from __future__ import annotations

from digest import issue as issues
from digest.issue import IssueItem
from digest.store import Store


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
    """Whether the editor changed the item: free lines of their own, or a brief that differs
    from what the model wrote (the cached brief for the item)."""
    return bool(item.shown_lines) or brief_edited(item, store, prompt_version)


def brief_edited(item: IssueItem, store: Store | None, prompt_version: str) -> bool:
    """Whether the key sentence, 요약, 의의 or 토막상식 differ from the brief the model wrote
    (the cached brief for the item), whitespace aside; False when there is nothing to compare."""
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
