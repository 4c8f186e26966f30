"""Which stored items make an issue: eligibility, dedup, ranking, caps, grouping.

The route, in order:
1. eligibility — not in another issue, inside the date window, not stickied, not removed or
   deleted on Reddit, over the source's `min_score` and `min_relevance` (fetch kept everything;
   the rules live here, so an item can be judged again when they change);
2. dedup — one item per canonical id, url (`normalize.url_key`: tracking parameters, a trailing
   slash, http/https and www. make no new article) or arXiv id, so an edited title or a changed
   GUID is still the same story; and one item per title among other sources' items of the
   same day (two aggregators carrying one post);
3. ranking — interests, cross-mentions (other sources linking it), arXiv announce type, Reddit
   score and comments, freshness; every addend is kept as a reason for `--explain`;
4. caps — `max_items` per section, the rest are the editor's reserves;
5. grouping — a Reddit thread or blog post that links an item chosen in this issue becomes that
   item's discussion (`Candidate.discussions`, and `Candidate.discusses` on the thread).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from digest.config import Config, SourceConfig
from digest.fetch.normalize import ARXIV_ID, url_key
from digest.models import Item

# Two sources' items under one title within this span are one story (aggregators, mirrors).
SAME_TITLE_WITHIN = timedelta(days=1)
# arXiv announce types: a new paper is news, a cross-list a little less, a new version of an
# old paper rarely is.
ANNOUNCE_BONUS = {"new": 0.5, "cross": 0.25, "replace": -0.5, "replace-cross": -0.5}
HREF = re.compile(r"""https?://[^\s"'<>()\[\]]+""", re.I)


@dataclass(frozen=True)
class Candidate:
    """An eligible item with its score (higher is better) and the reasons that add up to it,
    the interests' summed weight, and its discussion threads (or, on a thread, the id of the
    item it discusses)."""

    item: Item
    score: float
    reasons: tuple[str, ...] = ()
    relevance: float = 0.0  # summed weight of the interests it matched
    # Threads and posts elsewhere that link this item (best first) …
    discussions: tuple[Item, ...] = ()
    # … and, on such a thread, the id of the item it discusses.
    discusses: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "url": self.item.url,
            "source_id": self.item.source_id,
            "section_id": self.item.section_id,
            "score": self.score,
            "relevance": self.relevance,
            "reasons": list(self.reasons),
            "discussions": [d.id for d in self.discussions],
            "discusses": self.discusses or None,
        }


@dataclass
class Selection:
    """The result of `select`: per section the candidates within its cap, best first; the
    eligible ones over a cap (the editor's reserves); every ineligible item with why."""

    chosen: dict[str, list[Candidate]]  # section id → best first, within the cap
    reserves: list[Candidate] = field(default_factory=list)  # eligible, but over a cap
    rejected: list[tuple[Item, str]] = field(default_factory=list)  # not eligible, and why

    def items(self, section_id: str) -> list[Item]:
        return [c.item for c in self.chosen.get(section_id, [])]


# matching ---------------------------------------------------------------------------------
def _pattern(term: str) -> re.Pattern[str]:
    """Latin terms match whole words (plural allowed); Korean ones inside words (강화학습은).
    Both sides are NFC, so a term typed on macOS (NFD) matches text that is not."""
    escaped = re.escape(unicodedata.normalize("NFC", term).lower())
    if term.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?:s|es)?(?![a-z0-9])")
    return re.compile(escaped)


def interests_of(item: Item, interests: dict[str, float]) -> list[tuple[str, float]]:
    """The interests an item's title and summary match, each once, in feeds.yaml order."""
    text = unicodedata.normalize("NFC", f"{item.title}\n{item.summary}").lower()
    return [(term, weight) for term, weight in interests.items() if _pattern(term).search(text)]


def keys(item: Item) -> set[str]:
    """Every name the same story goes by: id, url key (`normalize.url_key`), arXiv id."""
    found = {item.id}
    found.update(key for key in (url_key(item.url), _id_key(item.id)) if key)
    paper = (item.arxiv.arxiv_id if item.arxiv else None) or _arxiv(item.url)
    if paper:
        found.add(f"arxiv:{paper}")
    return found


def _id_key(ident: str) -> str:
    """The url key of an id that is a URL (an issue's item id, an item's own), else ""."""
    return url_key(ident) if ident.startswith(("http://", "https://")) else ""


def links(item: Item) -> set[str]:
    """Keys of what an item points at: its link out, urls and arXiv ids in its text (a link
    with a fragment names the page too: a thread linking post#comments discusses the post)."""
    text = " ".join((item.reddit.link if item.reddit else "", item.summary, item.html))
    found = {f"arxiv:{m.group(1)}" for m in ARXIV_ID.finditer(text)}
    for url in HREF.findall(text):
        url = url.rstrip(".,;:")
        found.update(key for key in (url_key(url), url_key(url, fragment=False)) if key)
    return found - keys(item)


def _arxiv(url: str) -> str | None:
    match = ARXIV_ID.search(url)
    return match.group(1) if match else None


# scoring -----------------------------------------------------------------------------------
def score(
    item: Item,
    day_end: datetime,
    interests: dict[str, float] | None = None,
    mentioned_by: set[str] | None = None,
    config: Config | None = None,
) -> Candidate:
    """Higher is better; each addend leaves a reason behind."""
    interest_weight = config.select.interest_weight if config else 1.0
    cross_weight = config.select.cross_mention if config else 1.5
    reasons = []
    value = 0.0
    matched = interests_of(item, interests or {})
    relevance = sum(weight for _, weight in matched)
    if matched:
        value += interest_weight * relevance
        terms = ", ".join(f"{term} (+{weight * interest_weight:g})" for term, weight in matched)
        reasons.append(f"interests: {terms}")
    if mentioned_by:
        bonus = cross_weight * len(mentioned_by)
        value += bonus
        reasons.append(f"linked by {', '.join(sorted(mentioned_by))} (+{bonus:g})")
    announce = item.announce_type
    if announce in ANNOUNCE_BONUS:
        value += ANNOUNCE_BONUS[announce]
        reasons.append(f"arXiv {announce} ({ANNOUNCE_BONUS[announce]:+g})")
    votes = item.reddit.score if item.reddit else 0
    if votes > 0:
        bonus = math.log10(1 + votes)
        value += bonus
        reasons.append(f"reddit score {votes} (+{bonus:.2f})")
    comments = item.reddit.comments if item.reddit else 0
    if comments > 0:
        bonus = 0.5 * math.log10(1 + comments)
        value += bonus
        reasons.append(f"{comments} comments (+{bonus:.2f})")
    if item.published:
        age_days = max(0.0, (day_end - item.published).total_seconds() / 86400)
        freshness = 1.0 / (1.0 + age_days)
        value += freshness
        reasons.append(f"freshness {freshness:.2f} ({age_days:.1f} days old)")
    return Candidate(item, round(value, 4), tuple(reasons), relevance)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# eligibility --------------------------------------------------------------------------------
def _ineligible(
    item: Item,
    source: SourceConfig | None,
    relevance: float,
    taken: set[str],
    drafted: set[str],
    sections: set[str],
    day_end: datetime,
    day_start: datetime | None,
    window: int | None,
) -> str | None:
    """Why an item cannot be in this issue, or None."""
    if keys(item) & drafted:
        return "in this day's draft already (kept or dropped)"
    shown = keys(item) & taken
    if shown:
        if item.announce_type.startswith("replace"):
            return "a new version of a paper already in an issue"
        return "already in an issue"
    if item.section_id not in sections:
        return f"section {item.section_id!r} is not in feeds.yaml"
    if item.published and item.published >= day_end:
        return "published after this issue's day"
    if day_start and item.published and item.published < day_start:
        return f"older than {window} days"
    if item.reddit and item.reddit.stickied:
        return "stickied (a moderators' notice, not news)"
    if item.reddit and item.reddit.removed:
        return f"{item.reddit.removed} on Reddit: nothing left to show"
    if source is not None:
        votes = item.reddit.score if item.reddit else None
        if source.min_score and votes is not None and votes < source.min_score:
            return f"score {votes} under min_score {source.min_score}"
        if relevance < source.min_relevance:
            return f"off-topic: interests weigh {relevance:g}, under min_relevance " + (
                f"{source.min_relevance:g}"
            )
    return None


def window(config: Config, day: date) -> tuple[datetime | None, datetime]:
    """The publication times the issue of `day` can take, as (start, end), aware in feeds.yaml's
    timezone: from midnight `select.window_days` days before `day` (None when the window is
    null: no limit) up to midnight after `day`, end excluded. THE date window: `select` judges
    by it, and `draft.select_for` reads only its items from the store."""
    tz = ZoneInfo(config.timezone)
    day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    days = config.select.window_days
    return (day_end - timedelta(days=days + 1) if days else None), day_end


def select(
    config: Config,
    candidates: list[Item],
    day: date,
    taken: set[str],
    already_in_draft: dict[str, int] | None = None,
    drafted: frozenset[str] = frozenset(),
) -> Selection:
    """Items for each section of the issue of `day` (a date in feeds.yaml's timezone), best
    first, within the section's cap; the rest as reserves, and every ineligible item with why.

    `taken` holds ids that appear in any other issue (they are not news twice); `drafted` the
    ids this day's draft already holds or dropped; `already_in_draft` counts what the draft
    holds per section (see `draft.claims`, the one rule that fills all three)."""
    day_start, day_end = window(config, day)
    already_in_draft = already_in_draft or {}
    sources = {source.id: source for _, source in config.sources}
    taken_keys = set(taken) | {key for key in map(_id_key, taken) if key}
    drafted_keys = set(drafted) | {key for key in map(_id_key, drafted) if key}
    selection = Selection(chosen={s.id: [] for s in config.sections})
    eligible: list[Item] = []
    for item in candidates:
        relevance = sum(w for _, w in interests_of(item, config.interests))
        why = _ineligible(
            item,
            sources.get(item.source_id),
            relevance,
            taken_keys,
            drafted_keys,
            set(selection.chosen),
            day_end,
            day_start,
            config.select.window_days,
        )
        if why:
            selection.rejected.append((item, why))
        else:
            eligible.append(item)
    mentions = _mentions(eligible)
    ranked = [
        score(item, day_end, config.interests, mentions.get(item.id), config) for item in eligible
    ]
    ranked.sort(key=lambda c: (-c.score, c.item.id))
    kept = _dedup(ranked, selection)
    for candidate in kept:
        section_id = candidate.item.section_id
        chosen = selection.chosen[section_id]
        cap = config.section(section_id).max_items
        if len(chosen) + already_in_draft.get(section_id, 0) < cap:
            chosen.append(candidate)
        else:
            selection.reserves.append(candidate)
    if config.select.group_discussions:
        _group(selection)
    return selection


def _mentions(items: list[Item]) -> dict[str, set[str]]:
    """item id → the other sources whose items link it."""
    owner: dict[str, Item] = {}
    for item in items:
        for key in keys(item):
            owner.setdefault(key, item)
    found: dict[str, set[str]] = {}
    for item in items:
        for key in links(item):
            target = owner.get(key)
            if target is not None and target.source_id != item.source_id:
                found.setdefault(target.id, set()).add(item.source_id)
    return found


def _dedup(ranked: list[Candidate], selection: Selection) -> list[Candidate]:
    """The best-scored of each story; the others are rejected, naming the one kept. One story:
    a shared key (`keys`), or the same title from another source within SAME_TITLE_WITHIN."""
    seen: dict[str, str] = {}
    titled: dict[str, list[Item]] = {}
    kept = []
    for candidate in ranked:
        item = candidate.item
        names = keys(item)
        first = next((seen[k] for k in names if k in seen), None)
        title = _title_key(item.title)
        if first is None:
            first = next(
                (o.id for o in titled.get(title, ()) if _same_day_elsewhere(item, o)), None
            )
        if first is not None:
            if first != item.id:
                selection.rejected.append((item, f"same story as {first}"))
            continue
        for name in names:
            seen[name] = item.id
        titled.setdefault(title, []).append(item)
        kept.append(candidate)
    return kept


def _title_key(title: str) -> str:
    """Titles compared as a reader reads them: NFC, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFC", title).casefold().split())


def _same_day_elsewhere(item: Item, other: Item) -> bool:
    """Another source's item published within SAME_TITLE_WITHIN of this one."""
    if item.source_id == other.source_id or not (item.published and other.published):
        return False
    return abs(item.published - other.published) <= SAME_TITLE_WITHIN


def _group(selection: Selection) -> None:
    """Attach threads and posts that link a chosen item to it, as its discussion."""
    chosen = [c for section in selection.chosen.values() for c in section]
    owner = {key: c.item for c in chosen for key in keys(c.item)}
    attached: dict[str, list[Item]] = {}
    discusses: dict[str, str] = {}
    for candidate in chosen + selection.reserves:  # best first within each list
        item = candidate.item
        if item.id.startswith("arxiv:"):
            continue  # a paper is discussed; it does not discuss
        # A blog linking its own archive is not a discussion: only another source's link is.
        targets = (owner[k] for k in sorted(links(item)) if k in owner)
        target = next((t for t in targets if t.source_id != item.source_id), None)
        if target is not None and target.id != item.id:
            attached.setdefault(target.id, []).append(item)
            discusses[item.id] = target.id
    if not discusses:
        return

    def regroup(candidate: Candidate) -> Candidate:
        return replace(
            candidate,
            discussions=tuple(attached.get(candidate.item.id, ())),
            discusses=discusses.get(candidate.item.id, ""),
        )

    for section_id, section in selection.chosen.items():
        selection.chosen[section_id] = [regroup(c) for c in section]
    selection.reserves = [regroup(c) for c in selection.reserves]
