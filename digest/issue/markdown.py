r"""An issue's Markdown file, both ways: `to_markdown` writes what `parse` reads back, exactly
(tests/test_issue_format.py round-trips generated issues whatever their values hold).

Every value is written so that it stays on its line and inside its construct. A character
that would end a line (any line break str.splitlines knows, any control character) or a
construct (a `|` or `-->` in the item mark, whitespace at either end of a value the reader
strips, the first character of a free line that would read as a heading, an item mark, a quote
or a field) is written as a decimal character reference, `&#10;`, which Markdown renders as the same
character; an `&` that would start such a reference is written `&amp;`. A title's brackets
are escaped (`\[`), and a url holding spaces, parentheses, angle brackets or backslashes is
written as `<…>`, as CommonMark reads it. Ordinary titles and urls are written as they are.

The reader takes `\r\n`, `\r` and `\n` as line ends (as Markdown does), a BOM, and the older
writer's headings with a raw `(…)` or space in the url. A part it cannot read (an item heading
that is not `### [title](url)`, text outside an item) is left out of the issue with a warning
naming the file and line, and kept in `Issue.unreadable` so the next write puts it back.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from digest.errors import IssueFileError
from digest.issue.model import (
    DROPPED_MARK,
    DROPPED_TITLE,
    FIELD_LABELS,
    GENERATED_FLAG,
    LABEL_FIELDS,
    NEEDS_REVIEW,
    NEW_FLAG,
    STATUSES,
    UNREVIEWED,
    Correction,
    Issue,
    IssueItem,
    Section,
    Unreadable,
)

log = logging.getLogger(__name__)

_FIELD_LINE = re.compile(r"^- \*\*\[(?P<label>[^\]]+)\]\*\*\s?(?P<text>.*)$")
_SECTION_MARK = re.compile(r"^<!-- section: (?P<id>.*) -->$")
_ITEM_MARK = re.compile(r"^<!-- (?P<body>item: .*) -->$")
# An item heading: the url as `<…>` (backslash escapes inside), else bare as the writer puts
# an ordinary url, else anything up to the last `)` (the older writer's raw `(…)` and spaces).
_HEADING_ANGLE = re.compile(r"^### \[(?P<title>.*)\]\(<(?P<url>(?:[^<>\\]|\\.)*)>\)\s*$")
_HEADING_BARE = re.compile(r"^### \[(?P<title>.*)\]\((?P<url>[^)\s]*)\)\s*$")
_HEADING_LOOSE = re.compile(r"^### \[(?P<title>.*)\]\((?P<url>.*)\)\s*$")
_LINE_END = re.compile(r"\r\n|\r|\n")

# The character references the writer makes and the reader decodes: `&#N;` for a character
# `_encoded` allows, with `&amp;` repeated in front of one that stands for itself.
_REF = re.compile(r"&((?:amp;)*)#(\d{1,7});")
# Control characters (tab aside) and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_URL_NEEDS_ANGLE = re.compile(r"[\s()<>\\\x00-\x1f\x7f-\x9f]")
_warned: set[str] = set()  # problems already logged by this process


# encoding ------------------------------------------------------------------------------------
def _encoded(code: int) -> bool:
    """Whether the writer may write character `code` as a reference (so the reader decodes it)."""
    if code > 0x10FFFF:
        return False
    char = chr(code)
    return char.isspace() or char in "|<>#-" or bool(_CONTROL.match(char))


def _ref(char: str) -> str:
    return f"&#{ord(char)};"


def _escape_refs(text: str) -> str:
    """`text` with `amp;` added to each `&` that starts a reference the reader would decode."""
    if "&" not in text:
        return text
    return _REF.sub(lambda m: "&amp;" + m[0][1:] if _encoded(int(m[2])) else m[0], text)


def _decode(text: str) -> str:
    """What the writer encoded, decoded: the inverse of `_escape_refs` then the references."""
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if not _encoded(int(m[2])):
            return m[0]
        return f"&{m[1][4:]}#{m[2]};" if m[1] else chr(int(m[2]))

    return _REF.sub(one, text)


def _encode(text: str, *, lead: bool = True, trail: bool = True) -> str:
    """`text` for one line: references escaped, control characters and line breaks encoded,
    and a whitespace character at the start (`lead`) or end (`trail`), which the reader
    strips, encoded."""
    text = _CONTROL.sub(lambda m: _ref(m[0]), _escape_refs(text))
    if trail and text[-1:].isspace():
        text = text[:-1] + _ref(text[-1])
    if lead and text[:1].isspace():
        text = _ref(text[0]) + text[1:]
    return text


def _mark_value(text: str) -> str:
    """`text` inside the item mark: one line, no part separator, no comment end."""
    return _encode(text).replace("|", _ref("|")).replace("-->", "--" + _ref(">"))


def _reason(text: str) -> str:
    """A review reason inside the item mark: `_mark_value`, and no `; ` (the reasons' separator)."""
    text = _mark_value(text)
    while "; " in text:
        text = text.replace("; ", ";" + _ref(" "))
    return text


def _heading_title(title: str) -> str:
    return _encode(title, lead=False, trail=False).replace("[", "\\[").replace("]", "\\]")


def _link_target(url: str) -> str:
    """`url` as a Markdown link destination that reads back: as it is, or `<…>` when it holds
    whitespace, parentheses, angle brackets, backslashes or control characters."""
    if not _URL_NEEDS_ANGLE.search(url):
        return url
    text = _encode(url, lead=False, trail=False).replace("\\", "\\\\")
    return "<" + text.replace("<", "\\<").replace(">", "\\>") + ">"


def link(title: str, url: str) -> str:
    """A Markdown link `[title](url)` that reads back as `title` and `url`: the title's
    brackets escaped, the url bare when it can be and `<…>` when it holds spaces, parentheses
    or angle brackets, and neither able to end the line."""
    return f"[{_heading_title(title)}]({_link_target(url)})"


# writing -------------------------------------------------------------------------------------
class _FrontMatter(yaml.SafeDumper):
    """YAML for the front matter: a string holding a line break or a control character, or
    starting or ending with whitespace, is written double-quoted with those escaped, so no
    value can make a line (or a `---`) of its own and every value reads back."""


def _front_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    odd = _CONTROL.search(value) or value.strip() != value  # PyYAML drops some end spaces
    style = '"' if odd else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FrontMatter.add_representer(str, _front_str)


def to_markdown(issue: Issue) -> str:
    """The issue file's text (front matter, title line, sections, 뺀 항목), in the format of
    the module docstring, which `parse` reads back. Each value stays on its line; the lines
    the reader left out (`issue.unreadable`) are put back where they stood."""
    front: dict[str, Any] = {
        "number": issue.number,
        "date": issue.date,
        "status": issue.status,
        "title": issue.name,
    }
    if issue.keywords:
        front["keywords"] = list(issue.keywords)
    if issue.published_at:
        front["published_at"] = issue.published_at
    if issue.corrections:
        front["corrections"] = [{"at": c.at, "what": c.what} for c in issue.corrections]
    # One line per value, however long: no value changes the number of lines.
    dumped = yaml.dump(
        front, Dumper=_FrontMatter, allow_unicode=True, sort_keys=False, width=float("inf")
    )
    out = ["---", dumped.strip(), "---"]
    out += [f"# {_encode(issue.title, lead=False, trail=False)}", ""]
    kept = _placed(issue)
    out += _kept(kept, None, "")
    for section in issue.sections:
        out += [f"## {_encode(section.title)}", f"<!-- section: {_mark_value(section.id)} -->", ""]
        out += _section_body(section.id, section.items, kept)
    if issue.dropped or any(place[0] == "dropped" for place in kept):
        out += [f"## {DROPPED_TITLE}", DROPPED_MARK, ""]
        out += _section_body("dropped", issue.dropped, kept)
    return "\n".join(out).rstrip("\n") + "\n"


_Place = tuple[str | None, str | None]


def _placed(issue: Issue) -> dict[_Place, list[Unreadable]]:
    """Where each block of `issue.unreadable` is written: (section id, item id) after that
    item, (section id, "") at the top of the section, (section id, None) at its end, (None, "")
    before the first section. A block whose section is gone goes before the first section, one
    whose item is gone to the end of its section."""
    items = {"dropped": {i.id for i in issue.dropped}}
    for section in reversed(issue.sections):
        items[section.id] = {i.id for i in section.items}
    placed: dict[_Place, list[Unreadable]] = {}
    for block in issue.unreadable:
        place: _Place = (block.section, block.after)
        if block.section not in items:
            place = (None, "")
        elif block.after and block.after not in items[block.section]:
            place = (block.section, None)
        placed.setdefault(place, []).append(block)
    return placed


def _kept(
    placed: dict[_Place, list[Unreadable]], section: str | None, after: str | None
) -> list[str]:
    """The kept lines to write at one place, each block followed by a blank line; once."""
    return [line for block in placed.pop((section, after), []) for line in [*block.lines, ""]]


def _section_body(
    section_id: str, items: list[IssueItem], kept: dict[_Place, list[Unreadable]]
) -> list[str]:
    out = _kept(kept, section_id, "")
    for item in items:
        out += item_lines(item) + _kept(kept, section_id, item.id)
    return out + _kept(kept, section_id, None)


def item_markdown(item: IssueItem) -> str:
    """One item as it stands in the file: what `digest review edit N` opens."""
    return "\n".join(item_lines(item)).rstrip("\n") + "\n"


def item_lines(item: IssueItem) -> list[str]:
    """One item's lines in the file: heading, item mark with its flags, key sentence, the
    labelled fields on one line each, the editor's other lines, then a blank line when there
    is a field or other line. No value can end its line or make another construct: see the
    module docstring. An empty review reason names nothing and is not written."""
    mark = [f"item: {_mark_value(item.id)}"]
    if item.ref:
        mark.append(f"ref: {_mark_value(item.ref)}")
    mark.append(f"source: {_mark_value(item.source_id)}")
    if item.dropped_from:
        mark.append(f"section: {_mark_value(item.dropped_from)}")
    if item.model:
        mark.append(f"model: {_mark_value(item.model)}")
    if item.needs_review:
        reasons = "; ".join(_reason(r) for r in item.review_reasons if r)
        mark.append(f"{NEEDS_REVIEW}: {reasons}" if reasons else NEEDS_REVIEW)
    if item.unreviewed:
        mark.append(UNREVIEWED)
    if item.glossary_generated:
        mark.append(GENERATED_FLAG)
    if item.new:
        mark.append(NEW_FLAG)
    lines = [f"### {link(item.title, item.url)}", f"<!-- {' | '.join(mark)} -->", ""]
    if item.key_sentence:
        lines += [f"> {_encode(item.key_sentence)}", ""]
    fields = [
        f"- **[{label}]** {_encode(getattr(item, name))}"
        for name, label in FIELD_LABELS.items()
        if getattr(item, name)
    ]
    other = [_other_line(line, item) for line in item.other_lines]
    lines += fields + other
    if fields or other:
        lines.append("")
    return lines


def _other_line(line: str, item: IssueItem) -> str:
    """One of the editor's free lines, as it is unless it would read as something else: a
    heading, an item mark, the key sentence (when the item has none) or a field (when it has
    none)."""
    text = _encode(line, lead=False)
    field_line = _FIELD_LINE.match(text)
    if (
        text == "##"
        or text.startswith(("## ", "### ", "<!-- item: "))
        or (text.startswith("> ") and not item.key_sentence)
        or (
            field_line
            and field_line["label"] in LABEL_FIELDS
            and not getattr(item, LABEL_FIELDS[field_line["label"]])
        )
    ):
        return _ref(text[0]) + text[1:]
    return text


# reading -------------------------------------------------------------------------------------
# libyaml's parser with the safe constructors when PyYAML has it: the same values, and front
# matter read 5x faster (a 1,000-issue site reads every file on a cold build; the cron job
# reads them several times a run).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, path: Path | None = None, *, strict: bool = False) -> Issue:
    """An issue file's text as an `Issue` (its `path` set to `path`). The title line is
    ignored (it derives from the front matter); lines it does not know are kept with their
    item. An item heading that is not `### [title](url)`, an item before any section or text
    outside an item is left out of the issue with a warning (logged once, and in
    `issue.problems`) naming `path` and the line, and kept in `issue.unreadable` for the next
    write; with `strict` (the editor's check before saving) it raises IssueFileError instead.

    Raises IssueFileError naming `path` (or `<issue>`) and, where it can, the line: no or
    unclosed front matter, invalid YAML, a missing number or date, an unknown status, bad
    corrections, or a second 뺀 항목 heading."""
    where = str(path or "<issue>")
    # NFC inside (a hand edit on macOS may write NFD Hangul): matching, keywords and search
    # then see one spelling.
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    lines = _LINE_END.split(text)
    if lines[0].rstrip() != "---":
        raise IssueFileError(f"{where}:1: no front matter — the file must start with '---'")
    end = next((n for n, line in enumerate(lines) if n and line.rstrip() == "---"), None)
    if end is None:
        raise IssueFileError(f"{where}:1: front matter is not closed — add a '---' line")
    try:
        front = yaml.load("\n".join(lines[1:end]), Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise IssueFileError(f"{where}: front matter is not valid YAML ({exc})") from None
    if not isinstance(front, dict):
        raise IssueFileError(f"{where}:2: front matter must be `key: value` lines")
    issue = _issue_from_front(front, where)
    issue.path = path
    _Reader(issue, where, strict=strict).read(lines[end + 1 :], end + 2)
    return issue


def _issue_from_front(front: dict[str, Any], where: str) -> Issue:
    try:
        number = int(front["number"])
        day = front["date"]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
    except (KeyError, TypeError, ValueError) as exc:
        raise IssueFileError(
            f"{where}:2: front matter needs number: (an integer) and date: (YYYY-MM-DD) ({exc})"
        ) from None
    status = str(front.get("status", "draft"))
    if status not in STATUSES:
        raise IssueFileError(f"{where}: status {status!r} — use one of {', '.join(STATUSES)}")
    return Issue(
        number=number,
        date=day,
        name=str(front.get("title") or "뉴랄브리핑"),
        status=status,
        keywords=[str(k) for k in front.get("keywords") or []],
        published_at=str(front["published_at"]) if front.get("published_at") else None,
        corrections=_corrections(front.get("corrections"), where),
    )


def _corrections(value: Any, where: str) -> list[Correction]:
    if not value:
        return []
    if not isinstance(value, list) or not all(
        isinstance(c, dict) and "at" in c and "what" in c for c in value
    ):
        raise IssueFileError(
            f"{where}: corrections: must be a list of {{at: …, what: …}} entries — "
            "fix or remove that key"
        )
    return [Correction(at=str(c["at"]), what=str(c["what"])) for c in value]


def parse_items(text: str, where: str = "<item>") -> list[IssueItem]:
    """Items written as in an issue file, without front matter or section heading. Raises
    IssueFileError naming `where` and the line for a heading or text it cannot read."""
    bin_ = Section(id="items", title="items")
    holder = Issue(0, date.min, "")
    _Reader(holder, where, strict=True, start=bin_).read(_LINE_END.split(text), 1)
    if holder.sections or holder.dropped:
        raise IssueFileError(
            f"{where}: a '## ' heading inside an item — remove it; move items between sections "
            "with `digest review move N --to M --section ID`"
        )
    return bin_.items


class _Reader:
    """Reads the body of an issue file into `issue`, one line at a time."""

    def __init__(
        self, issue: Issue, where: str, *, strict: bool, start: Section | None = None
    ) -> None:
        self.issue, self.where, self.strict, self.start = issue, where, strict, start
        self.section: Section | None = start
        self.dropped_bin: Section | None = None
        self.item: IssueItem | None = None
        self.seen: set[str] = set()  # the item's mark, quote and field labels read so far
        self.block: Unreadable | None = None
        # each block's section and the item it follows, as objects: ids are known at the end
        self.anchors: list[tuple[Unreadable, Section | None, IssueItem | None]] = []

    def read(self, lines: list[str], first_line: int) -> None:
        for offset, raw in enumerate(lines):
            self.line(raw.rstrip(), first_line + offset)
        if self.dropped_bin is not None:
            self.issue.dropped = self.dropped_bin.items
        for section in self.issue.sections:
            section.id = section.id or _slug(section.title)
        for item in [
            *self.issue.items,
            *self.issue.dropped,
            *(self.start.items if self.start else []),
        ]:
            while item.other_lines and not item.other_lines[-1]:
                item.other_lines.pop()
        for block, where, after in self.anchors:
            while block.lines and not block.lines[-1]:
                block.lines.pop()
            block.section = "" if where is None else where.id
            block.after = after.id if after is not None else ""
            self.issue.unreadable.append(block)

    def line(self, line: str, lineno: int) -> None:
        section = self.section
        if line == "##" or line.startswith("## "):
            self.section = Section(id="", title=_decode(line[3:].strip()))
            self.issue.sections.append(self.section)
            self.item = self.block = None
            return
        if section is not None and not section.id and not section.items:
            if line == DROPPED_MARK:
                # This heading is the bin of dropped items, not a section of the issue.
                self.issue.sections.remove(section)
                if self.dropped_bin is not None:
                    raise IssueFileError(
                        f"{self.where}:{lineno}: a second '{DROPPED_MARK}' heading — merge the two"
                    )
                self.dropped_bin = section
                section.id = "dropped"
                return
            if m := _SECTION_MARK.match(line):
                section.id = _decode(m["id"].strip())
                return
        if line.startswith("### "):
            heading = _heading(line)
            if section is None:
                self.unreadable(
                    line, lineno, "an item before any '## section' heading — put one above it"
                )
            elif heading is None:
                self.unreadable(
                    line, lineno, "an item heading must read '### [title](url)' — fix the heading"
                )
            else:
                title, url = heading
                self.item, self.block, self.seen = (
                    IssueItem(id=url, title=title, url=url),
                    None,
                    set(),
                )
                section.items.append(self.item)
            return
        if self.block is not None:
            self.block.lines.append(line)
        elif line.startswith("# ") and section is None:
            return  # the title line is derived from the front matter
        elif self.item is not None:
            _read_item_line(self.item, line, self.seen)
        elif line.strip():
            self.unreadable(
                line, lineno, "text outside an item — put it under a '### [title](url)'"
            )

    def unreadable(self, line: str, lineno: int, problem: str) -> None:
        """Start a block of lines left out of the issue (or raise, when strict)."""
        message = f"{self.where}:{lineno}: {problem}"
        if self.strict:
            raise IssueFileError(message)
        message += " (left out of the issue until then; its lines are kept)"
        if message not in _warned:
            _warned.add(message)
            log.warning("%s", message)
        after = self.section.items[-1] if self.section and self.section.items else None
        self.block = Unreadable("", "", [line], message)
        self.anchors.append((self.block, self.section, after))
        self.item = None


def _heading(line: str) -> tuple[str, str] | None:
    """An item heading's title and url, or None when the line is no `### [title](url)`."""
    if m := _HEADING_ANGLE.match(line):
        url = _decode(re.sub(r"\\(.)", r"\1", m["url"]))
    elif m := (_HEADING_BARE.match(line) or _HEADING_LOOSE.match(line)):
        url = m["url"]
    else:
        return None
    return _decode(m["title"].replace("\\[", "[").replace("\\]", "]")), url


def _read_item_line(item: IssueItem, line: str, seen: set[str]) -> None:
    if "mark" not in seen and (mark := _ITEM_MARK.match(line)):
        seen.add("mark")
        for part in (p.strip() for p in mark["body"].split(" | ")):
            key, _, value = part.partition(":")
            value = _decode(value.removeprefix(" "))
            if key == "item":
                item.id = value
            elif key == "ref":
                item.ref = value
            elif key == "source":
                item.source_id = value
            elif key == "model":
                item.model = value
            elif key == "section":
                item.dropped_from = value
            elif part == NEEDS_REVIEW:
                item.needs_review = True
            elif key == NEEDS_REVIEW:
                item.needs_review = True
                reasons = part[len(NEEDS_REVIEW) + 2 :].split("; ")
                item.review_reasons = [_decode(r.strip()) for r in reasons if r.strip()]
            elif part == UNREVIEWED:
                item.unreviewed = True
            elif part == NEW_FLAG:
                item.new = True
            elif part == GENERATED_FLAG:
                item.glossary_generated = True
        return
    if "quote" not in seen and line.startswith("> "):
        seen.add("quote")
        item.key_sentence = _decode(line[2:].strip())
        return
    field_line = _FIELD_LINE.match(line)
    if field_line and field_line["label"] in LABEL_FIELDS and field_line["label"] not in seen:
        # The first line with a label is the field; a second one stays the editor's text.
        seen.add(field_line["label"])
        setattr(item, LABEL_FIELDS[field_line["label"]], _decode(field_line["text"].strip()))
        return
    if line.strip() or item.other_lines:
        item.other_lines.append(_decode(line))


def _slug(title: str) -> str:
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-") or "section"
