"""The `Issue` document and its Markdown file: numbering, front matter, parse ⇄ write.

An issue file looks like this (the editor may change anything but the comments):

    ---
    number: 1
    date: 2026-11-23
    status: draft
    title: 뉴랄브리핑
    ---
    # 제 0001호 뉴랄브리핑 (2026년 11월 23일 월요일)

    ## 구글 블로그
    <!-- section: google -->

    ### [A post title](https://…)
    <!-- item: https://… | source: google-research -->

    > The key sentence, quoted from the source.

    - **[요약]** …
    - **[의의]** …
    - **[토막상식]** …
    - **[한마디]** the editor's own comment

    ## 뺀 항목
    <!-- dropped -->

    ### [A dropped item](https://…)
    <!-- item: https://… | source: aws-ml | section: aws -->

Lines inside an item that are none of these are kept as they are. The item mark may carry
`model: …`, `section: …` (where a dropped item came from) and the flags `검토 필요` (the brief
failed a check; `검토 필요: …` names each one), `미검토` (written by a summarizer and not yet
shown to, edited or approved by the editor), `생성 토막상식` (the model wrote the 토막상식, not
the curated glossary) and `새 항목` (appended by a re-draft after the editor had the draft).
Items under the `<!-- dropped -->` heading were dropped by the editor: they are not in the issue,
are never proposed again, and `digest review keep` brings them back with their text. The front
matter may hold `keywords:` and, once published and corrected, `corrections:` ({at, what}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from digest import clock
from digest.config import Config
from digest.errors import DigestError, IssueFileError
from digest.models import Brief, Item
from digest.store import atomic_write

# The issue document's schema: bump it when a field of Issue/IssueItem/Section/Correction or a
# parse rule changes, so caches of parsed issues (site/cache.py) are rebuilt. tests/test_issue.py
# fails with a reminder when the fields change and this does not.
SCHEMA = 2
STATUSES = ("draft", "approved", "published")
WEEKDAYS_KO = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
# Korean labels of Brief fields, in the order they are written.
FIELD_LABELS = {
    "summary": "요약",
    "significance": "의의",
    "glossary_note": "토막상식",
    "note": "한마디",
}
LABEL_FIELDS = {label: name for name, label in FIELD_LABELS.items()}
NEEDS_REVIEW = "검토 필요"
UNREVIEWED = "미검토"  # machine-written, and the editor has not shown, edited or approved it
NEW_FLAG = "새 항목"
GENERATED_FLAG = "생성 토막상식"  # the 토막상식 was proposed by the model, not the glossary
DROPPED_TITLE = "뺀 항목"
DROPPED_MARK = "<!-- dropped -->"

_FIELD_LINE = re.compile(r"^- \*\*\[(?P<label>[^\]]+)\]\*\*\s?(?P<text>.*)$")
_SECTION_MARK = re.compile(r"^<!-- section: (?P<id>[\w-]+) -->$")
_ITEM_MARK = re.compile(r"^<!-- (?P<body>item: .*) -->$")
_ITEM_HEADING = re.compile(r"^### \[(?P<title>.*)\]\((?P<url>[^)\s]*)\)\s*$")


def issue_title(number: int, day: date, name: str) -> str:
    """The title line exactly as the reference writes it."""
    weekday = WEEKDAYS_KO[day.weekday()]
    return f"제 {number:04d}호 {name} ({day.year}년 {day.month}월 {day.day}일 {weekday})"


@dataclass
class IssueItem:
    """One item as the issue file holds it: id, title and url (the `###` heading), source,
    the brief (key sentence, 요약, 의의, 토막상식), the editor's 한마디, the flags of its
    item mark (검토 필요 with reasons, 미검토, 생성 토막상식, 새 항목), the model that wrote
    it, and any other lines the editor wrote, kept verbatim."""

    id: str
    title: str
    url: str
    source_id: str = ""
    key_sentence: str = ""
    summary: str = ""
    significance: str = ""
    glossary_note: str = ""
    note: str = ""
    needs_review: bool = False
    review_reasons: list[str] = field(default_factory=list)  # each failed check, named
    unreviewed: bool = False  # 미검토: machine-written, not yet seen by the editor
    model: str = ""
    glossary_generated: bool = False  # the model proposed the 토막상식 (생성 토막상식)
    new: bool = False  # appended by a re-draft after the editor had the draft (새 항목)
    dropped_from: str = ""  # the section a dropped item came from
    other_lines: list[str] = field(default_factory=list)  # the editor's free text, kept verbatim

    @classmethod
    def from_brief(cls, item: Item, brief: Brief) -> IssueItem:
        """A new entry for `item` written with `brief`: 미검토 when a model wrote it."""
        return cls(
            id=item.id,
            title=item.title,
            url=item.url,
            source_id=item.source_id,
            key_sentence=brief.key_sentence,
            summary=brief.summary,
            significance=brief.significance,
            glossary_note=brief.glossary_note,
            needs_review=brief.needs_review,
            review_reasons=list(brief.review_reasons),
            unreviewed=bool(brief.model),
            model=brief.model,
            glossary_generated=brief.glossary_generated,
        )


@dataclass
class Section:
    """A `##` section of an issue: its id (the `<!-- section: id -->` mark, else a slug of
    the title), its title and its items in order."""

    id: str
    title: str
    items: list[IssueItem] = field(default_factory=list)


@dataclass
class Correction:
    """A change made to a published issue: when, and what it touched."""

    at: str
    what: str


@dataclass
class Issue:
    """One issue file: number, date (in feeds.yaml's timezone), the newsletter's name,
    status (draft, approved, published), sections, 키워드, publication time (ISO 8601 with
    offset), the dropped items (뺀 항목), corrections of a published issue, and the file it
    was read from or written to (None for a new issue)."""

    number: int
    date: date
    name: str  # the newsletter's name from feeds.yaml, e.g. 뉴랄브리핑
    status: str = "draft"
    sections: list[Section] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    published_at: str | None = None
    dropped: list[IssueItem] = field(default_factory=list)  # the editor's drops, kept whole
    corrections: list[Correction] = field(default_factory=list)
    path: Path | None = None

    @property
    def title(self) -> str:
        return issue_title(self.number, self.date, self.name)

    @property
    def items(self) -> list[IssueItem]:
        return [item for section in self.sections for item in section.items]

    @property
    def item_ids(self) -> set[str]:
        return {item.id for item in self.items}

    @property
    def claimed_ids(self) -> set[str]:
        """Ids this issue has decided on: its items and the ones its editor dropped."""
        return self.item_ids | {item.id for item in self.dropped}

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)


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


# the issues folder ---------------------------------------------------------------------------
def file_name(number: int) -> str:
    """The issue file's name: `0042.md` (at least four digits)."""
    return f"{number:04d}.md"


def load(path: Path) -> Issue:
    """The issue in file `path` (UTF-8). Raises IssueFileError when it cannot be parsed;
    OSError and UnicodeDecodeError from reading it pass through."""
    return parse(path.read_text(encoding="utf-8"), path)


def load_all(issues_dir: Path) -> list[Issue]:
    """Every issue file (`NNNN.md`) in `issues_dir`, by number then date; [] when the folder
    does not exist. The files are the source of truth. Raises IssueFileError for the first
    file that cannot be parsed."""
    if not issues_dir.is_dir():
        return []
    issues = [load(p) for p in sorted(issues_dir.glob("[0-9][0-9][0-9][0-9].md"))]
    return sorted(issues, key=lambda i: (i.number, i.date))


def save(issue: Issue, issues_dir: Path) -> Path:
    """Write `issue` atomically to `issues_dir/NNNN.md` for its number and return that path;
    when its number changed, the file it was read from is removed and `issue.path` updated.
    Raises IssueFileError, writing nothing, when the file for that number holds another
    issue (two issues never share a number); OSError from the disk passes through."""
    path = issues_dir / file_name(issue.number)
    mine = issue.path is not None and issue.path.resolve() == path.resolve()
    if path.exists() and not mine:
        # Two drafts never claim one number: writing here would erase another issue's file.
        raise IssueFileError(
            f"{path}: already holds another issue, so {issue.date.isoformat()} cannot take "
            f"number {issue.number} — give one of them a free number: in its front matter"
        )
    atomic_write(path, to_markdown(issue))
    if issue.path and issue.path != path and issue.path.exists():
        issue.path.unlink()  # renumbered at publish: the draft file becomes the issue file
    issue.path = path
    return path


def for_date(issues: list[Issue], day: date) -> Issue | None:
    """The first of `issues` dated `day`, whatever its status, or None."""
    return next((i for i in issues if i.date == day), None)


def published(issues: list[Issue]) -> list[Issue]:
    """The published ones of `issues`, in their order."""
    return [i for i in issues if i.status == "published"]


def next_number(issues: list[Issue]) -> int:
    """Issues are numbered in publication order: one more than the last published."""
    return max((i.number for i in published(issues)), default=0) + 1


def draft_number(issues: list[Issue]) -> int:
    """A new draft takes a number no other file has; publish may move it down to close gaps."""
    return max((i.number for i in issues), default=0) + 1


def expected_number(all_issues: list[Issue], issue: Issue) -> int:
    """The number a draft will get: drafts are published oldest first after the last issue."""
    if issue.status == "published":
        return issue.number
    waiting = sorted(
        (i for i in all_issues if i.status != "published"), key=lambda i: (i.date, i.number)
    )
    ahead = next((n for n, i in enumerate(waiting) if i.date == issue.date), len(waiting))
    return next_number(all_issues) + ahead


def ensure_section(issue: Issue, section_id: str, title: str, order: list[str]) -> Section:
    """The issue's section `section_id`, made in feeds.yaml's order when it has none yet."""
    found = issue.section(section_id)
    if found is not None:
        return found
    section = Section(section_id, title)
    rank = {sid: n for n, sid in enumerate(order)}
    position = len(issue.sections)
    for index, other in enumerate(issue.sections):
        if rank.get(other.id, len(order)) > rank.get(section_id, len(order)):
            position = index
            break
    issue.sections.insert(position, section)
    return section


def with_status(issue: Issue, status: str, **changes: Any) -> Issue:
    """A shallow copy of `issue` with `status` and any other fields in `changes`; sections
    and items are shared with the original. Nothing is written."""
    return replace(issue, status=status, **changes)


# publishing ------------------------------------------------------------------------------------
def publish(config: Config, draft: Issue, *, require_approval: bool = True) -> Issue:
    """Freeze `draft` as the next numbered issue (one more than the last published; a draft
    holding that number moves past every number) and write it; returns it. Publishing a
    published issue changes nothing. `draft` itself is changed: its number, status "published",
    `published_at` (now in feeds.yaml's timezone, ISO 8601 to the second) and every item's
    새 항목 cleared.

    Raises DigestError when the draft is not approved and `require_approval`, or when a later
    date is already published (numbers follow dates); IssueFileError when an issue file
    cannot be parsed or `save` finds the number taken. OSError from the disk passes through."""
    if draft.status == "published":
        return draft
    if require_approval and draft.status != "approved":
        raise DigestError(
            f"the draft for {draft.date.isoformat()} is not approved — review it, then run "
            "`digest review approve` (or `digest publish --force`, or auto_publish: true)"
        )
    all_issues = load_all(config.issues_path)
    later = [i for i in published(all_issues) if i.date > draft.date]
    if later:
        raise DigestError(
            f"제 {later[0].number:04d}호 ({later[0].date}) is already published after this "
            f"draft's date {draft.date} — issues are numbered in date order; publish drafts "
            "oldest first or delete this one"
        )
    number = next_number(all_issues)
    clash = next((i for i in all_issues if i.number == number and i.date != draft.date), None)
    if clash:
        # An unpublished draft holds the number: it moves past every existing number.
        clash.number = draft_number(all_issues)
        save(clash, config.issues_path)
    draft.number = number
    draft.status = "published"
    draft.published_at = clock.now(config.timezone).isoformat(timespec="seconds")
    for item in draft.items:
        item.new = False
    save(draft, config.issues_path)
    return draft
