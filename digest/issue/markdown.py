"""An issue's Markdown file, both ways: `to_markdown` writes what `parse` reads back, exactly
(tests/test_issue.py round-trips generated issues)."""

from __future__ import annotations

import re
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
)

_FIELD_LINE = re.compile(r"^- \*\*\[(?P<label>[^\]]+)\]\*\*\s?(?P<text>.*)$")
_SECTION_MARK = re.compile(r"^<!-- section: (?P<id>[\w-]+) -->$")
_ITEM_MARK = re.compile(r"^<!-- (?P<body>item: .*) -->$")
_ITEM_HEADING = re.compile(r"^### \[(?P<title>.*)\]\((?P<url>[^)\s]*)\)\s*$")


# writing -------------------------------------------------------------------------------------
def to_markdown(issue: Issue) -> str:
    """The issue file's text (front matter, title line, sections, 뺀 항목), in the format of
    the module docstring, which `parse` reads back. Each field is written on one line."""
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
    out = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---"]
    out += [f"# {issue.title}", ""]
    for section in issue.sections:
        out += [f"## {section.title}", f"<!-- section: {section.id} -->", ""]
        for item in section.items:
            out += item_lines(item)
    if issue.dropped:
        out += [f"## {DROPPED_TITLE}", DROPPED_MARK, ""]
        for item in issue.dropped:
            out += item_lines(item)
    return "\n".join(out).rstrip("\n") + "\n"


def item_markdown(item: IssueItem) -> str:
    """One item as it stands in the file: what `digest review edit N` opens."""
    return "\n".join(item_lines(item)).rstrip("\n") + "\n"


def item_lines(item: IssueItem) -> list[str]:
    """One item's lines in the file: heading, item mark with its flags, key sentence, the
    labelled fields on one line each, the editor's other lines, then a blank line when there
    is a field or other line."""
    mark = [f"item: {item.id}", f"source: {item.source_id}"]
    if item.dropped_from:
        mark.append(f"section: {item.dropped_from}")
    if item.model:
        mark.append(f"model: {item.model}")
    if item.needs_review:
        reasons = "; ".join(_mark_text(r) for r in item.review_reasons)
        mark.append(f"{NEEDS_REVIEW}: {reasons}" if reasons else NEEDS_REVIEW)
    if item.unreviewed:
        mark.append(UNREVIEWED)
    if item.glossary_generated:
        mark.append(GENERATED_FLAG)
    if item.new:
        mark.append(NEW_FLAG)
    lines = [f"### [{_escape_title(item.title)}]({item.url})", f"<!-- {' | '.join(mark)} -->", ""]
    if item.key_sentence:
        lines += [f"> {_one_line(item.key_sentence)}", ""]
    fields = [
        f"- **[{label}]** {_one_line(getattr(item, name))}"
        for name, label in FIELD_LABELS.items()
        if getattr(item, name)
    ]
    lines += fields + item.other_lines
    if fields or item.other_lines:
        lines.append("")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mark_text(text: str) -> str:
    """`text` made safe inside the item mark: one line, no part separator, no comment end."""
    return _one_line(text).replace(" | ", " / ").replace("-->", "->").replace(";", ",")


def _escape_title(title: str) -> str:
    return title.replace("[", "\\[").replace("]", "\\]")


# reading -------------------------------------------------------------------------------------
def parse(text: str, path: Path | None = None) -> Issue:
    """An issue file's text as an `Issue` (its `path` set to `path`). The title line is
    ignored (it derives from the front matter); lines it does not know are kept with their
    item. Raises IssueFileError naming `path` (or `<issue>`) and, where it can, the line: no
    or unclosed front matter, invalid YAML, a missing number or date, an unknown status, bad
    corrections, an item before any section, a malformed item heading, text outside an item,
    or a second 뺀 항목 heading."""
    where = str(path or "<issue>")
    if not text.startswith("---\n"):
        raise IssueFileError(f"{where}:1: no front matter — the file must start with '---'")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise IssueFileError(f"{where}:1: front matter is not closed — add a '---' line")
    try:
        front = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise IssueFileError(f"{where}: front matter is not valid YAML ({exc})") from None
    issue = _issue_from_front(front, where)
    issue.path = path
    body_start = text[: end + 5].count("\n") + 1
    _parse_body(issue, text[end + 5 :].splitlines(), where, body_start)
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
    """Items written as in an issue file, without front matter or section heading."""
    bin_ = Section(id="items", title="items")
    holder = Issue(0, date.min, "")
    _parse_body(holder, text.splitlines(), where, 1, start=bin_)
    if holder.sections or holder.dropped:
        raise IssueFileError(
            f"{where}: a '## ' heading inside an item — remove it; move items between sections "
            "with `digest review move N --to M --section ID`"
        )
    return bin_.items


def _parse_body(
    issue: Issue, lines: list[str], where: str, first_line: int, start: Section | None = None
) -> None:
    section: Section | None = start
    dropped_bin: Section | None = None
    item: IssueItem | None = None
    for offset, raw in enumerate(lines):
        line = raw.rstrip()
        lineno = first_line + offset
        if line.startswith("# ") and section is None:
            continue  # the title line is derived from the front matter
        if line.startswith("## "):
            section, item = Section(id="", title=line[3:].strip()), None
            issue.sections.append(section)
            continue
        if section is not None and not section.id and not section.items:
            if line == DROPPED_MARK:
                # This heading is the bin of dropped items, not a section of the issue.
                issue.sections.remove(section)
                if dropped_bin is not None:
                    raise IssueFileError(
                        f"{where}:{lineno}: a second '{DROPPED_MARK}' heading — merge the two"
                    )
                dropped_bin = section
                section.id = "dropped"
                continue
            if m := _SECTION_MARK.match(line):
                section.id = m["id"]
                continue
        if line.startswith("### "):
            if section is None:
                raise IssueFileError(f"{where}:{lineno}: an item before any '## section' heading")
            heading = _ITEM_HEADING.match(line)
            if not heading:
                raise IssueFileError(
                    f"{where}:{lineno}: an item heading must read '### [title](url)'"
                )
            title = heading["title"].replace("\\[", "[").replace("\\]", "]")
            item = IssueItem(id=heading["url"], title=title, url=heading["url"])
            section.items.append(item)
            continue
        if item is None:
            if line.strip():
                raise IssueFileError(
                    f"{where}:{lineno}: text outside an item — put it under a '### [title](url)'"
                )
            continue
        _parse_item_line(item, line)
    if dropped_bin is not None:
        issue.dropped = dropped_bin.items
    for section in issue.sections:
        section.id = section.id or _slug(section.title)
    for item in [*issue.items, *issue.dropped, *(start.items if start else [])]:
        while item.other_lines and not item.other_lines[-1].strip():
            item.other_lines.pop()


def _parse_item_line(item: IssueItem, line: str) -> None:
    if (mark := _ITEM_MARK.match(line)) and not item.source_id:
        for part in (p.strip() for p in mark["body"].split(" | ")):
            key, _, value = part.partition(": ")
            if key == "item":
                item.id = value
            elif key == "source":
                item.source_id = value
            elif key == "model":
                item.model = value
            elif key == "section":
                item.dropped_from = value
            elif part == NEEDS_REVIEW:
                item.needs_review = True
            elif part.startswith(f"{NEEDS_REVIEW}: "):
                item.needs_review = True
                reasons = part[len(NEEDS_REVIEW) + 2 :].split("; ")
                item.review_reasons = [r.strip() for r in reasons if r.strip()]
            elif part == UNREVIEWED:
                item.unreviewed = True
            elif part == NEW_FLAG:
                item.new = True
            elif part == GENERATED_FLAG:
                item.glossary_generated = True
        return
    if line.startswith("> ") and not item.key_sentence:
        item.key_sentence = line[2:].strip()
        return
    field_line = _FIELD_LINE.match(line)
    if field_line and field_line["label"] in LABEL_FIELDS:
        setattr(item, LABEL_FIELDS[field_line["label"]], field_line["text"].strip())
        return
    if line.strip() or item.other_lines:
        item.other_lines.append(line)


def _slug(title: str) -> str:
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-") or "section"
