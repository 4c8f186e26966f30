"""The draft stage: select → summarize → the issue file for a date.

Re-drafting a date keeps everything already in its file — the editor's edits, notes, drops and
order — and only appends items that are new since (flagged 새 항목) and fills briefs that are
still empty, so running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from digest import clock
from digest import issue as issues
from digest.config import Config
from digest.errors import NothingNew
from digest.issue import Issue, IssueItem
from digest.models import Brief, Item
from digest.select import Selection, select, window
from digest.store import Outside, Store
from digest.summarize import Summarizer, cache_version, make_summarizer, summarize_cached


@dataclass(frozen=True)
class DraftResult:
    """What `make_draft` did: the issue as it now is, items added and briefs filled by this
    run, briefs that came from the cache, and whether the file was written."""

    issue: Issue
    added: int  # items added by this run
    cached: int  # briefs that came from the cache
    changed: bool  # whether the file was written
    filled: int = 0  # items already in the draft whose empty brief this run wrote


@dataclass(frozen=True)
class Claims:
    """What the issue of one date has taken, as selection must see it."""

    elsewhere: frozenset[str]  # ids in another date's issue, kept or dropped: never news twice
    drafted: frozenset[str]  # ids this date's draft holds or its editor dropped
    in_draft: dict[str, int]  # per section: items the draft holds plus items dropped from it


def claims(all_issues: list[Issue], day: date) -> Claims:
    """THE rule for what a day's draft has taken, used by the draft, by `draft --explain` and
    by the editor's reserves. A dropped item still counts against its section's cap: a drop is
    a decision, not a gap for the next-best item to fill."""
    elsewhere = frozenset(i for other in all_issues if other.date != day for i in other.claimed_ids)
    draft = issues.for_date(all_issues, day)
    if draft is None:
        return Claims(elsewhere, frozenset(), {})
    in_draft = {s.id: len(s.items) for s in draft.sections}
    for dropped in draft.dropped:
        if dropped.dropped_from:
            in_draft[dropped.dropped_from] = in_draft.get(dropped.dropped_from, 0) + 1
    return Claims(elsewhere, frozenset(draft.claimed_ids), in_draft)


def select_for(
    config: Config, store: Store, day: date, all_issues: list[Issue], *, full: bool = False
) -> Selection:
    """Selection for `day` under `claims`: what a draft of that date would add now. Only the
    items the date window can take are read (`select.window`, `Store.items_published`), so the
    cost follows the window, not the history stored; `full` reads every stored item instead
    (the same rules judge them: `--explain --full` lists each with why it was left out, and an
    undated item no source lists any more is offered again)."""
    taken = claims(all_issues, day)
    start, end = window(config, day)
    stored = store.items() if full or start is None else store.items_published(start, end)
    return select(config, stored, day, set(taken.elsewhere), taken.in_draft, taken.drafted)


def outside_window(config: Config, store: Store, day: date, full: bool = False) -> Outside | None:
    """What `select_for(…, full=full)` did not read for `day` (`Store.outside`), or None when it
    read everything (`full`, or no window)."""
    start, end = window(config, day)
    return None if full or start is None else store.outside(start, end)


def make_draft(
    config: Config,
    store: Store,
    day: date,
    summarizer: Summarizer | None = None,
    *,
    full: bool = False,
) -> DraftResult:
    """Select and summarize the items of `day` (a date in feeds.yaml's timezone) into its
    draft: a new issue file with the next free number, or the existing draft, to which only
    new items are appended (flagged 새 항목) and empty briefs filled. An approved or published
    issue is left alone. Returns what was done.

    `summarizer` replaces the configured backend (tests, progress); `full` judges every stored
    item, not only the date window's (`select_for`). The file is merged as it
    is after summarizing, so an edit saved meanwhile is kept; it is written only when
    something was added or filled.

    Raises NothingNew when there is no draft for `day` and nothing to put in one, its message
    saying why and what to do (`explain_empty`); ConfigError
    or another DigestError from the summarizer (a missing model stack, a model that cannot
    load, a server that refuses); IssueFileError for an issue file that cannot be parsed or
    a number another file holds. The store's SQLite errors and OSError from writing pass
    through (`runs.stage` names them in `digest daily`)."""
    all_issues = issues.load_all(config.issues_path)
    existing = issues.for_date(all_issues, day)
    if existing and existing.status != "draft":
        return DraftResult(existing, 0, 0, False)  # approved or published: frozen
    current = existing or Issue(number=issues.draft_number(all_issues), date=day, name=config.title)
    selection = select_for(config, store, day, all_issues, full=full)
    new_items = [item for section in config.sections for item in selection.items(section.id)]
    unfilled = _unfilled(current, store)
    if not new_items and not unfilled:
        if existing:
            return DraftResult(existing, 0, 0, False)
        outside = outside_window(config, store, day, full)
        raise NothingNew(explain_empty(config, day, selection, outside))
    summarizer = summarizer or make_summarizer(config)
    to_summarize = new_items + [item for item, _ in unfilled]
    now = clock.now(config.timezone)
    version = cache_version(config)
    briefs, cached = summarize_cached(summarizer, to_summarize, store, version, now)
    by_id = dict(zip((item.id for item in to_summarize), briefs, strict=True))
    if existing is not None and existing.path is not None:
        # Summarizing can take minutes: merge into the file as it is now, so an edit the editor
        # saved meanwhile is kept, not overwritten by the copy read before.
        current = issues.load(existing.path)
        if current.status != "draft":
            return DraftResult(current, 0, cached, False)  # approved meanwhile: frozen
    filled = 0
    for entry in current.items:
        brief = by_id.get(entry.id)
        if brief is not None and not has_brief(entry) and _says_something(brief):
            fill_brief(entry, brief)
            filled += 1
    claimed = current.claimed_ids
    added = 0
    for section_config in config.sections:
        picked = [
            c for c in selection.chosen.get(section_config.id, []) if c.item.id not in claimed
        ]
        if not picked:
            continue
        section = issues.ensure_section(
            current, section_config.id, section_config.title, config.section_ids
        )
        for candidate in picked:
            item = candidate.item
            entry = IssueItem.from_brief(item, by_id[item.id])
            # A Reddit thread or a post that links this item is shown as its discussion, as the
            # reference issue does for EfficientNet.
            entry.other_lines.extend(discussion_line(d) for d in candidate.discussions)
            # Only a draft the editor already had gets the flag: a first draft is all new.
            entry.new = existing is not None
            section.items.append(entry)
            added += 1
    if not added and not filled:
        return DraftResult(current, 0, cached, False)  # nothing could be filled: no write
    issues.assign_refs(current, config.section_ids)  # the editor's references, as items join
    issues.save(current, config.issues_path)
    return DraftResult(current, added, cached, True, filled)


def explain_empty(
    config: Config, day: date, selection: Selection, outside: Outside | None = None
) -> str:
    """Why the draft of `day` has nothing to take, and what to do, from the `selection` that
    found nothing (`select_for`) and what it did not read (`outside_window`; None when it read
    every stored item): for the message of NothingNew (exit 3).

    An empty store asks for `digest fetch`. Otherwise it says how many items are stored and the
    newest one's date; when every item is older than the window, the `select.window_days` that
    would reach the newest and the `--date` that would take it; else how many each rule left out
    (older than the window, already in an issue, published after `day`, the rest) and
    `digest draft --explain`, which names the reason for each item."""
    when = day.isoformat()
    stored = [item for item, _ in selection.rejected] + [c.item for c in selection.reserves]
    stored += [c.item for chosen in selection.chosen.values() for c in chosen]
    unread = outside or Outside(0, 0, None)
    total_stored = len(stored) + unread.older + unread.later
    if not total_stored:
        return (
            f"nothing to draft for {when}: no items are stored yet — run `digest fetch` first "
            "(or `digest daily`, which fetches and drafts)"
        )
    tz = ZoneInfo(config.timezone)
    dates = [item.published.astimezone(tz).date() for item in stored if item.published]
    if unread.newest:
        dates.append(unread.newest.astimezone(tz).date())
    newest = max(dates) if dates else None
    days = config.select.window_days
    counts = {"old": unread.older, "issue": 0, "later": unread.later, "other": 0}
    for _, why in selection.rejected:
        counts[_rule(why)] += 1
    counts["other"] += len(stored) - len(selection.rejected)
    total = _count(total_stored, "stored item")
    if counts["old"] == total_stored and days and newest:
        every = f"all {total} are" if total_stored > 1 else f"the {total} is"
        return (
            f"nothing to draft for {when}: {every} older than the {days}-day window; the "
            f"newest is from {newest.isoformat()} — to take it, set "
            f"`select.window_days: {(day - newest).days}` in feeds.yaml or draft its day with "
            f"`digest draft --date {newest.isoformat()}`; `digest fetch` brings newer items"
        )
    parts = [
        f"{counts['old']:,} older than the {days}-day window" if counts["old"] else "",
        f"{counts['issue']:,} already in an issue" if counts["issue"] else "",
        f"{counts['later']:,} published after {when}" if counts["later"] else "",
        f"{counts['other']:,} left out by other rules" if counts["other"] else "",
    ]
    hints = ["run `digest fetch` for newer items"]
    if counts["old"]:
        hints.append("raise `select.window_days` in feeds.yaml")
    if counts["later"]:
        hints.append("draft a later day with `digest draft --date`")
    newest_text = f" (the newest from {newest.isoformat()})" if newest else ""
    return (
        f"nothing to draft for {when}: none of the {total}{newest_text} is new — "
        f"{', '.join(p for p in parts if p)}; {', or '.join(hints)}; "
        "`digest draft --explain` shows why each was left out"
    )


def _rule(why: str) -> str:
    """The rule behind a reason `select` gave for leaving an item out, for `explain_empty`."""
    if why.startswith("older than"):
        return "old"
    if "already in an issue" in why:
        return "issue"
    if why.startswith("published after"):
        return "later"
    return "other"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def discussion_line(thread: Item) -> str:
    """The line a discussion thread adds under the item it links: `- 토론: [레딧] [title](url)`
    with its score and comment count when known (the source id instead of 레딧 for a post)."""
    where = "레딧" if thread.id.startswith("reddit:") else thread.source_id
    facts = []
    if thread.reddit and thread.reddit.score:
        facts.append(f"점수 {thread.reddit.score}")
    if thread.reddit and thread.reddit.comments:
        facts.append(f"댓글 {thread.reddit.comments}")
    tail = "".join(f" · {fact}" for fact in facts)
    return f"- 토론: [{where}] {issues.link(thread.title, thread.url)}{tail}"


def _says_something(brief: Brief) -> bool:
    return any((brief.key_sentence, brief.summary, brief.significance, brief.glossary_note))


def _unfilled(issue: Issue, store: Store) -> list[tuple[Item, IssueItem]]:
    """Items in the draft with no brief at all, that the store knows well enough to summarize."""
    found = []
    for entry in issue.items:
        if has_brief(entry):
            continue
        item = store.item(entry.id)
        if item is not None and (item.summary or item.title):
            found.append((item, entry))
    return found


def has_brief(entry: IssueItem) -> bool:
    """Whether the entry has any brief text: a key sentence, 요약, 의의 or 토막상식."""
    return any((entry.key_sentence, entry.summary, entry.significance, entry.glossary_note))


def fill_brief(entry: IssueItem, brief: Brief) -> None:
    """Write a brief's fields into an item, leaving the editor's note and free lines alone."""
    # One readable line each, as IssueItem.from_brief writes them (a model's answer may hold
    # line breaks; the file would keep them as references and the desk would see an edit).
    entry.key_sentence = issues.one_line(brief.key_sentence)
    entry.summary = issues.one_line(brief.summary)
    entry.significance = issues.one_line(brief.significance)
    entry.glossary_note = issues.one_line(brief.glossary_note)
    entry.model = brief.model
    entry.needs_review = brief.needs_review
    entry.review_reasons = list(brief.review_reasons)
    entry.unreviewed = bool(brief.model)  # machine-written: the editor has not seen this text
    entry.glossary_generated = brief.glossary_generated
