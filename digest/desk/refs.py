"""Finding the issue an editor command works on, and addressing its items.

Every item has a reference for the life of the draft (`g1`, `ar3`: its section's prefix and a
number, given when it joins the draft; a dropped item keeps it). Items can also be addressed as
`digest review list` numbers them — the items 1, 2, 3… in section order, then the dropped ones —
but a bare number is refused once the list changed since it was shown. Reserves (eligible, left
out by selection) are R1, R2…, best score first.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import date

from digest import issue as issues
from digest.config import Config
from digest.errors import EXIT_USAGE, DigestError, NothingNew
from digest.issue import Issue, IssueItem, Section
from digest.store import StatePaths, atomic_write

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


# numbering and references ----------------------------------------------------------------------
# A bare number is what `review list` printed; a reference (`g1`, `ar3`) is the item's for the
# life of the draft. Reserves are R1, R2…, so no section prefix is a lone "r".
_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Ref:
    """Item number `n` (from 1) of an issue as `review list` numbers it, with its section, or
    None for a dropped item; `item.ref` is its stable reference."""

    n: int
    item: IssueItem
    section: Section | None  # None for a dropped item

    @property
    def dropped(self) -> bool:
        return self.section is None

    @property
    def label(self) -> str:
        """How messages name it: its reference, else its number."""
        return self.item.ref or str(self.n)


def numbered(issue: Issue) -> list[Ref]:
    """Every item of `issue` numbered from 1 in section order, then the dropped ones."""
    refs = [Ref(0, item, section) for section in issue.sections for item in section.items]
    refs += [Ref(0, item, None) for item in issue.dropped]
    return [Ref(n, ref.item, ref.section) for n, ref in enumerate(refs, 1)]


def resolve(issue: Issue, token: str | int, config: Config | None = None) -> Ref:
    """The item `token` names: its reference (`g1`, any case) or its number in `review list`.
    A bare number is refused when the numbering changed since `review list` last showed this
    draft (with `config`, which says where that record is): after a drop, `keep 11` would hit
    another item. Raises ReviewError (exit 2) naming the fix."""
    refs = numbered(issue)
    text = str(token).strip()
    if _NUMBER.match(text):
        n = int(text)
        if not 1 <= n <= len(refs):
            span = f"1–{len(refs)}" if refs else "no items"
            raise ReviewError(
                f"no item {n} in the draft for {issue.date} (it has {span}) — see "
                "`digest review list`"
            )
        if config is not None:
            _check_numbering_unchanged(config, issue, refs, n)
        return refs[n - 1]
    wanted = text.lower()
    for ref in refs:
        if ref.item.ref.lower() == wanted:
            return ref
    known = ", ".join(r.item.ref for r in refs if r.item.ref) or "none yet"
    raise ReviewError(
        f"no item {text!r} in the draft for {issue.date} (references: {known}) — see "
        "`digest review list`"
    )


def resolve_live(issue: Issue, token: str | int, config: Config | None = None) -> Ref:
    """The item `token` names (see `resolve`), which must not be dropped. Raises ReviewError
    (exit 2) when there is no such item or it is dropped (naming `review keep`)."""
    ref = resolve(issue, token, config)
    if ref.dropped:
        raise ReviewError(
            f"item {ref.label} ({ref.item.title}) is dropped — bring it back first with "
            f"`digest review keep {ref.label}`"
        )
    return ref


# what `review` showed ------------------------------------------------------------------------
def remember(config: Config, key: str, shown: list[str]) -> None:
    """Record what a `digest review` listing just showed under `key` (`review list`: the draft's
    date and its item ids in order; `keywords`: its suggestions), so a bare number typed later
    is read against it. Other keys are kept. Best effort: a read-only state folder only loses
    the record."""
    path = StatePaths(config.state_path).review_shown
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            record = {}
    except (OSError, ValueError):
        record = {}
    record[key] = shown
    with contextlib.suppress(OSError):
        atomic_write(path, json.dumps(record, ensure_ascii=False))


def recall(config: Config, key: str) -> list[str] | None:
    """What `remember` recorded under `key`; None when nothing was (never shown, a script, a
    state folder that cannot be read)."""
    try:
        record = json.loads(StatePaths(config.state_path).review_shown.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    shown = record.get(key) if isinstance(record, dict) else None
    return [str(value) for value in shown] if isinstance(shown, list) else None


def remember_shown(config: Config, issue: Issue) -> None:
    """Record the numbering `review list` just showed for `issue` (item ids in order), so a bare
    number typed later is checked against it (see `remember`)."""
    remember(config, issue.date.isoformat(), [ref.item.id for ref in numbered(issue)])


def _check_numbering_unchanged(config: Config, issue: Issue, refs: list[Ref], n: int) -> None:
    seen = recall(config, issue.date.isoformat())
    if seen is None or seen == [ref.item.id for ref in refs]:
        return  # never listed (a script, a first command): the number is taken as it is
    then = next((i for k, i in enumerate(seen, 1) if k == n), None)
    was = f"; {n} was {then!r} then" if then and then != refs[n - 1].item.id else ""
    raise ReviewError(
        f"the list changed since `digest review list` showed it, so {n} may not be the item "
        f"you mean (it is now {refs[n - 1].label}: {refs[n - 1].item.title}{was}) — use the "
        f"item's reference, e.g. `{refs[n - 1].label}`, or run `digest review list` again"
    )
