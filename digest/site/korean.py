"""The search's Korean: which ending of a word is a particle, and which words only look so.

A Korean word carries its particles (조사) attached: 정확도를 is 정확도 + 를. The search strips
them from the reader's query, so that 정확도를 finds 정확도. But many nouns end in a syllable
that is also a particle — 정확도 (도 'also'), 전문가 (가), 차이 (이), 회의 (의), 결과 (과),
경로 (로) — and stripping those finds the wrong items (정확도 → 정확 → 정확히). So a word is
cut only when it is not itself a known noun:

1. a word in the noun list (`templates/search-nouns.txt`, and a user's own list of the same
   name in `templates_dir`) stays whole: 정확도, 유사도, 전문가;
2. else the longest particle at its end goes (stacked ones are one particle: 에서는, 으로도),
   unless that leaves a single Hangul syllable (차이 is a word, not 차 + 이).

The noun list holds Korean nouns that end in a particle-like syllable, as the Kiwi morphological
analyser reads them (`bench/bench_search.py nouns` makes it; see docs/site.md): the analyser's
judgement, taken once, so neither the build nor the browser needs its 100 MB model.

The rule runs twice: here in Python (attested nouns at build time, the parity tests, the
benchmark) and in `templates/search.js.j2` for the reader's query. `PARTICLES` and the noun
list are written into the rendered `search.js`, so the two cannot drift apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

NOUNS_FILE = "search-nouns.txt"

# Particles and their usual stacks, as they follow a noun. Not here: 가 + anything (가 ends a
# word), and copula endings (이다, 임), which readers do not type into a search box.
PARTICLES: tuple[str, ...] = tuple(
    sorted(
        {
            # case and topic particles
            "은", "는", "이", "가", "을", "를", "의", "에", "로", "으로", "와", "과", "도", "만",
            "란", "이란", "나", "이나", "랑", "이랑", "께", "께서", "에서", "에게", "한테",
            "까지", "부터", "처럼", "보다", "마다", "조차", "밖에", "만큼", "하고", "라는",
            "이라는", "라고", "이라고", "라도", "이라도", "로서", "으로서", "로써", "으로써",
            # stacks: a case particle, then a topic or focus particle
            "에는", "에도", "에만", "에의", "에서는", "에서도", "에서만", "에서의", "에서부터",
            "에게는", "에게도", "에게서", "로는", "로도", "로만", "로의", "로부터", "으로는",
            "으로도", "으로만", "으로의", "으로부터", "와는", "과는", "와도", "과도", "와의",
            "과의", "까지는", "까지도", "까지의", "부터는", "부터도", "보다는", "보다도",
            "처럼은", "만은", "만을", "만이", "만의", "만으로", "만큼은", "마다의",
        },
        key=lambda p: (-len(p), p),
    )
)  # fmt: skip


def _is_hangul(char: str) -> bool:
    return "가" <= char <= "힣"


def normalize(text: str) -> str:
    """What both sides compare: NFC, lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def stem(word: str, nouns: frozenset[str], *, alone: bool = True) -> str:
    """`word` without its trailing particle, unless it is a known noun (`nouns`). Of the
    particles it ends in, the longest that leaves a known noun goes (성과도 → 성과, not 성 +
    과도), else the longest that leaves more than one Hangul syllable: 차이 is a word, not
    차 + 이. Inside a phrase (`alone` false: "로봇 팔이") one syllable may be left, since
    the phrase around it is specific enough. `word` is normalized (see `normalize`)."""
    if not word or not _is_hangul(word[-1]) or word in nouns:
        return word
    cuts = [word[: -len(p)] for p in PARTICLES if len(word) > len(p) and word.endswith(p)]
    for rest in cuts:
        if rest in nouns:
            return rest
    for rest in cuts:
        if not alone or len(rest) > 1 or not _is_hangul(rest):
            return rest
    return word


_EOJEOL = re.compile(r"[가-힣]{3,}")


_PARTICLE_SET = frozenset(PARTICLES)
_LONGEST = max(len(p) for p in PARTICLES)


def _particle_at_end(word: str) -> str:
    """The longest particle `word` ends in, leaving something before it ("" when none)."""
    for size in range(min(_LONGEST, len(word) - 1), 0, -1):
        if word[-size:] in _PARTICLE_SET:
            return word[-size:]
    return ""


def attested_nouns(texts: Iterable[str]) -> set[str]:
    """Nouns the index's own text shows, beyond the list: a word that a particle follows and
    that itself ends in a particle-like syllable which cannot take that particle (혼잡도를: 도 is
    not a particle before 를, so 혼잡도 is a noun). Korean allows only the stacks in
    `PARTICLES`, and the longest particle is taken first, so what is left is the noun."""
    found: set[str] = set()
    seen: set[str] = set()
    for text in texts:
        for word in _EOJEOL.findall(text):
            if word in seen:
                continue
            seen.add(word)
            particle = _particle_at_end(word)
            rest = word[: -len(particle)] if particle else ""
            if len(rest) >= 2 and _particle_at_end(rest):
                found.add(rest)
    return found


def parse_nouns(text: str) -> set[str]:
    """The words of a noun list: one a line, `#` starts a comment."""
    words = set()
    for line in text.splitlines():
        word = normalize(line.split("#", 1)[0])
        if word:
            words.add(word)
    return words


def load_nouns(folders: Iterable[Path]) -> frozenset[str]:
    """Every template folder's `search-nouns.txt`, together: a user's list adds to ours.
    Read again when a file changes (`digest serve` keeps one process)."""
    files = tuple(
        (path, path.stat().st_mtime_ns)
        for folder in folders
        if (path := folder / NOUNS_FILE).is_file()
    )
    return _load(files)


@lru_cache(maxsize=8)
def _load(files: tuple[tuple[Path, int], ...]) -> frozenset[str]:
    words: set[str] = set()
    for path, _ in files:
        words |= parse_nouns(path.read_text(encoding="utf-8"))
    # Only words a particle could be cut from matter; the rest would never be cut anyway.
    return frozenset(w for w in words if any(w.endswith(p) for p in PARTICLES))
