"""Shortening text for display without cutting a character in two.

What a reader sees as one character can be several code points: a Hangul syllable written as
conjoining jamo (ᄀ + ᅡ + ᆨ, common in NFD text from macOS), a letter with a combining mark
(e + ◌́), an emoji with a skin tone or a ZWJ sequence (👩‍💻), a flag (🇰🇷). Slicing a `str`
can cut any of these; slicing in JavaScript (UTF-16) can even cut a surrogate pair. Every place
that shortens text for display — search snippets, meta descriptions, the email's shortened
items, the CLI's columns — goes through this module, which cuts only between grapheme clusters
(Unicode UAX #29, the `regex` module's `\\X`).

Two measures, and each function says which it takes:

- **graphemes** (`shorten`, `grapheme_count`): user-perceived characters; what a length limit
  for a web page or an email means ("150 characters").
- **columns** (`display_width`, `fit`, `pad`): cells of a terminal, from `wcwidth`; Hangul,
  CJK and most emoji take two, combining marks none. East Asian *ambiguous* characters
  (…, ·, →) count as one, as in a terminal not set to CJK mode.

The ellipsis counts towards the limit: `shorten(text, 10)` is never longer than 10 graphemes.
Text that fits is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

import regex  # type: ignore[import-untyped]  # no stubs shipped; used for \X alone
from wcwidth import wcswidth

__all__ = [
    "ELLIPSIS",
    "display_width",
    "fit",
    "grapheme_count",
    "graphemes",
    "pad",
    "shorten",
]

ELLIPSIS = "…"
_CLUSTER = regex.compile(r"\X")
# A cut at a word boundary leaves no dangling separator before the ellipsis: "A · B, C…"
# rather than "A · B, …".
_SPACE = " \t\n\r\f\v\u00a0\u3000"
_TRAILING = _SPACE + "·•,;:/|-–—"


def graphemes(text: str) -> list[str]:
    """`text` as a list of grapheme clusters (user-perceived characters)."""
    return list(_clusters(text))


def _clusters(text: str) -> Iterator[str]:
    for match in _CLUSTER.finditer(text):
        yield str(match.group())


def grapheme_count(text: str) -> int:
    """How many user-perceived characters `text` has (`len` counts code points)."""
    if text.isascii():
        # ASCII has one grapheme per code point, except CR LF, which is one.
        return len(text) - text.count("\r\n")
    return sum(1 for _ in _clusters(text))


@lru_cache(maxsize=4096)
def _cluster_width(cluster: str) -> int:
    """Columns one grapheme cluster takes: 0 for controls and lone marks, at most 2."""
    width = wcswidth(cluster)
    if width < 0:  # a control character (tab, newline, escape): it has no cells of its own
        return 0
    return min(width, 2)  # a cluster is drawn in one or two cells, however many code points


def display_width(text: str) -> int:
    """Terminal columns `text` takes: Hangul, CJK and wide emoji count two, combining marks
    and zero-width characters none, control characters (tab, newline, ESC) none — give this
    one line of plain text, not text with escape sequences."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(_cluster_width(c) for c in _clusters(text))


def shorten(text: str, limit: int, ellipsis: str = ELLIPSIS, *, at_word: bool = False) -> str:
    """`text` in at most `limit` **graphemes**, the ellipsis included: unchanged when it fits,
    else its first graphemes and `ellipsis`. Never cuts inside a grapheme cluster (a Hangul
    syllable in jamo, a base letter and its combining marks, an emoji sequence).

    With `at_word`, the cut moves back to the last space when that keeps at least half of the
    room, and separators left at the end (`,`, `·`, `:`…) are dropped: for descriptions and
    one-line summaries. When not even the ellipsis fits (`limit` < its length), the text is
    cut to `limit` graphemes without one; `limit` ≤ 0 gives ""."""
    if limit <= 0:
        return ""
    if len(text) <= limit:  # never more graphemes than code points
        return text
    room = limit - grapheme_count(ellipsis)
    kept: list[str] = []
    for n, cluster in enumerate(_clusters(text)):
        if n == limit:
            break  # it does not fit: cut below
        kept.append(cluster)
    else:
        return text  # as many graphemes as `limit` or fewer: it fits
    if room < 0:
        return "".join(kept)
    return _cut(kept[:room], ellipsis, at_word)


def fit(text: str, columns: int, ellipsis: str = ELLIPSIS, *, at_word: bool = False) -> str:
    """`text` in at most `columns` terminal **columns**, the ellipsis included: unchanged when
    it fits, else its first graphemes and `ellipsis`. A wide character (a Hangul syllable)
    that would straddle the edge is left out whole, so the result may be a column short.
    `at_word` as for `shorten`; with no room for the ellipsis, no ellipsis."""
    if columns <= 0:
        return ""
    if display_width(text) <= columns:
        return text
    room = columns - display_width(ellipsis)
    if room < 0:
        room, ellipsis = columns, ""
    kept: list[str] = []
    used = 0
    for cluster in _clusters(text):
        width = _cluster_width(cluster)
        if used + width > room:
            break
        kept.append(cluster)
        used += width
    return _cut(kept, ellipsis, at_word)


def pad(text: str, columns: int, align: Literal["left", "right"] = "left") -> str:
    """`text` fitted to `columns` (see `fit`) and padded with spaces to exactly that many
    columns: one cell of a table in a terminal, Korean or not."""
    shown = fit(text, columns)
    fill = " " * max(0, columns - display_width(shown))
    return shown + fill if align == "left" else fill + shown


def _cut(kept: list[str], ellipsis: str, at_word: bool) -> str:
    if at_word:
        for n in range(len(kept) - 1, len(kept) // 2 - 1, -1):
            if kept[n].isspace():
                del kept[n:]
                break
    strip = _TRAILING if at_word else _SPACE
    # Whole clusters only: stripping code points could leave half of one behind.
    while kept and all(c in strip for c in kept[-1]):
        kept.pop()
    return "".join(kept) + ellipsis
