"""What the site shows beyond single issues: the archive, keywords, 토막상식 and sections.

Plain data built once from the published issues; the templates only lay it out."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache

from digest.glossary import GlossaryTerm, load_glossary
from digest.issue import Issue, IssueItem, Section
from digest.site.slug import keyword_identity, slugify, url_path

# The 19 initial consonants of Hangul syllables, in 가나다 order; doubled ones file under the
# plain consonant as Korean dictionaries' headings do.
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_PLAIN = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}
# A note that matches no glossary term is filed under its opening noun phrase: the words before
# the first topic particle ("전문가 혼합(MoE)은 …" → "전문가 혼합").
_HEADWORD = re.compile(r"^(.{1,24}?)(?:\(|은 |는 |이란 |란 |이라는 |, )")


def issue_url(issue: Issue) -> str:
    """The issue's page relative to the site root: `issues/0042/`."""
    return f"issues/{issue.number:04d}/"


def item_anchor(section: Section, index: int) -> str:
    """`arxiv-3`: the third item of the arXiv section, stable while the editor keeps the order."""
    return f"{slugify(section.id)}-{index}"


def anchored_items(issue: Issue) -> list[tuple[Section, str, IssueItem]]:
    """Every item of `issue` in order, with its section and its anchor on the issue page."""
    return [
        (section, item_anchor(section, n), item)
        for section in issue.sections
        for n, item in enumerate(section.items, 1)
    ]


def initial(word: str) -> str:
    """The heading a word files under: its initial consonant for Hangul, else its first letter."""
    first = word[:1]
    if "가" <= first <= "힣":
        consonant = _CHOSEONG[(ord(first) - 0xAC00) // 588]
        return _PLAIN.get(consonant, consonant)
    return first.upper() if first.isalpha() else "#"


def ganada_key(word: str) -> tuple[int, str]:
    """가나다 order: Hangul first (syllables are in dictionary order by code point), then Latin."""
    first = word[:1]
    group = 0 if "가" <= first <= "힣" or "ㄱ" <= first <= "ㅣ" else 1 if first.isalpha() else 2
    return (group, word.casefold())


@dataclass
class Keyword:
    """A keyword page: the name shown, its slug, and the issues that list it, oldest first;
    `href` is the percent-encoded link, `path` the folder on disk. A keyword that names a
    glossary term (`term`) is that term's page, named by its Korean name; `spellings` are
    the names the issues used for it, in order of first use."""

    name: str
    slug: str
    issues: list[Issue] = field(default_factory=list)
    term: GlossaryTerm | None = None
    spellings: list[str] = field(default_factory=list)

    @property
    def subtitle(self) -> str:
        """The glossary term's English name, shown under its Korean one ("" for a keyword
        that names no term, or a term without a distinct Korean name)."""
        term = self.term
        if term and keyword_identity(term.term) != keyword_identity(self.name):
            return term.term
        return ""

    @property
    def other_names(self) -> list[str]:
        """The spellings issues used that are neither the page's name nor its subtitle."""
        shown = {keyword_identity(self.name), keyword_identity(self.subtitle)}
        return [s for s in self.spellings if keyword_identity(s) not in shown]

    @property
    def href(self) -> str:
        return f"keywords/{url_path(self.slug)}/"

    @property
    def path(self) -> str:
        return f"keywords/{self.slug}/"


@dataclass
class GlossaryUse:
    """One item whose 토막상식 a glossary entry lists: the issue, the item's anchor, the item."""

    issue: Issue
    anchor: str
    item: IssueItem


@dataclass
class GlossaryEntry:
    """One entry of the site's 토막상식 page: its headword (the glossary term's Korean name,
    else the note's opening words), the term when one matched, each distinct note text and
    every item that used one."""

    headword: str
    term: GlossaryTerm | None
    notes: list[str] = field(default_factory=list)
    uses: list[GlossaryUse] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "g-" + url_path(slugify(self.headword))

    @property
    def initial(self) -> str:
        return initial(self.headword)


@dataclass
class SectionIndex:
    """A section's page: every item the section has had, by issue, newest issue first."""

    id: str
    title: str
    slug: str
    # newest issue first; each with the section's items and their anchors
    issues: list[tuple[Issue, list[tuple[str, IssueItem]]]] = field(default_factory=list)

    @property
    def href(self) -> str:
        return f"sections/{url_path(self.slug)}/"

    @property
    def path(self) -> str:
        return f"sections/{self.slug}/"

    @property
    def item_count(self) -> int:
        return sum(len(items) for _, items in self.issues)


def keywords(shown: list[Issue]) -> dict[str, Keyword]:
    """Keyword pages by slug, in 가나다 order. A keyword that names a glossary term under any
    of its names (`keyword_term`: 강화학습, "Reinforcement learning", RL) is one page, named
    by the term's Korean name; any other keyword is its own page, named by the spelling
    used most often."""
    by_identity: dict[str, Keyword] = {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for issue in shown:
        seen: set[str] = set()
        for name in issue.keywords:
            term = keyword_term(name)
            page = _term_name(term) if term else name
            identity = keyword_identity(page)
            spelling = " ".join(name.split())
            if not identity:
                continue
            keyword = by_identity.setdefault(identity, Keyword(page, slugify(page), term=term))
            if spelling not in keyword.spellings:
                keyword.spellings.append(spelling)
            if identity in seen:
                continue  # an issue that lists 강화학습 and RL is listed once
            seen.add(identity)
            spellings[identity][name.strip()] += 1
            keyword.issues.append(issue)
    for identity, keyword in by_identity.items():
        if keyword.term is None:
            keyword.name = min(spellings[identity].items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return {k.slug: k for k in sorted(by_identity.values(), key=lambda k: ganada_key(k.name))}


def keyword_slug(name: str) -> str:
    """The slug of the page keyword `name` is listed on: its glossary term's Korean name
    when it names one (`keyword_term`), else its own (`slugify`)."""
    term = keyword_term(name)
    return slugify(_term_name(term) if term else name)


def keyword_href(name: str) -> str:
    """The link to keyword `name`'s page, relative to the site root (percent-encoded)."""
    return f"keywords/{url_path(keyword_slug(name))}/"


def keyword_term(name: str) -> GlossaryTerm | None:
    """The curated glossary term that keyword `name` names: its English term, Korean name or
    an alias, ignoring case, width, spaces and hyphens ("강화 학습", "reinforcement-learning");
    None for any other keyword. Sense rules do not apply: an editor's keyword names a topic."""
    return _glossary_names().get(_loose(name))


@lru_cache(maxsize=16384)
def _loose(name: str) -> str:
    """A name as keyword_term compares it: Korean spacing and hyphenation vary by writer."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\s\-‐‑–—_]+", "", text)


@cache
def _glossary_names() -> dict[str, GlossaryTerm]:
    """Every name of every glossary term by `_loose`; the first entry to claim one keeps it
    (the term base gives no name to two entries, and tests/test_site_keywords.py checks that
    no two names become one here)."""
    names: dict[str, GlossaryTerm] = {}
    for term in load_glossary():
        for name in (term.term, term.ko, *term.aliases):
            if _loose(name):
                names.setdefault(_loose(name), term)
    return names


def _term_name(term: GlossaryTerm) -> str:
    return term.ko.strip() or term.term


def glossary(shown: list[Issue]) -> list[GlossaryEntry]:
    """Every 토막상식 that appeared, under its glossary term where one matches, in 가나다 order."""
    terms = load_glossary()
    by_note: dict[str, GlossaryTerm | None] = {t.note: t for t in terms}
    entries: dict[str, GlossaryEntry] = {}
    for issue in shown:
        for _, anchor, item in anchored_items(issue):
            if item.glossary_generated:
                continue  # a model's note reaches the glossary page once the editor accepts it
            note = item.glossary_note.strip()
            if not note:
                continue
            if note not in by_note:  # each distinct note is matched once, not per use
                by_note[note] = _term_named_in(note, terms)
            term = by_note[note]
            headword = term.ko if term else _headword(note)
            entry = entries.setdefault(keyword_identity(headword), GlossaryEntry(headword, term))
            if note not in entry.notes:
                entry.notes.append(note)
            entry.uses.append(GlossaryUse(issue, anchor, item))
    return sorted(entries.values(), key=lambda e: ganada_key(e.headword))


def _term_named_in(note: str, terms: tuple[GlossaryTerm, ...]) -> GlossaryTerm | None:
    """An edited note still belongs to the term it opens with (its Korean or English name)."""
    head = note[:40].casefold()
    for term in terms:
        names = [n.casefold() for n in (term.ko, term.term) if n.strip()]
        if any(head.startswith(name) for name in names):  # "" starts every note
            return term
    return None


def _headword(note: str) -> str:
    match = _HEADWORD.match(note)
    return (match[1] if match else note[:12]).strip()


def sections(shown: list[Issue], configured: list[tuple[str, str]]) -> list[SectionIndex]:
    """One index per section: the configured ones in their order, then any found only in files."""
    found: dict[str, SectionIndex] = {
        sid: SectionIndex(sid, title, slugify(sid)) for sid, title in configured
    }
    for issue in reversed(shown):
        for section in issue.sections:
            index = found.setdefault(section.id, SectionIndex(section.id, section.title, ""))
            index.slug = index.slug or slugify(section.id)
            anchored = [(item_anchor(section, n), item) for n, item in enumerate(section.items, 1)]
            if anchored:
                index.issues.append((issue, anchored))
    return [s for s in found.values() if s.issues]


def archive(shown: list[Issue]) -> list[tuple[int, list[tuple[int, list[Issue]]]]]:
    """[(year, [(month, issues newest first)])], newest year first."""
    years: dict[int, dict[int, list[Issue]]] = defaultdict(lambda: defaultdict(list))
    for issue in reversed(shown):
        years[issue.date.year][issue.date.month].append(issue)
    return [
        (year, sorted(months.items(), reverse=True))
        for year, months in sorted(years.items(), reverse=True)
    ]


def korean_datetime(stamp: str) -> str:
    """`2026년 5월 2일 09:30`: an ISO 8601 time (a correction's `at`) as the site writes it;
    a value that is not ISO 8601 (written by hand) is shown as it is."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return f"{korean_date(moment.date())} {moment:%H:%M}"


def korean_date(day: date) -> str:
    """`2026년 11월 23일`: a date as the site writes it, without the weekday."""
    return f"{day.year}년 {day.month}월 {day.day}일"
