"""Grounded decoding: a model may write an English word or a number only as the source has it.

In the code-mixed style every English word of a brief is copied from the item's title or source
(docs/summarizer.md): a 270M model that copies stays faithful, one that makes up a term invents.
Validation flags an invented term after the fact; this module stops it while the model writes.
At each step the candidate tokens are checked against the words and numbers of the source: a
token may continue a Latin word only along a prefix of a source word, end it only on a whole
source word (a plural ending may differ: "LLMs" for "LLM"), and likewise for digits. The model
then picks its best candidate that passes, so an invented "오픈 웨이브"-style term becomes either a
copied one or Korean.

`GroundedText.allows(tail, piece)` is the whole rule, plain Python; the transformers backend
wraps it in a logits processor (`transformers.GroundedLogits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from digest.summarize.validate import count_words_as_digits

# Latin letters (accented ones too) and digits: the characters grounding is about.
_LETTERS = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+")
_DIGITS = re.compile(r"[0-9]+")
_TRAILING_LETTERS = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]+$")
_TRAILING_DIGITS = re.compile(r"[0-9]+$")
_SCALE_AFTER_DIGIT = re.compile(r"[0-9][천만억조]")


@dataclass(frozen=True)
class GroundedText:
    """The words and digit groups an answer may use, taken from `source` (title + text)."""

    source: str
    words: frozenset[str] = field(init=False)
    numbers: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        words: set[str] = set()
        for word in _LETTERS.findall(self.source):
            folded = word.casefold()
            words.update((folded, folded + "s", folded + "es"))
            if folded.endswith("y"):
                words.add(folded[:-1] + "ies")
        numbers = set(_DIGITS.findall(self.source)) | set(count_words_as_digits(self.source))
        object.__setattr__(self, "words", frozenset(words))
        object.__setattr__(self, "numbers", frozenset(numbers))

    @cached_property
    def word_prefixes(self) -> frozenset[str]:
        return frozenset(w[:i] for w in self.words for i in range(1, len(w) + 1))

    @cached_property
    def number_prefixes(self) -> frozenset[str]:
        return frozenset(n[:i] for n in self.numbers for i in range(1, len(n) + 1))

    def allows(self, tail: str, piece: str) -> bool:
        """Whether `piece` may follow the answer so far, whose end is `tail`.

        Every Latin word and digit group that `piece` completes must be a source one, and the
        one it leaves open must be the start of a source one. `tail` needs only the last word:
        the check looks at the run of letters or digits that ends it and at `piece`. A Korean
        unit of scale right after a digit is refused too: 1.6 million is never 1.6억."""
        if _SCALE_AFTER_DIGIT.search(tail[-1:] + piece):
            return False
        return self._runs_ok(tail, piece, _TRAILING_LETTERS, _LETTERS, self.words, "word") and (
            self._runs_ok(tail, piece, _TRAILING_DIGITS, _DIGITS, self.numbers, "number")
        )

    def _runs_ok(
        self,
        tail: str,
        piece: str,
        trailing: re.Pattern[str],
        runs: re.Pattern[str],
        whole: frozenset[str],
        kind: str,
    ) -> bool:
        before = trailing.search(tail)
        text = (before[0] if before else "") + piece
        if not runs.search(text):
            return True  # nothing of this kind is open or written: no constraint
        prefixes = self.word_prefixes if kind == "word" else self.number_prefixes
        found = list(runs.finditer(text))
        for run in found[:-1]:
            if run[0].casefold() not in whole:
                return False  # a word this piece completes is not in the source
        last = found[-1]
        if last.end() < len(text):  # the piece ends the last run too
            return last[0].casefold() in whole
        return last[0].casefold() in prefixes
