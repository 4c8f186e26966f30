"""The issue's 키워드 (`digest review keywords`), and the suggestions an editor picks them from.

A suggestion is a term of the curated glossary (digest/data/glossary.yaml) that the draft's items
mention — in a title, key sentence, 요약 or 의의, in the sense of its note, or as the curated
토막상식 an item carries — offered under its Korean name (강화학습, not "Reinforcement learning";
an acronym such as GPU stays as it is, as Korean text writes it): the site makes one keyword page
of all of a term's names. A term the issue has a keyword for, by any of its names, is not offered
again. arXiv category codes (cs.LG, stat.ML) are never offered: they name a mailing list, not a
topic.

The editor takes suggestions by number: `keywords take 1 3`. A number means the list `keywords`
last showed for that draft — remembered beside what `review list` showed (`refs.remember`) — so a
list that changed since (a re-draft, an edit) cannot turn 3 into another word. A draft whose list
was never shown (a script) takes the numbers of the list as it is now: it is computed
deterministically (most items first, then 가나다 order).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from digest.config import Config
from digest.desk.refs import ReviewError, find_draft, find_editable, recall, remember
from digest.desk.verbs import save
from digest.glossary import GlossaryTerm, matches, term_of_note
from digest.issue import Issue
from digest.site.model import keyword_term
from digest.site.slug import keyword_identity

LIMIT = 12  # suggestions shown: a glance, not a second list to review
# An arXiv category code (cs.LG, stat.ML, q-bio.NC, math-ph, hep-th): arXiv's archives, some with
# a subject class after the dot. Never a keyword an editor would pick, whatever its source.
ARXIV_CATEGORY = re.compile(
    r"(?:cs|stat|math|eess|econ|q-bio|q-fin|physics|astro-ph|cond-mat|nlin|gr-qc|hep-[a-z]+"
    r"|nucl-[a-z]+|math-ph|quant-ph)(?:\.[A-Za-z-]+)?",
    re.IGNORECASE,
)

# A glossary term that is an acronym (GPU, BERT, FLOPs) is written so in Korean text too:
# "그래픽 처리 장치" or "쿠다" is no keyword an editor would pick.
_ACRONYM = re.compile(r"[A-Z][A-Z0-9-]*[A-Z0-9]s?")


@dataclass(frozen=True)
class Suggestion:
    """One suggested 키워드: `word`, what `take` adds (the term's Korean name, else its English
    term; an acronym term as it is), `other`, the term's other name (shown beside it; "" when
    the same), and `items`, how many of the draft's items mention it."""

    word: str
    other: str
    items: int


@dataclass(frozen=True)
class Keywords:
    """The draft's 키워드 after a `keywords` command (`current`), what it added (`added`, in
    order), and the suggestions it has not taken yet, numbered from 1 as `take` reads them."""

    day: date
    current: list[str]
    suggested: list[Suggestion]
    added: list[str] = field(default_factory=list)


def keywords(
    config: Config, day: date | None, action: str | None = None, words: tuple[str, ...] = ()
) -> Keywords:
    """`digest review keywords`: the 키워드 of the draft of `day` (default: the newest), after
    `action` — None shows them, "add" adds `words`, "remove" removes them (ignoring case, width
    and spacing), "take" adds the suggestions numbered `words` (see `take_numbers`) — with the
    suggestions left. Writes the file when something changed. Raises NothingNew when there is
    no draft; ReviewError for a published issue, a keyword to remove that is not there, or a
    number that is not one of the suggestions."""
    draft = find_editable(config, day) if action else find_draft(config, day)
    if action == "remove":
        present = {keyword_identity(k) for k in draft.keywords}
        missing = [w for w in words if keyword_identity(w) not in present]
        if missing:
            raise ReviewError(
                f"no keyword {', '.join(map(repr, missing))} in the draft for {draft.date} — "
                f"it has: {', '.join(draft.keywords) or 'none'}"
            )
        gone = {keyword_identity(w) for w in words}
        draft.keywords = [k for k in draft.keywords if keyword_identity(k) not in gone]
    adding = take_numbers(config, draft, words) if action == "take" else list(words)
    added: list[str] = []
    for word in (" ".join(w.split()) for w in adding if action in ("add", "take")):
        if word and keyword_identity(word) not in {keyword_identity(k) for k in draft.keywords}:
            draft.keywords.append(word)
            added.append(word)
    if action == "remove" or added:
        save(config, draft)
    return Keywords(draft.date, list(draft.keywords), suggest_keywords(draft), added)


def take_numbers(config: Config, draft: Issue, numbers: tuple[str, ...]) -> list[str]:
    """The suggested words `numbers` name ("1", "3", or "1,3"), read against the list `keywords`
    last showed for `draft` (`remember_suggestions`), else against `suggest_keywords(draft)`
    as it is now. Raises ReviewError naming the fix for a token that is not a number, or a
    number the list does not have."""
    shown = recall(config, _shown_key(draft.date))
    if shown is None:  # never shown (a script): the list as it is now, computed the same way
        shown = [s.word for s in suggest_keywords(draft)]
    picked = []
    for token in (t for chunk in numbers for t in chunk.replace(",", " ").split()):
        if not (token.isascii() and token.isdigit()):
            raise ReviewError(
                f"{token!r} is not a suggestion number — `keywords take` takes the numbers "
                f"`digest review keywords` shows; `digest review keywords add {token}` adds a word"
            )
        if not 1 <= int(token) <= len(shown):
            had = f"1–{len(shown)}" if shown else "none"
            raise ReviewError(
                f"no suggestion {int(token)} — the list `digest review keywords` showed for "
                f"{draft.date} has {had}; run it again to see the suggestions"
            )
        picked.append(shown[int(token) - 1])
    return picked


def remember_suggestions(config: Config, result: Keywords) -> None:
    """Record the suggestions of `result` as `keywords` just showed them, numbered from 1, so a
    later `keywords take N` reads N against this list (best effort, as `refs.remember`)."""
    remember(config, _shown_key(result.day), [s.word for s in result.suggested])


def _shown_key(day: date) -> str:
    return f"keywords {day.isoformat()}"  # beside `review list`'s key, the bare date


def suggest_keywords(draft: Issue, limit: int = LIMIT) -> list[Suggestion]:
    """Up to `limit` 키워드 for `draft` (see the module docstring): glossary terms its items
    mention, under their Korean names, most items first, then most items naming it in their
    title, then 가나다 order; none the issue has under any of its names, no arXiv category code.
    Deterministic: the same draft gives the same list."""
    have = {keyword_identity(k) for k in draft.keywords}
    have_terms = {term.term for k in draft.keywords if (term := keyword_term(k)) is not None}
    terms: dict[str, GlossaryTerm] = {}
    items: Counter[str] = Counter()
    titled: Counter[str] = Counter()
    for entry in draft.items:
        body = " ".join((entry.key_sentence, entry.summary, entry.significance))
        found = matches(entry.title, body)
        mentioned = {m.term.term: m.term for m in found}
        in_title = {m.term.term for m in found if m.in_title}
        noted = None if entry.glossary_generated else term_of_note(entry.glossary_note)
        if noted is not None:
            mentioned.setdefault(noted.term, noted)
        for name, term in mentioned.items():
            terms[name] = term
            items[name] += 1
            titled[name] += name in in_title
    ranked = []
    for name, term in terms.items():
        word = term.term if _ACRONYM.fullmatch(term.term) else (term.ko.strip() or term.term)
        if name in have_terms or keyword_identity(word) in have or _is_category(word):
            continue
        other = term.term if word != term.term else term.ko.strip()
        other = "" if keyword_identity(other) == keyword_identity(word) else other
        ranked.append((-items[name], -titled[name], word, other))
    return [Suggestion(word, other, -n) for n, _, word, other in sorted(ranked)[:limit]]


def _is_category(word: str) -> bool:
    return bool(ARXIV_CATEGORY.fullmatch(word.strip()))
