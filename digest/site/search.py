"""The search index: every item's text, shipped as scripts the browser loads (no server).

The matching lives in `templates/static/search.js` and is made for Korean, where Pagefind's
word-prefix matching fails readers: the query's particles are stripped (`학습이` → `학습`), a
word is found inside compounds (`학습` in `강화학습`), spacing does not matter (`언어모델` =
`언어 모델`), quoted phrases match across particles, and a word followed by a particle counts
the same as the bare word when ranking. Substring matching over a few MB of text needs no
morpheme analysis, so nothing here is expensive enough to cache.
"""

from __future__ import annotations

import json

from digest.issue import Issue
from digest.site.model import anchored_items, issue_url

# The index is cut into files of 100 issue numbers each (`search-index-0900.js` holds issues
# 900-999): a new issue rewrites only the newest file, not all 10 MB of a 1,000-issue index.
CHUNK_ISSUES = 100
# Each file adds its part to window.DIGEST_SEARCH; the search page loads them newest first, so
# the docs stay in the order ties are shown in.
_MERGE = (
    "(function(p){var s=window.DIGEST_SEARCH||(window.DIGEST_SEARCH={issues:{},docs:[]});"
    "for(var k in p.issues)s.issues[k]=p.issues[k];"
    "for(var i=0;i<p.docs.length;i++)s.docs.push(p.docs[i]);})"
)


def chunk_file(number: int) -> str:
    """The index file that holds issue `number`."""
    return f"search-index-{number // CHUNK_ISSUES * CHUNK_ISSUES:04d}.js"


def chunks(shown: list[Issue]) -> dict[str, list[Issue]]:
    """{file: its issues}, newest file first; one empty file when there are no issues, so the
    search page always has an index to load."""
    found: dict[str, list[Issue]] = {}
    for issue in shown:
        found.setdefault(chunk_file(issue.number), []).append(issue)
    return dict(sorted(found.items(), reverse=True)) or {chunk_file(0): []}


def item_text(*parts: str) -> str:
    """The non-empty `parts` joined by spaces: one searchable text of an item."""
    # Issue files hold each field on one line; the browser normalizes case and Unicode form.
    return " ".join(p for p in parts if p)


def build_index(shown: list[Issue]) -> str:
    """One index file: a script adding `shown` to `window.DIGEST_SEARCH`, not JSON, so it
    loads from file:// too."""
    issues = {i.number: [i.title, issue_url(i)] for i in shown}
    docs = [
        [
            issue.number,
            anchor,
            item_text(item.title),
            item_text(
                item.key_sentence, item.summary, item.significance, item.glossary_note, item.note
            ),
        ]
        for issue in reversed(shown)  # newest first: the order ties are shown in
        for _, anchor, item in anchored_items(issue)
    ]
    data = json.dumps({"issues": issues, "docs": docs}, ensure_ascii=False, separators=(",", ":"))
    return f"{_MERGE}({data});\n"
