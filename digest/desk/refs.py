"""Finding the issue an editor command works on, and addressing its items.

Items are addressed as `digest review list` numbers them: the items of the issue 1, 2, 3… in
section order, then the dropped ones, continuing the count; reserves (eligible, left out by
selection) are R1, R2…, best score first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from digest import issue as issues
from digest.config import Config
from digest.errors import EXIT_USAGE, DigestError, NothingNew
from digest.issue import Issue, IssueItem, Section

EDITOR_SOURCE = "editor"  # source id of an item the editor added by hand


class ReviewError(DigestError):
    """Bad input to an editor command (unknown N, a section that does not exist, …)."""

    exit_code = EXIT_USAGE


# finding the issue -----------------------------------------------------------------------------
def find_draft(config: Config, day: date | None = None) -> Issue:
    """The draft for `day`, or the newest unpublished issue."""
    all_issues = issues.load_all(config.issues_path)
    if day is not None:
        found = issues.for_date(all_issues, day)
        if found is None:
            raise NothingNew(
                f"no issue for {day.isoformat()} in {config.issues_path} — "
                f"run `digest draft --date {day.isoformat()}` first"
            )
        return found
    drafts = [i for i in all_issues if i.status != "published"]
    if not drafts:
        raise NothingNew(f"no draft in {config.issues_path} — run `digest draft` to make one")
    return max(drafts, key=lambda i: (i.date, i.number))


def find_published(config: Config, number: int) -> Issue:
    """The published issue numbered `number`. Raises ReviewError (exit 2) when there is none."""
    found = [i for i in issues.published(issues.load_all(config.issues_path)) if i.number == number]
    if not found:
        raise ReviewError(
            f"no published issue 제 {number:04d}호 in {config.issues_path} — "
            "see site/ or issues/ for the numbers"
        )
    return found[0]


def find_editable(config: Config, day: date | None) -> Issue:
    """The unpublished issue an editor command may change: `find_draft(config, day)`. Raises
    NothingNew when there is none, ReviewError (naming `review edit --published`) when the
    issue of `day` is already published."""
    draft = find_draft(config, day)
    if draft.status == "published":
        raise ReviewError(
            f"제 {draft.number:04d}호 ({draft.date}) is published — correct it with "
            f"`digest review edit --published {draft.number}`"
        )
    return draft


def expected_title(config: Config, issue: Issue) -> str:
    """The title with the number the draft will get when published."""
    number = issues.expected_number(issues.load_all(config.issues_path), issue)
    return issues.issue_title(number, issue.date, issue.name)


# numbering -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """Item number `n` (from 1) of an issue as `review list` numbers it, with its section, or
    None for a dropped item."""

    n: int
    item: IssueItem
    section: Section | None  # None for a dropped item

    @property
    def dropped(self) -> bool:
        return self.section is None


def numbered(issue: Issue) -> list[Ref]:
    """Every item of `issue` numbered from 1 in section order, then the dropped ones."""
    refs = [Ref(0, item, section) for section in issue.sections for item in section.items]
    refs += [Ref(0, item, None) for item in issue.dropped]
    return [Ref(n, ref.item, ref.section) for n, ref in enumerate(refs, 1)]


def resolve(issue: Issue, n: int) -> Ref:
    """Item `n` of `issue`, dropped ones included. Raises ReviewError (exit 2) naming the
    valid range when there is no item `n`."""
    refs = numbered(issue)
    if not 1 <= n <= len(refs):
        span = f"1–{len(refs)}" if refs else "no items"
        raise ReviewError(
            f"no item {n} in the draft for {issue.date} (it has {span}) — see `digest review list`"
        )
    return refs[n - 1]


def resolve_live(issue: Issue, n: int) -> Ref:
    """Item `n` of `issue`, which must not be dropped. Raises ReviewError (exit 2) when there
    is no item `n` or it is dropped (naming `review keep`)."""
    ref = resolve(issue, n)
    if ref.dropped:
        raise ReviewError(
            f"item {n} ({ref.item.title}) is dropped — bring it back first with "
            f"`digest review keep {n}`"
        )
    return ref
