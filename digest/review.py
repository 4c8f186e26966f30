"""Editor operations on a draft. They never lose an editor's text: every change goes through
the issue file (parse → change → atomic write), which is also what a hand edit touches."""

from __future__ import annotations

from datetime import date

from digest import clock
from digest import issue as issues
from digest.config import Config
from digest.errors import DigestError, NothingNew
from digest.issue import Issue


def find_draft(config: Config, day: date | None = None) -> Issue:
    """The draft for `day`, or the newest unpublished issue."""
    all_issues = issues.load_all(config.issues_path)
    if day is not None:
        found = issues.for_date(all_issues, day)
        if found is None:
            raise DigestError(
                f"no issue for {day.isoformat()} in {config.issues_path} — "
                f"run `digest draft --date {day.isoformat()}` first"
            )
        return found
    drafts = [i for i in all_issues if i.status != "published"]
    if not drafts:
        raise NothingNew(f"no draft in {config.issues_path} — run `digest draft` to make one")
    return max(drafts, key=lambda i: (i.date, i.number))


def approve(config: Config, day: date | None = None) -> Issue:
    draft = find_draft(config, day)
    if draft.status == "published":
        raise DigestError(f"제 {draft.number:04d}호 is already published; nothing to approve")
    draft.status = "approved"
    issues.save(draft, config.issues_path)
    return draft


def publish(config: Config, draft: Issue, *, require_approval: bool = True) -> Issue:
    """Freeze a draft as the next numbered issue. Publishing a published issue changes nothing."""
    if draft.status == "published":
        return draft
    if require_approval and draft.status != "approved":
        raise DigestError(
            f"the draft for {draft.date.isoformat()} is not approved — review it, then run "
            "`digest review approve` (or set auto_publish: true in feeds.yaml)"
        )
    all_issues = issues.load_all(config.issues_path)
    later = [i for i in issues.published(all_issues) if i.date > draft.date]
    if later:
        raise DigestError(
            f"제 {later[0].number:04d}호 ({later[0].date}) is already published after this "
            f"draft's date {draft.date} — issues are numbered in date order; publish drafts "
            "oldest first or delete this one"
        )
    number = issues.next_number(all_issues)
    clash = next((i for i in all_issues if i.number == number and i is not draft), None)
    if clash and clash.date != draft.date:
        # An unpublished draft holds the number: it moves past every existing number.
        clash.number = issues.draft_number(all_issues)
        issues.save(clash, config.issues_path)
    draft.number = number
    draft.status = "published"
    draft.published_at = clock.now(config.timezone).isoformat(timespec="seconds")
    issues.save(draft, config.issues_path)
    return draft
