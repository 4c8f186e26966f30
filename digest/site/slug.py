"""URL slugs that keep Korean: `강화학습` stays `강화학습`, never the empty string.

Common slug libraries transliterate to ASCII and drop what they cannot, so every Hangul keyword
becomes "" and they all collide. Here a slug keeps every Unicode letter and digit. When the
keyword can be read back from its slug exactly (letters, digits, single spaces) the slug is the
keyword itself; otherwise (`C++`, `A/B 테스트`) it gets `--` and a hash of the keyword, so two
keywords never share a URL and a keyword's URL never depends on which other keywords exist.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

# A folder name may be 255 bytes on Linux, macOS and Windows file systems; Hangul is 3 bytes in
# UTF-8. A longer keyword's slug is cut (on a character) and told apart by its hash.
MAX_SLUG_BYTES = 120
_NOT_WORD = re.compile(r"[^\w]+")
_LOSSLESS = re.compile(r"\w+(?: \w+)*")


@lru_cache(maxsize=16384)
def keyword_identity(keyword: str) -> str:
    """Keywords that differ only in case, width or spacing are one keyword."""
    text = unicodedata.normalize("NFKC", keyword).casefold()
    return " ".join(text.split())


@lru_cache(maxsize=16384)
def slugify(keyword: str) -> str:
    """A non-empty, stable slug unique to the keyword's identity, at most MAX_SLUG_BYTES
    bytes of UTF-8 (a folder name on disk)."""
    identity = keyword_identity(keyword)
    base = _NOT_WORD.sub("-", identity).strip("-")
    fits = len(base.encode("utf-8")) <= MAX_SLUG_BYTES
    if identity and fits and _LOSSLESS.fullmatch(identity):
        return base  # lossless slugs contain no "--" (spaces are single), so never collide below
    digest = hashlib.sha1(identity.encode("utf-8")).hexdigest()[:8]
    room = MAX_SLUG_BYTES - len(digest) - 2
    cut = base.encode("utf-8")[:room].decode("utf-8", errors="ignore").strip("-")
    return f"{cut or 'k'}--{digest}"


def url_path(slug: str) -> str:
    """The slug as it goes in an href: percent-encoded UTF-8, which every browser and server
    reads back to the same folder name on disk."""
    return quote(slug, safe="-_.~")
