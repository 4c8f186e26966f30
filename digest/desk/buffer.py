"""The text `digest review edit ITEM` opens: the item as its file has it, plus what an editor
needs to write the brief — an empty line for each field it lacks (`- **[의의]** `) with a hint
naming them, and the source text it was summarized from (an arXiv abstract, a post's opening,
a page's description) with a key sentence from it, as comment lines.

None of this is saved: `strip` takes out every help line (`<!-- digest: … -->`, the comment
syntax issue files use, with this module's tag) and every field line left empty, so what is
saved is what the editor wrote.
"""

from __future__ import annotations

import re
import textwrap

from digest import issue as issues
from digest.config import Config
from digest.desk.refs import EDITOR_SOURCE
from digest.issue import FIELD_LABELS, IssueItem
from digest.models import Item
from digest.store import Store
from digest.summarize.extractive import key_sentence

TAG = "digest:"  # every help line is `<!-- digest: … -->`, as the problem lines of a broken edit
# Columns of the source text's comment lines: most of an 100-column terminal, with the marks.
SOURCE_WIDTH = 88
QUOTE_LABEL = "인용 (> key sentence)"
_LINE_END = re.compile(r"\r\n|\r|\n")  # as the issue reader splits lines, and no other way
_HELP_LINE = re.compile(r"^\s*<!--\s*digest:.*-->\s*$")
_EMPTY_FIELD = re.compile(
    r"^\s*(?:>|- \*\*\[(?:" + "|".join(map(re.escape, FIELD_LABELS.values())) + r")\]\*\*)\s*$"
)


def note(text: str) -> str:
    """`text` as a help line of the buffer: a comment line (issue.comment_line) with TAG."""
    return issues.comment_line(f"{TAG} {text}")


def source_of(config: Config, item: IssueItem) -> Item | None:
    """The stored item `item` was made from (its source text is `summary`), or None when the
    store does not have it (an item written by hand)."""
    with Store(config.state_path) as store:
        return store.item(item.id)


def item_buffer(item: IssueItem, source: Item | None) -> str:
    """The text to edit for `item`: its lines as in the issue file (issue.item_lines), with a
    placeholder for the key sentence and each brief field it lacks, a hint line naming those,
    and `source`'s text (and a key sentence from it when the item has none) as help lines."""
    lines = issues.item_lines(item)
    # item_lines: heading, mark, blank; the quote and a blank when there is one; one line per
    # field it has, in FIELD_LABELS order; the editor's other lines; a blank after those.
    head, rest = lines[:2], lines[3:]
    quote = rest[:1] if item.key_sentence else ["> "]
    rest = rest[2:] if item.key_sentence else rest
    have = [name for name in FIELD_LABELS if getattr(item, name)]
    written, others = iter(rest[: len(have)]), rest[len(have) :]
    fields = [
        next(written) if name in have else f"- **[{label}]** "
        for name, label in FIELD_LABELS.items()
    ]
    missing = [QUOTE_LABEL] * (not item.key_sentence) + [
        label for name, label in FIELD_LABELS.items() if name not in have
    ]
    hint = []
    if missing:
        hint = [note(f"empty: {', '.join(missing)} — write on their lines; left empty, not saved")]
    # The help lines go under the mark, to be read before writing; the item's end stays where
    # it was, for an editor (or a script) that appends a line.
    body = [*head, *hint, *_source_lines(item, source), "", *quote, "", *fields, *others]
    while body and not body[-1]:
        body.pop()
    return "\n".join(body) + "\n"


def _source_lines(item: IssueItem, source: Item | None) -> list[str]:
    text = source.summary if source is not None else ""
    if not text:
        return [note("no source text is stored for this item")]
    lines = [note(f"{_kind(source)}, for reference (digest: lines are not saved):")]
    lines += [note(chunk) for chunk in textwrap.wrap(text, SOURCE_WIDTH)]
    if not item.key_sentence and (found := key_sentence(text, item.title)):
        lines.append(note(f"a key sentence from it, for the > line: {found}"))
    return lines


def _kind(source: Item | None) -> str:
    if source is None:
        return "the text"
    if source.arxiv is not None:
        return "the arXiv abstract"
    if source.reddit is not None:
        return "the Reddit post"
    if source.source_id == EDITOR_SOURCE:
        return "the page's description"
    return "the post's opening"


def strip(text: str) -> str:
    """`text` without the buffer's help lines and without the key-sentence and field lines
    left empty: what the editor wrote, to be read as an item."""
    kept = [line for line in _LINE_END.split(text) if not _is_help(line)]
    return "\n".join(kept)


def _is_help(line: str) -> bool:
    return bool(_HELP_LINE.match(line) or _EMPTY_FIELD.match(line))
