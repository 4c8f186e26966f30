"""The editor's operations on a draft. They never lose an editor's text: every change goes
through the issue file (parse → change → atomic write), which is also what a hand edit touches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from digest import clock
from digest import issue as issues
from digest.config import Config
from digest.desk.concerns import Concerns, concerns
from digest.desk.flags import brief_edited
from digest.desk.refs import (
    EDITOR_SOURCE,
    ReviewError,
    find_draft,
    find_editable,
    numbered,
    resolve,
    resolve_live,
)
from digest.draft import fill_brief, select_for
from digest.errors import DigestError
from digest.fetch.normalize import TITLE_CHARS, canonical_id, canonical_url, http_url, plain_text
from digest.fetch.page import read_page
from digest.http import HttpClient, redact_url
from digest.issue import Issue, IssueItem, Section
from digest.models import Brief, Item
from digest.select import Candidate
from digest.store import Store
from digest.summarize import Summarizer, cache_version, make_summarizer, summarize_cached


class NotApproved(DigestError):
    """The editor declined to approve a draft with flagged items: nothing was written (exit 1)."""


# the operations --------------------------------------------------------------------------------
def approve(
    config: Config, day: date | None = None, *, confirm: Callable[[Concerns], bool] | None = None
) -> Issue:
    """Mark the draft of `day` (default: the newest) approved, the editor's word on every
    brief: its items lose 새 항목 and 미검토. When the draft has items that still want a human
    (`concerns`) and `confirm` is given, it is asked with them first and approving goes on only
    when it returns True. Writes the file and returns the issue. Raises NothingNew when there
    is no draft, ReviewError when it is published or has no items, NotApproved when `confirm`
    says no (nothing written)."""
    draft = find_editable(config, day)
    if not draft.items:
        raise ReviewError(
            f"the draft for {draft.date} has no items — `digest review keep` one or "
            "`digest review add URL` before approving"
        )
    worries = concerns(draft)
    if worries and confirm is not None and not confirm(worries):
        raise NotApproved(
            f"the draft for {draft.date} is not approved; nothing changed — `digest review "
            "list` shows the flagged items"
        )
    draft.status = "approved"
    for item in draft.items:
        item.new = False  # the editor has seen them now
        item.unreviewed = False  # approving is the editor's word on every brief
    save(config, draft)
    return draft


def mark_seen(config: Config, day: date | None, token: str) -> bool:
    """The editor has read item `token` (`review show`): clear its 미검토. Returns whether the
    file changed; a published issue or an already reviewed item is left alone."""
    draft = find_draft(config, day)
    if draft.status == "published":
        return False
    ref = resolve(draft, token, config)
    if not ref.item.unreviewed:
        return False
    ref.item.unreviewed = False
    save(config, draft)
    return True


def accept_note(config: Config, day: date | None, token: str) -> IssueItem:
    """The editor vouches for item `token`'s model-written 토막상식: it loses 생성 토막상식 and
    may then appear on the site's glossary page. Raises ReviewError when there is none."""
    draft = find_editable(config, day)
    ref = resolve_live(draft, token, config)
    if not (ref.item.glossary_note and ref.item.glossary_generated):
        raise ReviewError(
            f"item {ref.label} has no model-written 토막상식 to accept — notes from the curated "
            "glossary need no acceptance"
        )
    ref.item.glossary_generated = False
    ref.item.unreviewed = False
    save(config, draft)
    return ref.item


def drop(config: Config, day: date | None, token: str) -> IssueItem:
    """Move item `token` (a reference like `g1`, or its number) under 뺀 항목 with its text and
    the section it came from, so selection never proposes it again and `keep` can bring it
    back; a section left empty goes. Returns the item. Raises NothingNew without a draft,
    ReviewError for a published issue or an unknown or dropped item."""
    draft = find_editable(config, day)
    ref = resolve_live(draft, token, config)
    assert ref.section is not None
    ref.section.items.remove(ref.item)
    ref.item.dropped_from = ref.section.id
    draft.dropped.append(ref.item)
    _drop_empty_sections(draft)
    save(config, draft)
    return ref.item


def keep(config: Config, day: date | None, which: str) -> IssueItem:
    """Bring back dropped item `which` (its reference or number), or reserve RN (summarized
    now, from the cache if it can); it goes to the end of its section."""
    draft = find_editable(config, day)
    if re.fullmatch(r"[Rr]\d+", which):
        item = _keep_reserve(config, draft, int(which[1:]))
        draft = _fresh(config, draft, item.id)
        section_id, item.dropped_from = item.dropped_from, ""
        _section_for(config, draft, section_id).items.append(item)
    else:
        item = _keep_dropped(config, draft, which)
    save(config, draft)
    return item


def _keep_dropped(config: Config, draft: Issue, token: str) -> IssueItem:
    ref = resolve(draft, token, config)
    if not ref.dropped:
        raise ReviewError(
            f"item {ref.label} ({ref.item.title}) is in the draft already — `keep` brings back "
            "a dropped item or a reserve RN (see `digest review list --reserves`)"
        )
    item = ref.item
    draft.dropped.remove(item)
    section_id = item.dropped_from if item.dropped_from in config.section_ids else None
    section = _section_for(config, draft, section_id or config.section_ids[0])
    item.dropped_from = ""
    section.items.append(item)
    return item


def _keep_reserve(config: Config, draft: Issue, r: int) -> IssueItem:
    with Store(config.state_path) as store:
        found = reserves(config, store, draft)
        if not 1 <= r <= len(found):
            span = f"R1–R{len(found)}" if found else "none"
            raise ReviewError(
                f"no reserve R{r} for {draft.date} (there are {span}) — "
                "see `digest review list --reserves`"
            )
        candidate = found[r - 1].item
        brief = _summarize(config, store, candidate)
    entry = IssueItem.from_brief(candidate, brief)
    entry.dropped_from = candidate.section_id  # where it goes, once the draft is read again
    return entry


def reserves(config: Config, store: Store, draft: Issue) -> list[Candidate]:
    """What selection leaves out of this draft, best first: the editor's R1, R2…"""
    selection = select_for(config, store, draft.date, issues.load_all(config.issues_path))
    left_out = [c for chosen in selection.chosen.values() for c in chosen] + selection.reserves
    return sorted(left_out, key=lambda c: (-c.score, c.item.id))


@dataclass(frozen=True)
class Moved:
    """Where `move` put an item: its section and its position there (from 1)."""

    item: IssueItem
    section: Section
    position: int
    left: str  # the section it left, when it changed sections


def move(
    config: Config, day: date | None, token: str, to: int | None, section_id: str | None
) -> Moved:
    """Put item `token` at position `to` (from 1) of section `section_id` (default: its own).
    With a section and no position it goes to that section's end. Raises ReviewError for an
    unknown section or a position the section does not have (naming the range)."""
    draft = find_editable(config, day)
    ref = resolve_live(draft, token, config)
    assert ref.section is not None
    if section_id is not None:
        _check_section(config, section_id)
    if to is None and section_id is None:
        raise ReviewError(
            f"move {ref.label}: say where — `--to POSITION` within its section, or "
            f"`--section ID` ({', '.join(config.section_ids)})"
        )
    source = ref.section
    target_id = section_id or source.id
    source.items.remove(ref.item)
    target = _section_for(config, draft, target_id)
    last = len(target.items) + 1
    position = last if to is None else to
    if not 1 <= position <= last:
        source.items.insert(ref.n - 1 - _before(draft, source), ref.item)  # as it was
        span = f"1–{last}" if last > 1 else "1"
        raise ReviewError(
            f"--to {to}: {target.title} has positions {span} for item {ref.label} — "
            "--to counts within the section"
        )
    target.items.insert(position - 1, ref.item)
    _drop_empty_sections(draft)
    save(config, draft)
    return Moved(ref.item, target, position, source.title if source is not target else "")


def _before(issue: Issue, section: Section) -> int:
    """How many items come before `section`'s first in `review list`."""
    count = 0
    for other in issue.sections:
        if other is section:
            return count
        count += len(other.items)
    return count


@dataclass(frozen=True)
class Noted:
    """What `note` did: the item, and the 한마디 it replaced ("" when it added one)."""

    item: IssueItem
    replaced: str


def note(
    config: Config, day: date | None, token: str, text: str, *, replace: bool = False
) -> Noted:
    """The editor's own comment on item `token`: the first is its 한마디; a second is added as
    another line of comment (the reference issue has several per item) unless `replace`, which
    puts `text` in the 한마디's place. An empty `text` with `replace` removes the 한마디."""
    draft = find_editable(config, day)
    ref = resolve_live(draft, token, config)
    item = ref.item
    text = plain_text(text)  # one NFC line: a note typed on macOS may arrive as NFD
    replaced = ""
    if replace or not item.note:
        replaced, item.note = (item.note if replace else ""), text
    elif text:
        item.other_lines.append(f"- {text}")
    save(config, draft)
    return Noted(item, replaced)


@dataclass(frozen=True)
class Regenerated:
    """What `regen` did: the item with its new brief, and the key sentence and field lines
    (요약, 의의, 토막상식, …) it no longer has."""

    item: IssueItem
    replaced: list[str]  # the brief lines that were there before, so no text vanishes unseen


def regen(
    config: Config,
    day: date | None,
    token: str,
    model: str | None = None,
    summarizer: Summarizer | None = None,
    *,
    force: bool = False,
) -> Regenerated:
    """Summarize item `token` again, replacing its cached brief; the 한마디 and free lines
    stay. An item the editor edited is refused without `force`; with it, the replaced lines are
    kept in the item as a comment (not shown on the site or in the email)."""
    draft = find_editable(config, day)
    ref = resolve_live(draft, token, config)
    if model:
        settings = config.summarizer.model_copy(update={"model": model})
        config = config.model_copy(update={"summarizer": settings})
    with Store(config.state_path) as store:
        edited = brief_edited(ref.item, store, cache_version(config))
        if edited and not force:
            raise ReviewError(
                f"item {ref.label} has your edits — `digest review regen {ref.label} --force` "
                "replaces its brief and keeps your lines in the item as a comment"
            )
        source = store.item(ref.item.id)
        if source is None:
            raise ReviewError(
                f"item {ref.label} ({ref.item.title}) is not in the store, so there is nothing "
                f"to summarize — edit it with `digest review edit {ref.label}`"
            )
        writer = summarizer or make_summarizer(config)
        brief = writer.summarize([source])[0]
        # Overwrite the cache entry: the old brief is discarded, the next draft reuses this one.
        store.cache_brief(
            source.content_hash,
            writer.model_id,
            cache_version(config),
            brief,
            clock.now(config.timezone),
        )
    # Summarizing may take a while: apply the brief to the file as it is now.
    draft = find_editable(config, day)
    now = next(
        (r.item for r in numbered(draft) if r.item.id == ref.item.id and not r.dropped), None
    )
    if now is None:
        raise ReviewError(
            f"item {ref.label} left the draft while it was summarized — see `digest review list`"
        )
    before = issues.item_lines(now)
    fill_brief(now, brief)
    now.new = False
    after = set(issues.item_lines(now))
    gone = [line for line in before if line.startswith(("> ", "- **[")) and line not in after]
    if edited:
        now.other_lines.extend(issues.comment_line(f"regen replaced: {line}") for line in gone)
    save(config, draft)
    return Regenerated(now, gone)


def save(config: Config, draft: Issue) -> None:
    """Write `draft`, every item with its stable reference (see issue.assign_refs)."""
    issues.assign_refs(draft, config.section_ids)
    issues.save(draft, config.issues_path)


def add(
    config: Config,
    day: date | None,
    url: str,
    *,
    section_id: str | None = None,
    title: str | None = None,
    note_text: str | None = None,
    http: HttpClient | None = None,
) -> tuple[IssueItem, str]:
    """A hand-picked item at the end of a section: `section_id`, else the section on the
    same site, else the first. Its title is `title` (plain text, one line, within TITLE_CHARS),
    else the page's og:title or <title>; a bare URL is never a title. Returns the item and a
    warning ("" when the page was read). Raises ReviewError, writing nothing, for a URL that is
    not http(s), an unknown section, a URL some issue already has, or no title to be had."""
    clean = canonical_url(url)
    if urlsplit(url).scheme not in ("http", "https") or not clean:
        raise ReviewError(f"{url!r} is not an http(s) URL — give the page's https://… address")
    given = plain_text(title or "", TITLE_CHARS)
    if title is not None and (not given or http_url(given)):
        raise ReviewError(
            f"--title {title!r} is not a title — give the headline in words, "
            '--title "What the post is called"'
        )
    if section_id is not None:
        _check_section(config, section_id)
    draft = find_editable(config, day)
    ident = canonical_id(url)
    for other in issues.load_all(config.issues_path):
        if ident in other.claimed_ids:
            where = "this draft" if other.date == draft.date else f"제 {other.number:04d}호"
            raise ReviewError(
                f"{url} is already in {where} — `digest review list` shows it "
                "(a dropped one comes back with `digest review keep N`)"
            )
    page, warning = read_page(clean, http)
    page_title = "" if http_url(page.title) else page.title  # a page titled with its URL
    if not (given or page_title):
        why = warning or f"{redact_url(clean)} has no og:title or <title>"
        raise ReviewError(f'{why} — give the item\'s title: --title "What the post is called"')
    if warning:
        warning += f" — added with your --title, flagged {issues.NEEDS_REVIEW}"
    section = section_id or _guess_section(config, url)
    item = Item(
        id=ident,
        title=given or page_title,
        url=clean,
        source_id=EDITOR_SOURCE,
        section_id=section,
        summary=page.description,
    )
    now = clock.now(config.timezone)
    with Store(config.state_path) as store:
        # Stored like a fetched item, so `regen` and a re-draft can summarize it again.
        store.add_items([item], now)
        brief = _summarize(config, store, item) if item.summary else Brief()
    entry = IssueItem.from_brief(item, brief)
    entry.needs_review = entry.needs_review or not item.summary
    entry.note = plain_text(note_text or "")
    draft = _fresh(config, draft, ident)
    _section_for(config, draft, section).items.append(entry)
    save(config, draft)
    return entry, warning


# helpers ---------------------------------------------------------------------------------------
def _fresh(config: Config, draft: Issue, adding: str) -> Issue:
    """The draft as its file is now, after slow work (a page read, a model call) on a copy."""
    fresh = find_editable(config, draft.date)
    if adding in fresh.claimed_ids:
        raise ReviewError(f"{adding} was added to the draft meanwhile — see `digest review list`")
    return fresh


def _check_section(config: Config, section_id: str) -> None:
    if section_id not in config.section_ids:
        raise ReviewError(
            f"no section {section_id!r} in feeds.yaml — use one of: {', '.join(config.section_ids)}"
        )


def _section_for(config: Config, draft: Issue, section_id: str) -> Section:
    title = next((s.title for s in config.sections if s.id == section_id), section_id)
    return issues.ensure_section(draft, section_id, title, config.section_ids)


def _drop_empty_sections(draft: Issue) -> None:
    draft.sections = [s for s in draft.sections if s.items]


def _guess_section(config: Config, url: str) -> str:
    """The section whose sources live on the same site, else the first section."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for section in config.sections:
        for source in section.sources:
            source_host = (urlsplit(source.url).hostname or "").removeprefix("www.")
            if source_host and (host == source_host or host.endswith("." + source_host)):
                return section.id
    known = {"arxiv.org": "arxiv", "reddit.com": "reddit"}
    for site, section_id in known.items():
        if (host == site or host.endswith("." + site)) and section_id in config.section_ids:
            return section_id
    return config.section_ids[0]


def _summarize(config: Config, store: Store, item: Item) -> Brief:
    summarizer = make_summarizer(config)
    briefs, _ = summarize_cached(
        summarizer, [item], store, cache_version(config), clock.now(config.timezone)
    )
    return briefs[0] if briefs else Brief(needs_review=True)
