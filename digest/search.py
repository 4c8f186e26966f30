"""The search index: every item's text, shipped as one script the browser loads (no server).

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
from digest.site_model import anchored_items, issue_url

INDEX_FILE = "search-index.js"


def item_text(*parts: str) -> str:
    # Issue files hold each field on one line; the browser normalizes case and Unicode form.
    return " ".join(p for p in parts if p)


def build_index(shown: list[Issue]) -> str:
    """`window.DIGEST_SEARCH = {...}`: a script, not JSON, so it loads from file:// too."""
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
    return f"window.DIGEST_SEARCH={data};\n"
