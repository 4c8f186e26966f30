"""What `digest review approve` tells the editor before they put their name on a draft: the
items that still want a human (검토 필요, 미검토, no brief, an English 요약)."""

from __future__ import annotations

from dataclasses import dataclass, field

from digest import issue as issues
from digest.issue import Issue, IssueItem
from digest.summarize.validate import ENGLISH_BELOW, hangul_share

# How many references a line names before it says "…": the list has them all.
SHOWN_REFS = 5


@dataclass(frozen=True)
class Concerns:
    """The references (`g1`, else the item's title) of the draft's items in each worry, in
    the order `review list` shows them; empty lists when all is well."""

    needs_review: list[str] = field(default_factory=list)  # 검토 필요: a check failed
    unreviewed: list[str] = field(default_factory=list)  # 미검토: nobody has read it
    no_brief: list[str] = field(default_factory=list)  # neither 요약 nor 의의
    english: list[str] = field(default_factory=list)  # the 요약 is English, not Korean

    def __bool__(self) -> bool:
        return any((self.needs_review, self.unreviewed, self.no_brief, self.english))

    def summary(self) -> str:
        """One line, e.g. "2 items 검토 필요 (g1, re1), 3 not reviewed yet (미검토: g1, g2,
        aw1), 1 without a brief (re1), 1 with an English 요약 (aw2)"; "" when all is well."""
        parts = []
        if self.needs_review:
            count = len(self.needs_review)
            noun = "item" if count == 1 else "items"
            parts.append(f"{count} {noun} {issues.NEEDS_REVIEW} ({_names(self.needs_review)})")
        if self.unreviewed:
            names = _names(self.unreviewed)
            parts.append(f"{len(self.unreviewed)} not reviewed yet ({issues.UNREVIEWED}: {names})")
        if self.no_brief:
            parts.append(f"{len(self.no_brief)} without a brief ({_names(self.no_brief)})")
        if self.english:
            parts.append(f"{len(self.english)} with an English 요약 ({_names(self.english)})")
        return ", ".join(parts)


def concerns(issue: Issue) -> Concerns:
    """The items of `issue` (not the dropped ones) that still want a human, per worry."""
    found = Concerns()
    for item in issue.items:
        name = item.ref or item.title
        if item.needs_review:
            found.needs_review.append(name)
        if item.unreviewed:
            found.unreviewed.append(name)
        if not (item.summary or item.significance):
            found.no_brief.append(name)
        elif english_summary(item):
            found.english.append(name)
    return found


def english_summary(item: IssueItem) -> bool:
    """Whether the item's 요약 is English (a copied lead sentence), not a Korean brief: the
    summarizer's own line between code-mixed Korean and English (validate.ENGLISH_BELOW)."""
    return bool(item.summary) and hangul_share(item.summary) < ENGLISH_BELOW


def _names(refs: list[str]) -> str:
    shown = ", ".join(refs[:SHOWN_REFS])
    return shown + (", …" if len(refs) > SHOWN_REFS else "")
