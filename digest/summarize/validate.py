"""Checks on what a model wrote, before it becomes a `Brief`.

A small model can answer in English, repeat the few-shot examples, stop mid-sentence or invent
a number. Each check names what is wrong, so a rejected brief can be retried and, failing that,
marked 검토 필요 with the reason in the log.
"""

from __future__ import annotations

import re

from digest.models import Item
from digest.summarize.prompt import EXAMPLES, LABELS, SYSTEM, Draft

# Characters per field: a 요약 is one or two sentences, a 의의 one, a 토막상식 one to three.
LENGTH = {"summary": (15, 400), "significance": (8, 250), "glossary_note": (15, 350)}
# Share of Hangul among letters: the reference keeps English terms (CNN, weight, grid search)
# but writes the sentence in Korean.
MIN_HANGUL = 0.5
# Consecutive characters shared with an example answer that count as an echo.
ECHO_CHARS = 24
_HANGUL = re.compile(r"[가-힣]")
_LETTER = re.compile(r"[^\W\d_]")
_URL = re.compile(r"https?://[^\s)\]>\"']+|www\.[^\s)\]>\"']+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PROMPT_MARKS = ("제목:", "원문:", "뉴랄브리핑:", "glossary_note", "significance")


def hangul_share(text: str) -> float:
    letters = _LETTER.findall(_URL.sub(" ", text))  # a quoted link is not an English sentence
    if not letters:
        return 0.0
    return len(_HANGUL.findall(text)) / len(letters)


def problems(draft: Draft, item: Item) -> list[str]:
    """What is wrong with the 요약 and 의의 of `draft` for `item`; empty when publishable."""
    found = _field_problems(draft, item, ("summary", "significance"))
    if draft.summary and draft.summary == draft.significance:
        found.append("요약 and 의의 say the same thing")
    return found


def note_problems(draft: Draft, item: Item) -> list[str]:
    """What is wrong with a model-proposed 토막상식 (a bad one is dropped, not the brief)."""
    return _field_problems(draft, item, ("glossary_note",))


def _field_problems(draft: Draft, item: Item, fields: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    source = f"{item.title} {item.summary} {item.url}"
    for name in fields:
        text: str = getattr(draft, name)
        label = LABELS[name]
        low, high = LENGTH[name]
        if not text:
            found.append(f"{label} is empty")
            continue
        if not low <= len(text) <= high:
            found.append(f"{label} is {len(text)} characters (want {low}–{high})")
        if hangul_share(text) < MIN_HANGUL:
            found.append(f"{label} is not mostly Korean ({hangul_share(text):.0%} Hangul)")
        if _echoes(text):
            found.append(f"{label} repeats the prompt or an example")
        for url in _URL.findall(text):
            if url.rstrip(".,") not in source:
                found.append(f"{label} has a link not in the source: {url}")
        for number in _new_numbers(text, source):
            found.append(f"{label} has a number not in the source: {number}")
    return found


def _echoes(text: str) -> bool:
    if any(mark in text for mark in _PROMPT_MARKS) or text in SYSTEM:
        return True
    for example in EXAMPLES:
        for shown in (example.summary, example.significance, example.glossary_note):
            if _shares_run(text, shown, ECHO_CHARS):
                return True
    return False


def _shares_run(a: str, b: str, n: int) -> bool:
    """Whether `a` and `b` share a run of `n` characters (spacing ignored)."""
    a, b = "".join(a.split()), "".join(b.split())
    if len(a) < n or len(b) < n:
        return a in b or b in a
    runs = {b[i : i + n] for i in range(len(b) - n + 1)}
    return any(a[i : i + n] in runs for i in range(len(a) - n + 1))


def _new_numbers(text: str, source: str) -> list[str]:
    """Numbers in `text` that the source never states (one-digit counts like 2 are fine: "두
    가지", "3개 모델" rewrite words as digits)."""
    known = {n.replace(",", "") for n in _NUMBER.findall(source)}
    new = []
    for number in _NUMBER.findall(text):
        plain = number.replace(",", "")
        if len(plain) > 1 and plain not in known:
            new.append(number)
    return new
