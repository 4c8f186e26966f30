"""The 토막상식 term base: which concept in an item deserves a one-line explanation.

Detection matches the English term, its aliases and its Korean name on word boundaries, prefers
the most specific term (one whose match does not sit inside another's: "large language model"
over "language model"), a term in the title over one in the body, then the earliest mention.
A note shown in one of the last `RECENT_ISSUES` published issues is not shown again.

Sense rules. A curated note explains one sense of its term, so an entry whose names have another
common sense ("transformer" in a substation, "diffusion" of heat, students' "attention") carries
optional rules, each a list of words or phrases:

- `context`: at least one must also occur in the item (title and body) for the term to apply;
- `not_with`: any one in the item means it uses another sense (this wins over `context`);
- `except_in`: phrases in which a name means something else ("received significant attention",
  "추론 비용"): a mention inside one does not count, though another mention of the term may.

An entry without rules applies wherever one of its names occurs. A rule word matches like a name,
case-insensitively on word boundaries (a hyphen joins words: "AI" is not found in "AI-based"),
except that a word in capitals (an acronym: "AI", "LLM") matches only in capitals, so that "mL"
is not "ML"; a Korean word matches at its start, so particles may follow it; a trailing `*`
matches any ending ("token*": tokens, tokenizer; "AI-*": AI-based); a space matches any run of
spaces. A `$` name stands for a shared word list: `$ml` for `ML_WORDS`, words that practically
only a machine-learning text uses, and `$tech` for `TECH_WORDS`, words that nearly every ML
abstract has but other technical writing has too (so `not_with` must still name the other
sense's own words). A `context` may list one of the entry's unambiguous names, which then applies
on its own ("self-attention" for Attention), never an ambiguous one. Unknown keys and malformed
rules are rejected with `GlossaryError`, naming the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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

# `$ml`: words that practically only a machine-learning text uses. `$tech`: words that nearly
# every ML abstract has, and much other technical writing too. No word of a list may match an
# ambiguous name of an entry whose `context` lists it, or the name would vouch for its own sense:
# no "transformer", "attention" or "agent" here, and an entry with an ambiguous "... model" name
# ("diffusion model") takes `$ml` without `$tech` (tests/test_glossary.py checks this).
ML_WORDS: tuple[str, ...] = (
    "neural network*", "neural net", "neural nets", "deep learning", "deep-learning",
    "machine learning", "machine-learning", "ML", "ML-*", "AI", "AI-*", "artificial intelligence",
    "LLM*", "MLLM*", "LMM*", "LVLM*", "VLM*", "language model*", "vision-language*",
    "foundation model*", "GPT*", "ChatGPT", "BERT*", "OpenAI", "DeepMind", "Anthropic", "DeepSeek",
    "Hugging Face", "HuggingFace", "PyTorch", "TensorFlow", "pretrain*", "pre-train*", "finetun*",
    "training data", "training set*", "self-supervised", "semi-supervised", "unsupervised",
    "supervised learning", "reinforcement learning", "RLHF", "backprop*", "gradient descent",
    "stochastic gradient*", "hyperparameter*", "convolutional neural*", "convolutional network*",
    "recurrent neural", "autoencoder*", "GAN", "GANs", "GAN-*", "generative adversarial",
    "chatbot*", "zero-shot", "few-shot", "in-context learning", "NLP",
    "natural language processing", "computer vision", "DNN*", "agentic", "RAG", "KV cache*",
    "inference-time", "test-time", "chat completion*", "SageMaker", "Amazon Bedrock", "AgentCore",
    "딥러닝", "머신러닝", "기계학습", "기계 학습", "인공지능", "신경망", "언어모델", "언어 모델",
    "생성형", "챗봇", "사전학습", "미세조정", "강화학습", "학습 데이터", "오픈AI", "딥마인드",
    "챗GPT",
)  # fmt: skip
TECH_WORDS: tuple[str, ...] = (
    "model", "models", "modeling", "modelling", "learned", "learns", "learnable", "dataset*",
    "benchmark*", "neural", "network*", "predict*", "classif*", "generat*", "detect*", "image*",
    "video*", "vision", "visual", "token*", "encoder*", "decoder*", "representation*",
    "architecture*", "GPU*", "accuracy", "모델", "데이터", "이미지", "영상", "토큰", "예측", "생성",
)  # fmt: skip
WORD_SETS: dict[str, tuple[str, ...]] = {"$ml": ML_WORDS, "$tech": TECH_WORDS}
_KEYS = frozenset({"term", "ko", "aliases", "note", "context", "not_with", "except_in"})


class GlossaryError(ValueError):
    """The term base file is malformed: an unknown key, a missing field, a bad sense rule."""


@dataclass(frozen=True)
class GlossaryTerm:
    """One curated concept: its English `term`, Korean name `ko`, aliases, the one-line 토막상식
    `note`, and the optional sense rules (see the module docstring)."""

    term: str
    ko: str
    note: str
    aliases: tuple[str, ...] = ()
    context: tuple[str, ...] = ()  # one of these must occur in the item too
    not_with: tuple[str, ...] = ()  # any of these in the item means another sense
    except_in: tuple[str, ...] = ()  # a mention inside one of these phrases does not count

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.term, self.ko, self.aliases)

    @property
    def has_rules(self) -> bool:
        return bool(self.context or self.not_with or self.except_in)

    def mention(self, text: str) -> re.Match[str] | None:
        """The first mention of the term in `text` that is not inside an `except_in` phrase."""
        if not self.except_in:
            return self.pattern.search(text)
        phrases = [m.span() for m in _rule_pattern(self.except_in).finditer(text)]
        for hit in self.pattern.finditer(text):
            if not any(start <= hit.start() and hit.end() <= end for start, end in phrases):
                return hit
        return None

    def fits(self, text: str) -> bool:
        """Whether `text` (an item's title and body) may use the term in the sense of its note:
        its `context` and `not_with` rules (`mention` applies `except_in`)."""
        if self.not_with and _rule_pattern(self.not_with).search(text):
            return False
        return not self.context or bool(_rule_pattern(self.context).search(text))

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
    """Where `term` is mentioned: character offsets into the title, a newline and the body
    taken as one text, and whether the mention is in the title."""

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
    # An English name may carry a Korean particle (RLHF로, benchmark를: code-mixed briefs write
    # so), so Hangul after it is still a boundary; a letter, digit or hyphen is not.
    names = "|".join(re.escape(n) for n in latin)
    parts = [rf"(?<![\w-])(?:{names})(?![^\W{_HANGUL}]|-)"]
    if ko:
        # Korean names take particles right after them (강화학습은, 양자화를), so only the start
        # is a boundary; "이미지 확산" must not match inside a longer Hangul word.
        parts.append(rf"(?<![{_HANGUL}]){re.escape(ko)}")
    return re.compile("|".join(parts), re.IGNORECASE)


def _is_hangul(char: str) -> bool:
    return "가" <= char <= "힣"


def _word_pattern(word: str) -> str:
    """One rule word as a regex: the name pattern's boundaries, `*` for any ending, capitals
    matched as written (see the module docstring)."""
    prefix = word.endswith("*")
    core = word[:-1] if prefix else word
    body = r"\s+".join(re.escape(part) for part in core.split())
    if not (sum(c.isupper() for c in core) >= 2 and not any(c.islower() for c in core)):
        body = f"(?i:{body})"
    start = rf"(?<![{_HANGUL}])" if _is_hangul(core[0]) else r"(?<![\w-])"
    # Any ending after `*` or a Korean word; after a Latin word a Korean particle may follow.
    end = "" if prefix or _is_hangul(core[-1]) else rf"(?![^\W{_HANGUL}]|-)"
    return start + body + end


@cache
def _rule_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    expanded = [w for word in words for w in WORD_SETS.get(word, (word,))]
    return re.compile("|".join(_word_pattern(w) for w in expanded))


def _rule(entry: Mapping[str, object], key: str, name: str) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise GlossaryError(f"glossary entry {name!r}: {key} must be a non-empty list of words")
    for word in value:
        if not isinstance(word, str) or not word.strip() or word != word.strip():
            raise GlossaryError(f"glossary entry {name!r}: {key} has a bad word {word!r}")
        if word.startswith("$") and (word not in WORD_SETS or key == "except_in"):
            known = ", ".join(sorted(WORD_SETS))
            raise GlossaryError(
                f"glossary entry {name!r}: {key} may not use {word!r} (word lists: {known}; "
                "not in except_in)"
            )
        if "*" in word[:-1] or word == "*":
            raise GlossaryError(f"glossary entry {name!r}: {key} word {word!r} may end in * only")
    return tuple(value)


def _words(entry: Mapping[str, object], key: str, name: str) -> list[str]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise GlossaryError(f"glossary entry {name!r}: {key} must be a list of words")
    return value


def parse_glossary(text: str) -> tuple[GlossaryTerm, ...]:
    """The term base from its YAML text, every entry checked (`GlossaryError` names the entry)."""
    # libyaml's loader when PyYAML has it: ten times faster on this file, same result.
    entries = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(entries, list):
        raise GlossaryError("the glossary must be a list of entries")
    terms = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise GlossaryError(f"glossary entry {number} is not a mapping of fields")
        name = str(entry.get("term") or f"number {number}")
        unknown = sorted(str(key) for key in entry if key not in _KEYS)
        if unknown:
            raise GlossaryError(
                f"glossary entry {name!r}: unknown key {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(sorted(_KEYS))})"
            )
        for key in ("term", "note"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise GlossaryError(f"glossary entry {name!r}: {key} is missing or not text")
        if not isinstance(entry.get("ko") or "", str):
            raise GlossaryError(f"glossary entry {name!r}: ko is not text")
        term = GlossaryTerm(
            term=entry["term"],
            ko=entry.get("ko") or "",
            note=entry["note"].strip(),
            aliases=tuple(_words(entry, "aliases", name)),
            context=_rule(entry, "context", name),
            not_with=_rule(entry, "not_with", name),
            except_in=_rule(entry, "except_in", name),
        )
        for phrase in term.except_in:  # a phrase that holds no name of the term can never apply
            if not term.pattern.search(phrase.rstrip("*")):
                raise GlossaryError(
                    f"glossary entry {name!r}: except_in phrase {phrase!r} names no name of it"
                )
        terms.append(term)
    return tuple(terms)


@cache
def load_glossary() -> tuple[GlossaryTerm, ...]:
    """The bundled term base (digest/data/glossary.yaml), parsed once per process. Raises
    GlossaryError (a ValueError, not a DigestError) when the file is malformed."""
    text = resources.files("digest").joinpath("data/glossary.yaml").read_text(encoding="utf-8")
    return parse_glossary(text)


def matches(title: str, body: str, terms: Iterable[GlossaryTerm] | None = None) -> list[Match]:
    """Every glossary term found in the title or body in the sense of its note (the sense rules
    above), the most fitting first."""
    found: list[Match] = []
    whole = f"{title}\n{body}"
    for term in load_glossary() if terms is None else terms:
        hit = term.mention(title)
        in_title = hit is not None
        offset = 0 if in_title else len(title) + 1  # body positions come after the title's
        hit = hit or term.mention(body)
        if hit and term.fits(whole):
            found.append(Match(term, offset + hit.start(), offset + hit.end(), in_title))
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
