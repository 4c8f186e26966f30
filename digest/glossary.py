"""The 토막상식 term base: which concept in an item deserves a one-line explanation.

Detection matches the English term, its aliases and its Korean name on word boundaries, prefers
the most specific term (one whose match does not sit inside another's: "large language model"
over "language model"), a term in the title over one in the body, then the earliest mention.
A note shown in one of the last `RECENT_ISSUES` published issues is not shown again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from digest.issue import Issue

# How far back "no repeat" looks: a reader of a daily letter remembers about a month of notes.
RECENT_ISSUES = 30
_HANGUL = "가-힣"


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    ko: str
    note: str
    aliases: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.term, self.ko, self.aliases)

    @property
    def first_mention(self) -> str:
        """Terminology rule: the first mention reads `한국어(English)`, later the Korean alone."""
        if not self.ko or self.ko.casefold() == self.term.casefold():
            return self.term
        return f"{self.ko}({self.term})"

    @property
    def display_note(self) -> str:
        """The note with its first mention as `한국어(English)` when the note lacks the English."""
        note = self.note.strip()
        if not self.ko or self.ko == self.term or _names_english(note, self):
            return note
        rest = note[len(self.ko) :]
        if note.startswith(self.ko) and not rest.startswith("("):  # "…검증(TAV)은" stays
            return self.first_mention + rest
        return note


@dataclass(frozen=True)
class Match:
    term: GlossaryTerm
    start: int
    end: int
    in_title: bool


def _names_english(note: str, term: GlossaryTerm) -> bool:
    head = note[: len(term.ko) + 40].casefold()
    return any(name.casefold() in head for name in (term.term, *term.aliases))


@cache
def _pattern(term: str, ko: str, aliases: tuple[str, ...]) -> re.Pattern[str]:
    latin = sorted({term, *aliases}, key=len, reverse=True)
    parts = [rf"(?<![\w-])(?:{'|'.join(re.escape(n) for n in latin)})(?![\w-])"]
    if ko:
        # Korean names take particles right after them (강화학습은, 양자화를), so only the start
        # is a boundary; "이미지 확산" must not match inside a longer Hangul word.
        parts.append(rf"(?<![{_HANGUL}]){re.escape(ko)}")
    return re.compile("|".join(parts), re.IGNORECASE)


@cache
def load_glossary() -> tuple[GlossaryTerm, ...]:
    text = resources.files("digest").joinpath("data/glossary.yaml").read_text(encoding="utf-8")
    return tuple(
        GlossaryTerm(
            term=str(entry["term"]),
            ko=str(entry.get("ko") or ""),
            note=str(entry["note"]).strip(),
            aliases=tuple(str(a) for a in entry.get("aliases") or ()),
        )
        # libyaml's loader when PyYAML has it: ten times faster on this file, same result.
        for entry in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    )


def matches(title: str, body: str, terms: Iterable[GlossaryTerm] | None = None) -> list[Match]:
    """Every glossary term found in the title or body, the most fitting first."""
    found: list[Match] = []
    for term in load_glossary() if terms is None else terms:
        hit = term.pattern.search(title)
        if hit:
            found.append(Match(term, hit.start(), hit.end(), True))
            continue
        hit = term.pattern.search(body)
        if hit:
            offset = len(title) + 1  # body positions come after the title's
            found.append(Match(term, offset + hit.start(), offset + hit.end(), False))
    specific = [m for m in found if not any(_inside(m, other) for other in found)]
    return sorted(specific, key=lambda m: (not m.in_title, m.start, -(m.end - m.start)))


def _inside(m: Match, other: Match) -> bool:
    """`m` sits inside a longer match of another term (it names the more general concept)."""
    return (
        other is not m
        and other.in_title == m.in_title
        and other.start <= m.start
        and m.end <= other.end
        and (other.end - other.start) > (m.end - m.start)
    )


def pick_term(
    title: str, body: str, exclude: set[str] | frozenset[str] = frozenset()
) -> GlossaryTerm | None:
    """The most fitting term of an item, skipping those already explained (`exclude`)."""
    for match in matches(title, body):
        if match.term.term not in exclude:
            return match.term
    return None


def find_term(text: str, exclude: set[str] | frozenset[str] = frozenset()) -> GlossaryTerm | None:
    """The most fitting term mentioned in `text` (no title known), skipping `exclude`."""
    return pick_term("", text, exclude)


def term_of_note(note: str) -> GlossaryTerm | None:
    """The curated term a published note explains: the same text, or a note opening with its name
    (an editor may have reworded it)."""
    note = note.strip()
    if not note:
        return None
    terms = load_glossary()
    for term in terms:
        if note in (term.note, term.display_note):
            return term
    head = note[:40].casefold()
    for term in terms:
        if (term.ko and head.startswith(term.ko.casefold())) or head.startswith(
            term.term.casefold()
        ):
            return term
    return None


def recently_explained(issues: Iterable[Issue], limit: int = RECENT_ISSUES) -> frozenset[str]:
    """Terms whose note appeared in the last `limit` published issues."""
    published = sorted((i for i in issues if i.status == "published"), key=lambda i: i.number)
    used: set[str] = set()
    for issue in published[-limit:] if limit > 0 else []:
        for item in issue.items:
            term = term_of_note(item.glossary_note)
            if term:
                used.add(term.term)
    return frozenset(used)
