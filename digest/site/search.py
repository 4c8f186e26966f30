"""The search index: every item's text, shipped as scripts the browser loads (no server).

The matching lives in `templates/static/search.js` and is made for Korean, where Pagefind's
word-prefix matching fails readers: the query's particles are stripped (`학습이` → `학습`) but
never a noun's own last syllable (`정확도`, `전문가`: see `korean.py`), a word is found inside
compounds (`학습` in `강화학습`), spacing does not matter (`언어모델` = `언어 모델`), quoted
phrases match across particles, and a word followed by a particle counts the same as the bare
word when ranking.

What needs judgement happens here, once, at build time:

- each item carries the names of the glossary terms it mentions (`_TermNames`), so
  `quantization` finds an item that only says `양자화` and `강화학습` one that only says
  "reinforcement learning";
- `search.js` is rendered with the particle list and the noun list in it (`language`), and
  each index file adds the nouns its own text attests (`korean.attested_nouns`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

from digest.glossary import GlossaryTerm, load_glossary
from digest.issue import Issue, IssueItem
from digest.site.korean import PARTICLES, attested_nouns, normalize
from digest.site.model import anchored_items, issue_url

# The index is cut into files of 100 issue numbers each (`search-index-0900.js` holds issues
# 900-999): a new issue rewrites only the newest file, not all 10 MB of a 1,000-issue index.
CHUNK_ISSUES = 100
# Each file adds its part to window.DIGEST_SEARCH; the search page loads them newest first, so
# the docs stay in the order ties are shown in.
_MERGE = (
    "(function(p){var s=window.DIGEST_SEARCH||"
    "(window.DIGEST_SEARCH={issues:{},docs:[],nouns:[]});"
    "for(var k in p.issues)s.issues[k]=p.issues[k];"
    "for(var i=0;i<p.docs.length;i++)s.docs.push(p.docs[i]);"
    "s.nouns=s.nouns.concat(p.nouns||[]);})"
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


def build_index(shown: list[Issue], nouns: frozenset[str] = frozenset()) -> str:
    """One index file: a script adding `shown` to `window.DIGEST_SEARCH`, not JSON, so it
    loads from file:// too. A doc is [issue number, anchor, title, text, other names]; with
    them the nouns the text attests that the noun list (`nouns`) lacks (korean.py)."""
    issues = {i.number: [i.title, issue_url(i)] for i in shown}
    names = _TermNames.get()
    docs = []
    for issue in reversed(shown):  # newest first: the order ties are shown in
        for _, anchor, item in anchored_items(issue):
            text = item_text(
                item.key_sentence, item.summary, item.significance, item.glossary_note, item.note
            )
            docs.append([issue.number, anchor, item.title, text, names.of(item, text)])
    attested = attested_nouns(normalize(f"{d[2]} {d[3]}") for d in docs)
    data = json.dumps(
        {"issues": issues, "docs": docs, "nouns": sorted(attested - nouns)},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f"{_MERGE}({data});\n"


def language(nouns: frozenset[str]) -> dict[str, list[str]]:
    """What `search.js` needs of korean.py: the particles, longest first, and the nouns."""
    return {"particles": list(PARTICLES), "nouns": sorted(nouns)}


_TOKEN = re.compile(r"[A-Za-z0-9]+")
_HANGUL_RUN = re.compile(r"[가-힣]+")
_LONGEST_NAME = 6  # words in the longest English name looked up


class _TermNames:
    """The names (English term, aliases, Korean name) of the glossary terms an item mentions,
    so a search in one language finds the other.

    Which senses count: a Korean name always (the term base's Korean names are specific), an
    English name only for terms without sense rules — by the term base's own design those
    names are never ordinary words, while a term with rules ("attention", "distillation",
    "transformer") needs `glossary.matches`, whose rule patterns take tens of milliseconds each
    to compile and a few milliseconds an item to run: minutes for a large archive. Names are
    looked up as word sequences and substrings, with no regular expression per term."""

    _instance: _TermNames | None = None

    def __init__(self, terms: tuple[GlossaryTerm, ...]) -> None:
        self.words: dict[tuple[str, ...], list[GlossaryTerm]] = defaultdict(list)
        self.acronyms: dict[tuple[str, ...], list[GlossaryTerm]] = defaultdict(list)
        # first word of a name → the most words a name starting with it has: a text's word
        # that starts no name is passed over at once (most are: 3x faster on a large archive)
        self.words_from: dict[str, int] = {}
        self.acronyms_from: dict[str, int] = {}
        # spaceless Korean names by their first two syllables, which start a Hangul run of the
        # text; a name is found in the text with its spaces removed (강화 학습 = 강화학습)
        self.korean: dict[str, list[tuple[str, GlossaryTerm]]] = defaultdict(list)
        for term in terms:
            if term.ko and "가" <= term.ko[0] <= "힣":
                dense = term.ko.replace(" ", "")
                self.korean[dense[:2]].append((dense, term))
            if term.has_rules:
                continue
            for name in (term.term, *term.aliases):
                tokens = tuple(_TOKEN.findall(name))
                if not tokens or len(tokens) > _LONGEST_NAME:
                    continue
                if name.isupper():  # an acronym matches only in capitals (AI, not "ai")
                    key, table, longest = tokens, self.acronyms, self.acronyms_from
                else:
                    key = tuple(t.lower() for t in tokens)
                    table, longest = self.words, self.words_from
                table[key].append(term)
                longest[key[0]] = max(longest.get(key[0], 0), len(key))

    @classmethod
    def get(cls) -> _TermNames:
        if cls._instance is None:
            cls._instance = cls(load_glossary())
        return cls._instance

    def of(self, item: IssueItem, text: str) -> str:
        """The names of the terms `item` mentions that its text lacks, space-separated."""
        whole = f"{item.title}\n{text}"
        tokens = _TOKEN.findall(whole)
        lower = [t.lower() for t in tokens]
        used: dict[str, GlossaryTerm] = {}
        for table, seq, longest in (
            (self.words, lower, self.words_from),
            (self.acronyms, tokens, self.acronyms_from),
        ):
            for i, first in enumerate(seq):
                most = longest.get(first)
                if most is None:
                    continue
                for n in range(1, min(most, len(seq) - i) + 1):
                    for term in table.get(tuple(seq[i : i + n]), ()):
                        used[term.term] = term
        dense = whole.replace(" ", "")
        for start in {run[:2] for run in _HANGUL_RUN.findall(whole)}:
            for ko, term in self.korean.get(start, ()):
                if term.term not in used and ko in dense:
                    used[term.term] = term
        if not used:
            return ""
        present = whole.casefold()
        names: dict[str, None] = {}
        for term in used.values():
            for name in (term.ko, term.term, *term.aliases):
                if name and name.casefold() not in present:
                    names[name] = None
        return " ".join(names)
