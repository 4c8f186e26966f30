"""Checks on what a model wrote, before it becomes a `Brief`.

A small model can answer in English, loop, echo its prompt, invent a term or a number, or
convert a scale ("1.6 million" → "1.6억"). Each check names what is wrong, so a rejected brief
can be retried and, failing that, marked 검토 필요 with the reason shown to the editor.

The checks hold in both styles (`summarizer.style`):
- `mixed`: a Korean 음슴체 sentence frame with the technical terms copied in English from the
  source. Grounding is the invention check: every English word of three or more letters must
  occur in the title or source (measured: copying a term is where a 270M model stays faithful,
  translating it is where it invents; see docs/summarizer.md).
- `korean`: the same, and at least half the letters Hangul (terms as 한국어(English)).

The same primitives check the hand-written corpus (`digest.summarize.corpus`) and score the
brief benchmark (`bench/bench_briefs.py`), so "grounded" means one thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from digest.models import Item
from digest.summarize.prompt import EXAMPLES, LABELS, SYSTEM, Draft

# Characters per field: a 요약 is one or two sentences, a 의의 one, a 토막상식 one to three.
LENGTH = {"summary": (15, 400), "significance": (8, 250), "glossary_note": (15, 350)}
# Share of Hangul among letters. `korean`: the sentence is Korean, terms may follow in
# parentheses. `mixed`: the frame is Korean, the nouns may be English; the corpus rules ask
# 30–80 %, and 25 % leaves room for a brief naming several long English terms.
MIN_HANGUL = {"korean": 0.5, "mixed": 0.25}
# Consecutive characters shared with an example answer that count as an echo.
ECHO_CHARS = 24
# A run of this many characters (spacing ignored) seen three times in one field is a repetition
# loop, not a sentence; among the Hangul alone six syllables (two or three words) are enough. A
# hand-written brief may name an English term three times, never a Korean phrase.
LOOP_CHARS = 12
LOOP_SYLLABLES = 6
# Below this Hangul share a field is English (a copied abstract), not a code-mixed brief.
ENGLISH_BELOW = 0.10
_HANGUL = re.compile(r"[가-힣]")
_LETTER = re.compile(r"[^\W\d_]")
_URL = re.compile(r"https?://[^\s)\]>\"']+|www\.[^\s)\]>\"']+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A number written with a Korean unit of scale: English sources never use one, so it is a
# conversion ("1.6 million" → "1.6억"), which the corpus rules forbid.
_SCALED = re.compile(r"\d+(?:[.,]\d+)*(?:천|만|억|조)(?!큼)")
# Latin letters, accented ones included (Nwāchā is one word, not three).
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+")
_TOKEN = re.compile(r"[a-zà-öø-ɏ0-9]+")
# A run of English words: letters, digits and hyphens inside a word, single spaces between.
_WORD = r"[A-Za-zÀ-ÖØ-öø-ɏ][A-Za-zÀ-ÖØ-öø-ɏ0-9]*(?:[-'.][A-Za-zÀ-ÖØ-öø-ɏ0-9]+)*"
_LATIN_RUN = re.compile(rf"(?<![A-Za-zÀ-ÖØ-öø-ɏ0-9]){_WORD}(?: {_WORD})*")
# Sentence ends: terminal punctuation after a Hangul syllable (not "e.g." or "2.5").
_SENTENCE_END = re.compile(r"(?<=[가-힣])[.!?]+(?=\s|$)")
_NOMINAL_FINALS = (10, 16)  # ㄻ, ㅁ: the nominalizing -(으)ㅁ of 음슴체
_PROMPT_MARKS = (
    "제목:",
    "원문:",
    "뉴랄브리핑:",
    "glossary_note",
    "significance",
    "[요약]",
    "[의의]",
)
# Counts a source may write as words; a brief may write them as digits ("two" → "2가지").
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "single": "1", "twice": "2", "double": "2", "dozen": "12", "hundred": "100",
    "thousand": "1000", "first": "1", "second": "2", "third": "3",
}  # fmt: skip


def hangul_share(text: str) -> float:
    """Hangul syllables over all letters of `text` (links left out), 0.0 for no letters."""
    letters = _LETTER.findall(_URL.sub(" ", text))  # a quoted link is not an English sentence
    if not letters:
        return 0.0
    return len(_HANGUL.findall(text)) / len(letters)


def english_runs(text: str) -> list[str]:
    """Maximal runs of English words in `text` ("multi-intent understanding"), links left out."""
    return [m[0].strip(" -'.") for m in _LATIN_RUN.finditer(_URL.sub(" ", text))]


def _tokens(text: str) -> list[str]:
    """Case-folded letter/digit tokens: "(LLM)-based agents" → ["llm", "based", "agents"]."""
    return _TOKEN.findall(text.casefold())


def grounded_run(run: str, source: str) -> bool:
    """Whether the English run occurs in `source` as consecutive words, case, punctuation and
    spacing aside; the last word may differ by a plural ending ("LLM" in "LLMs are…")."""
    needle = _tokens(run)
    if not needle:
        return True
    *head, last = needle
    words = _tokens(source)
    forms = _forms(last)
    for i in range(len(words) - len(needle) + 1):
        if words[i : i + len(head)] == head and _forms(words[i + len(head)]) & forms:
            return True
    return False


def ungrounded_words(text: str, source: str, min_letters: int = 3) -> list[str]:
    """English words of `min_letters`+ letters in `text` that the source never uses, in order
    of first appearance (case-insensitive whole words)."""
    known = {form for w in _LATIN_WORD.findall(source) for form in _forms(w)}
    missing: list[str] = []
    for word in _LATIN_WORD.findall(_URL.sub(" ", text)):
        if len(word) >= min_letters and not _forms(word) & known and word not in missing:
            missing.append(word)
    return missing


def _forms(word: str) -> frozenset[str]:
    """`word` case-folded, with and without a plural ending: "cascades" → {cascades, cascade,
    cascad}, "policies" → {policies, policy}, "IDs" → {ids, id}. Two words are the same term
    when their forms meet, so "LLM" is grounded by "LLMs" and "agents" by "agent"."""
    folded = word.casefold()
    forms = {folded}
    if folded.endswith("ies") and len(folded) > 4:
        forms.add(folded[:-3] + "y")
    if folded.endswith("es") and len(folded) > 3:
        forms.add(folded[:-2])
    if folded.endswith("s") and len(folded) > 2:
        forms.add(folded[:-1])
    return frozenset(forms)


def count_words_as_digits(source: str) -> set[str]:
    """The digits of the count words `source` uses: "three models" → {"3"}."""
    words = {w.casefold() for w in _LATIN_WORD.findall(source)}
    return {digits for word, digits in _NUMBER_WORDS.items() if word in words}


def _source_numbers(source: str) -> set[str]:
    known = {n.replace(",", "") for n in _NUMBER.findall(source)}
    return known | count_words_as_digits(source)


def ungrounded_numbers(text: str, source: str) -> list[str]:
    """Numbers in `text` that the source never states, as digits or as a count word
    ("three" grounds 3); the same digits are required, so a converted scale is new."""
    known = _source_numbers(source)
    return [n for n in _NUMBER.findall(text) if n.replace(",", "") not in known]


def scaled_numbers(text: str) -> list[str]:
    """Numbers written with a Korean unit of scale (1.6억, 300만): conversions of the source."""
    return [m[0] for m in _SCALED.finditer(text)]


def sentences(text: str) -> list[str]:
    """`text` split after each Hangul syllable followed by terminal punctuation."""
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        parts.append(text[start : m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def eumseumche(sentence: str) -> bool:
    """Whether `sentence` ends in 음슴체: its last Hangul syllable, before closing punctuation,
    has the final consonant ㅁ or ㄻ (…함, …임, …됨, …만듦, …이끎). Unicode arranges Hangul
    syllables as 0xAC00 + (initial × 21 + medial) × 28 + final; ㄻ is final 10, ㅁ final 16."""
    tail = sentence.rstrip(" .!?…\"'”’)]")
    if not tail or not _HANGUL.fullmatch(tail[-1]):
        return False
    return (ord(tail[-1]) - 0xAC00) % 28 in _NOMINAL_FINALS


def repeats_itself(text: str) -> bool:
    """A loop: a run of `LOOP_CHARS` characters (spacing ignored), or of `LOOP_SYLLABLES`
    Hangul syllables (everything else ignored), that occurs three or more times."""
    flat = "".join(text.split())
    hangul = "".join(_HANGUL.findall(text))
    return _thrice(flat, LOOP_CHARS) or _thrice(hangul, LOOP_SYLLABLES)


def _thrice(text: str, n: int) -> bool:
    counts: dict[str, int] = {}
    for i in range(len(text) - n + 1):
        run = text[i : i + n]
        counts[run] = counts.get(run, 0) + 1
        if counts[run] >= 3:
            return True
    return False


@dataclass(frozen=True)
class Fault:
    """One thing wrong with a field. `hard` faults mean the text is not a brief at all (empty,
    English, a loop, the prompt echoed); soft ones mean a brief that needs the editor's eye."""

    message: str
    hard: bool = False

    def __str__(self) -> str:
        return self.message


def problems(draft: Draft, item: Item, style: str = "mixed") -> list[Fault]:
    """What is wrong with the 요약 and 의의 of `draft` for `item`; empty when publishable."""
    found = field_faults(draft, item, ("summary", "significance"), style)
    if draft.summary and draft.summary == draft.significance:
        found.append(Fault("요약 and 의의 say the same thing", hard=True))
    return found


def note_problems(draft: Draft, item: Item, style: str = "korean") -> list[Fault]:
    """What is wrong with a model-proposed 토막상식 (a bad one is dropped, not the brief)."""
    return field_faults(draft, item, ("glossary_note",), style)


def source_of(item: Item) -> str:
    """What a brief may draw on: the title, the source text and the link."""
    return f"{item.title} {item.summary} {item.url}"


def field_faults(
    draft: Draft, item: Item, fields: Iterable[str], style: str = "mixed"
) -> list[Fault]:
    """The faults of each named field of `draft`, checked against `item`'s title and source."""
    found: list[Fault] = []
    source = source_of(item)
    for name in fields:
        text: str = getattr(draft, name)
        found.extend(text_faults(text, LABELS[name], LENGTH[name], source, style))
    return found


def text_faults(
    text: str, label: str, length: tuple[int, int], source: str, style: str = "mixed"
) -> list[Fault]:
    """Every check on one field `text` (labelled `label` in messages) against `source`."""
    if not text:
        return [Fault(f"{label} is empty", hard=True)]
    found: list[Fault] = []
    low, high = length
    if not low <= len(text) <= high:
        found.append(Fault(f"{label} is {len(text)} characters (want {low}–{high})", hard=True))
    share = hangul_share(text)
    if share < MIN_HANGUL.get(style, MIN_HANGUL["mixed"]):
        # A mostly copied brief still has a Korean frame an editor can fix; English is none.
        hard = share < ENGLISH_BELOW
        found.append(Fault(f"{label} is not a Korean sentence ({share:.0%} Hangul)", hard=hard))
    elif not all(eumseumche(s) for s in sentences(text)):
        found.append(Fault(f"{label} does not end its sentences in 음슴체 (…함, …임)"))
    if _echoes(text):
        found.append(Fault(f"{label} repeats the prompt or an example", hard=True))
    if repeats_itself(text):
        found.append(Fault(f"{label} repeats itself", hard=True))
    for url in _URL.findall(text):
        if url.rstrip(".,") not in source:
            found.append(Fault(f"{label} has a link not in the source: {url}"))
    for word in ungrounded_words(text, source):
        found.append(Fault(f"{label} uses {word!r}, which is not in the title or source"))
    for number in ungrounded_numbers(text, source):
        found.append(Fault(f"{label} has a number not in the source: {number}"))
    for number in scaled_numbers(text):
        found.append(Fault(f"{label} converts a number's scale: {number}"))
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
