"""The `Issue` document and its Markdown file: numbering, front matter, parse ⇄ write.

An issue file looks like this (the editor may change anything but the comments):

    ---
    number: 1
    date: 2026-11-23
    status: draft
    title: 뉴랄브리핑
    ---
    # 제 0001호 뉴랄브리핑 (2026년 11월 23일 월요일)

    ## 구글 블로그
    <!-- section: google -->

    ### [A post title](https://…)
    <!-- item: https://… | source: google-research -->

    > The key sentence, quoted from the source.

    - **[요약]** …
    - **[의의]** …
    - **[토막상식]** …
    - **[한마디]** the editor's own comment

    ## 뺀 항목
    <!-- dropped -->

    ### [A dropped item](https://…)
    <!-- item: https://… | source: aws-ml | section: aws -->

Lines inside an item that are none of these are kept as they are. A value that holds a line
break or would end its construct is written with character references (`&#10;`) and an odd url
as `<…>` (see `digest.issue.markdown`); a heading or text the reader cannot place is left out
of the issue with a warning naming its line, and written back as it was. The item mark may carry
`model: …`, `section: …` (where a dropped item came from) and the flags `검토 필요` (the brief
failed a check; `검토 필요: …` names each one), `미검토` (written by a summarizer and not yet
shown to, edited or approved by the editor), `생성 토막상식` (the model wrote the 토막상식, not
the curated glossary) and `새 항목` (appended by a re-draft after the editor had the draft).
Items under the `<!-- dropped -->` heading were dropped by the editor: they are not in the issue,
are never proposed again, and `digest review keep` brings them back with their text. The front
matter may hold `keywords:` and, once published and corrected, `corrections:` ({at, what}).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from digest import clock
from digest.config import Config
from digest.errors import DigestError, IssueFileError
from digest.issue.markdown import (
    item_lines,
    item_markdown,
    link,
    parse,
    parse_items,
    to_markdown,
)
from digest.issue.model import (
    DROPPED_MARK,
    DROPPED_TITLE,
    FIELD_LABELS,
    GENERATED_FLAG,
    LABEL_FIELDS,
    NEEDS_REVIEW,
    NEW_FLAG,
    SCHEMA,
    STATUSES,
    UNREVIEWED,
    WEEKDAYS_KO,
    Correction,
    Issue,
    IssueItem,
    Section,
    Unreadable,
    comment_line,
    is_comment,
    issue_title,
    one_line,
)
from digest.store import atomic_write

__all__ = [
    "DROPPED_MARK",
    "DROPPED_TITLE",
    "FIELD_LABELS",
    "GENERATED_FLAG",
    "LABEL_FIELDS",
    "NEEDS_REVIEW",
    "NEW_FLAG",
    "SCHEMA",
    "STATUSES",
    "UNREVIEWED",
    "WEEKDAYS_KO",
    "Correction",
    "Issue",
    "IssueItem",
    "Section",
    "Unreadable",
    "comment_line",
    "draft_number",
    "ensure_section",
    "expected_number",
    "file_name",
    "for_date",
    "is_comment",
    "issue_files",
    "issue_title",
    "item_lines",
    "item_markdown",
    "link",
    "load",
    "load_all",
    "next_number",
    "one_line",
    "parse",
    "parse_items",
    "publish",
    "publish_in_order",
    "published",
    "save",
    "to_markdown",
    "waiting",
    "with_status",
]  # fmt: skip


# the issues folder ---------------------------------------------------------------------------
_FILE_NAME = re.compile(r"[0-9]{4,}\.md")


def file_name(number: int) -> str:
    """The issue file's name: `0042.md` (at least four digits; `10000.md` after 9999)."""
    return f"{number:04d}.md"


def issue_files(issues_dir: Path) -> list[Path]:
    """The issue files in `issues_dir` (`0042.md`, `10000.md`: four digits or more, so not
    `0042.edited.md`), in number order; [] when the folder does not exist."""
    if not issues_dir.is_dir():
        return []
    found = [p for p in issues_dir.glob("*.md") if _FILE_NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: (len(p.name), p.name))


def load(path: Path) -> Issue:
    """The issue in file `path` (UTF-8). An item it cannot read is left out with a warning
    (see `parse`). Raises IssueFileError when the file cannot be parsed (its front matter);
    OSError and UnicodeDecodeError from reading it pass through."""
    return parse(path.read_text(encoding="utf-8"), path)


def load_all(issues_dir: Path) -> list[Issue]:
    """Every issue file (`issue_files`) in `issues_dir`, by number then date; [] when the
    folder does not exist. The files are the source of truth. Raises IssueFileError for the
    first file that cannot be parsed."""
    issues = [load(p) for p in issue_files(issues_dir)]
    return sorted(issues, key=lambda i: (i.number, i.date))


def save(issue: Issue, issues_dir: Path) -> Path:
    """Write `issue` atomically to `issues_dir/NNNN.md` for its number and return that path;
    when its number changed, the file it was read from is removed and `issue.path` updated.
    Raises IssueFileError, writing nothing, when the file for that number holds another
    issue (two issues never share a number); OSError from the disk passes through."""
    path = issues_dir / file_name(issue.number)
    mine = issue.path is not None and issue.path.resolve() == path.resolve()
    if path.exists() and not mine:
        # Two drafts never claim one number: writing here would erase another issue's file.
        raise IssueFileError(
            f"{path}: already holds another issue, so {issue.date.isoformat()} cannot take "
            f"number {issue.number} — give one of them a free number: in its front matter"
        )
    atomic_write(path, to_markdown(issue))
    if issue.path and issue.path != path and issue.path.exists():
        issue.path.unlink()  # renumbered at publish: the draft file becomes the issue file
    issue.path = path
    return path


def for_date(issues: list[Issue], day: date) -> Issue | None:
    """The first of `issues` dated `day`, whatever its status, or None."""
    return next((i for i in issues if i.date == day), None)


def published(issues: list[Issue]) -> list[Issue]:
    """The published ones of `issues`, in their order."""
    return [i for i in issues if i.status == "published"]


def next_number(issues: list[Issue]) -> int:
    """Issues are numbered in publication order: one more than the last published."""
    return max((i.number for i in published(issues)), default=0) + 1


def draft_number(issues: list[Issue]) -> int:
    """A new draft takes a number no other file has; publish may move it down to close gaps."""
    return max((i.number for i in issues), default=0) + 1


def expected_number(all_issues: list[Issue], issue: Issue) -> int:
    """The number a draft will get: drafts are published oldest first after the last issue."""
    if issue.status == "published":
        return issue.number
    waiting = sorted(
        (i for i in all_issues if i.status != "published"), key=lambda i: (i.date, i.number)
    )
    ahead = next((n for n, i in enumerate(waiting) if i.date == issue.date), len(waiting))
    return next_number(all_issues) + ahead


def waiting(all_issues: list[Issue]) -> list[Issue]:
    """The drafts not yet published (approved or not), oldest date first: the order in which
    they will be published and numbered."""
    return sorted(
        (i for i in all_issues if i.status != "published"), key=lambda i: (i.date, i.number)
    )


WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def waiting_line(all_issues: list[Issue], today: date) -> str:
    """ "2 drafts waiting since Tuesday (2026-05-05)": what a cron mail and `digest status` say
    of the drafts not yet published, by the oldest one's date; "" when none waits. A draft of
    today is one being made, not one waiting: it counts only with an older one."""
    drafts = waiting(all_issues)
    if not drafts or (len(drafts) == 1 and drafts[0].date >= today):
        return ""
    oldest = drafts[0].date
    age = (today - oldest).days
    since = (
        "today"
        if age <= 0
        else f"{WEEKDAYS_EN[oldest.weekday()]} ({oldest.isoformat()})"
        if age < 7
        else f"{oldest.isoformat()}, {age} days"
    )
    plural = "s" if len(drafts) != 1 else ""
    return f"{len(drafts)} draft{plural} waiting since {since}"


def ensure_section(issue: Issue, section_id: str, title: str, order: list[str]) -> Section:
    """The issue's section `section_id`, made in feeds.yaml's order when it has none yet."""
    found = issue.section(section_id)
    if found is not None:
        return found
    section = Section(section_id, title)
    rank = {sid: n for n, sid in enumerate(order)}
    position = len(issue.sections)
    for index, other in enumerate(issue.sections):
        if rank.get(other.id, len(order)) > rank.get(section_id, len(order)):
            position = index
            break
    issue.sections.insert(position, section)
    return section


def with_status(issue: Issue, status: str, **changes: Any) -> Issue:
    """A shallow copy of `issue` with `status` and any other fields in `changes`; sections
    and items are shared with the original. Nothing is written."""
    return replace(issue, status=status, **changes)


# publishing ------------------------------------------------------------------------------------
def publish_in_order(
    config: Config,
    draft: Issue,
    *,
    require_approval: bool = True,
    older_need_approval: bool | None = None,
) -> list[Issue]:
    """Publish `draft` and, first, every older draft (numbers follow dates): returns the issues
    published, oldest first ([] when `draft` already is). An older draft must be approved
    unless `older_need_approval` (default: `require_approval`) is off — auto_publish turns both
    off; `publish --force` only the draft's own — else nothing is published and DigestError
    names that draft and what to do. Raises as `publish` does."""
    if draft.status == "published":
        return []
    older = [i for i in waiting(load_all(config.issues_path)) if i.date < draft.date]
    strict = require_approval if older_need_approval is None else older_need_approval
    if strict:
        blocking = [i for i in older if i.status != "approved"]
        if blocking:
            first = blocking[0]
            path = first.path or config.issues_path / file_name(first.number)
            raise DigestError(
                f"the draft of {first.date} ({path.name}) is older and still waits for review; "
                "issues are published in date order — approve it "
                f"(`digest review --date {first.date} approve`) and publish both, or delete "
                f"{path} if it should not go out"
            )
    if require_approval and draft.status != "approved":  # refuse before any older one goes out
        publish(config, draft, require_approval=True)
    done = [publish(config, old, require_approval=strict) for old in older]
    return [*done, publish(config, draft, require_approval=require_approval)]


def publish(config: Config, draft: Issue, *, require_approval: bool = True) -> Issue:
    """Freeze `draft` as the next numbered issue (one more than the last published; a draft
    holding that number moves past every number) and write it; returns it. Publishing a
    published issue changes nothing. Once the file is written, `draft` itself is changed: its
    number, status "published", `published_at` (now in feeds.yaml's timezone, ISO 8601 to the
    second), its path and every item's 새 항목 cleared; when anything raises, it is as it was.

    Raises DigestError when the draft is not approved and `require_approval`, or when a later
    date is already published (numbers follow dates); IssueFileError when an issue file
    cannot be parsed or `save` finds the number taken. OSError from the disk passes through."""
    if draft.status == "published":
        return draft
    if require_approval and draft.status != "approved":
        raise DigestError(
            f"the draft for {draft.date.isoformat()} is not approved — review it, then run "
            "`digest review approve` (or `digest publish --force`, or auto_publish: true)"
        )
    all_issues = load_all(config.issues_path)
    later = [i for i in published(all_issues) if i.date > draft.date]
    if later:
        raise DigestError(
            f"제 {later[0].number:04d}호 ({later[0].date}) is already published after this "
            f"draft's date {draft.date} — issues are numbered in date order; publish drafts "
            "oldest first or delete this one"
        )
    number = next_number(all_issues)
    clash = next((i for i in all_issues if i.number == number and i.date != draft.date), None)
    if clash:
        # An unpublished draft holds the number: it moves past every existing number.
        clash.number = draft_number(all_issues)
        save(clash, config.issues_path)
    # The caller's draft changes only once the issue is on disk: a failed save leaves it a draft.
    frozen = with_status(
        draft,
        "published",
        number=number,
        published_at=clock.now(config.timezone).isoformat(timespec="seconds"),
        sections=[
            replace(s, items=[replace(i, new=False) for i in s.items]) for s in draft.sections
        ],
    )
    save(frozen, config.issues_path)
    draft.number, draft.status = frozen.number, frozen.status
    draft.published_at, draft.path = frozen.published_at, frozen.path
    for item in draft.items:
        item.new = False
    return draft


# the editor's references -----------------------------------------------------------------------
# A reference (`g1`, `ar3`) names an item for the life of its draft. Reserves are R1, R2…, so
# no section prefix is a lone "r".
_REFERENCE = re.compile(r"^(?P<prefix>[a-z]+)(?P<number>\d+)$")


def ref_prefixes(section_ids: Iterable[str]) -> dict[str, str]:
    """Each section id's reference prefix: its shortest start, lower-case letters only, that
    no other section shares and that is not "r" (reserves are R1, R2…): google → g, aws →
    aw, arxiv → ar, reddit → re."""
    ids = list(dict.fromkeys(section_ids))
    letters = {sid: re.sub(r"[^a-z]", "", sid.lower()) or "s" for sid in ids}
    prefixes: dict[str, str] = {}
    for sid in ids:
        word = letters[sid]
        others = [letters[o] for o in ids if o != sid]
        for size in range(1, len(word) + 1):
            start = word[:size]
            if start != "r" and not any(o.startswith(start) for o in others):
                break
        else:
            start = word  # a word that is a prefix of another's: numbers keep them apart
        while start in prefixes.values():
            start += "x"
        prefixes[sid] = start
    return prefixes


def assign_refs(issue: Issue, section_ids: Iterable[str]) -> bool:
    """Give every item of `issue` without a reference the next one of its section (a dropped
    item: of the section it came from). A reference once given is never changed or reused.
    Returns whether any was given. Section order is `section_ids`, then the issue's own."""
    order = [
        *section_ids,
        *(s.id for s in issue.sections),
        *(d.dropped_from for d in issue.dropped),
    ]
    prefixes = ref_prefixes(o for o in order if o)
    used: dict[str, int] = {}
    everyone = [*issue.items, *issue.dropped]
    for item in everyone:
        found = _REFERENCE.match(item.ref)
        if found:
            prefix, number = found["prefix"], int(found["number"])
            used[prefix] = max(used.get(prefix, 0), number)
    given = False
    placed = [(s.id, item) for s in issue.sections for item in s.items]
    placed += [(d.dropped_from or "dropped", d) for d in issue.dropped]
    for section_id, item in placed:
        if item.ref:
            continue
        prefix = prefixes.get(section_id) or ref_prefixes([*prefixes, section_id])[section_id]
        used[prefix] = used.get(prefix, 0) + 1
        item.ref = f"{prefix}{used[prefix]}"
        given = True
    return given
