"""The no-model summarizer: a lead-sentence 요약 and a quoted key sentence.

It is the fallback when a model fails and the fast path for tests. Its 토막상식 comes from the
curated glossary, so even a model-less issue explains one concept per item where it can.
"""

from __future__ import annotations

import re

from digest.config import Config
from digest.glossary import pick_term
from digest.models import Brief, Item
from digest.summarize import Progress, recent_terms

MODEL_ID = "extractive"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9가-힣])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")
MAX_SENTENCE = 320
# Words that say the sentence carries the claim of the piece.
_CLAIM_WORDS = {
    "we", "propose", "introduce", "present", "show", "achieve", "outperform", "enable",
    "improve", "novel", "new", "first", "results", "open-source", "open-sourcing", "release",
}  # fmt: skip


def sentences(text: str) -> list[str]:
    """The sentences of `text` (split after . ! ? before a capital, digit or Hangul), leaving
    out fragments of 20 characters or fewer."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 20]


def key_sentence(text: str, title: str) -> str:
    """The sentence sharing most with the title and making a claim; ties go to the earlier one."""
    candidates = sentences(text)
    if not candidates:
        return ""
    title_words = {w.lower() for w in _WORD.findall(title)}

    def score(indexed: tuple[int, str]) -> tuple[float, int]:
        index, sentence = indexed
        words = {w.lower() for w in _WORD.findall(sentence)}
        overlap = len(words & title_words)
        claims = len(words & _CLAIM_WORDS)
        length_ok = 1.0 if 60 <= len(sentence) <= MAX_SENTENCE else 0.0
        return (2.0 * overlap + claims + length_ok, -index)

    return _clip(max(enumerate(candidates), key=score)[1])


def _clip(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    return sentence[: MAX_SENTENCE - 1].rsplit(" ", 1)[0] + "…"


def make(config: Config, progress: Progress | None = None) -> ExtractiveSummarizer:
    """The `extractive` backend (summarize.BACKENDS)."""
    return ExtractiveSummarizer(recent_terms(config))


class ExtractiveSummarizer:
    """Briefs without a model: the key sentence quoted from the source, its lead sentence as
    요약 (in the source's language), no 의의, and a curated 토막상식 for a term not among
    `recent_terms` nor already explained in the same call. Marked 검토 필요 when the source
    has nothing to quote. Never raises for an item."""

    model_id = MODEL_ID

    def __init__(self, recent_terms: frozenset[str] = frozenset()) -> None:
        self.recent_terms = recent_terms  # explained in the last 30 published issues

    def summarize(self, items: list[Item]) -> list[Brief]:
        explained: set[str] = set(self.recent_terms)  # one 토막상식 per concept per issue
        return [self.brief(item, explained) for item in items]

    def brief(self, item: Item, explained: set[str]) -> Brief:
        lead = sentences(item.summary)
        key = key_sentence(item.summary, item.title)
        summary = _clip(lead[0]) if lead else ""
        if summary == key:  # don't say the same sentence twice
            summary = _clip(lead[1]) if len(lead) > 1 else ""
        term = pick_term(item.title, item.summary, exclude=explained)
        if term:
            explained.add(term.term)
        return Brief(
            key_sentence=key,
            summary=summary,
            glossary_note=term.display_note if term else "",
            model=MODEL_ID,
            needs_review=not (key or summary),  # nothing to quote: the editor should look
        )
