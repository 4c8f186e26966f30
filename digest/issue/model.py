"""The issue document: `Issue`, its `Section`s and `IssueItem`s, and the labels and flags its
Markdown file uses (see `digest.issue` for the file format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest.models import Brief, Item

# The issue document's schema: bump it when a field of Issue/IssueItem/Section/Correction/Unreadable
# or a parse rule changes, so caches of parsed issues (site/cache.py) are rebuilt. test_issue.py
# fails with a reminder when the fields change and this does not.
SCHEMA = 4
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


def comment_line(text: str) -> str:
    """`text` as a comment line of an item: kept in the file, shown to no reader."""
    return f"<!-- {one_line(text).replace('-->', '->')} -->"


def is_comment(line: str) -> bool:
    """Whether `line` is a whole-line HTML comment (`<!-- … -->`)."""
    stripped = line.strip()
    return stripped.startswith("<!--") and stripped.endswith("-->")


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks included) made one space, stripped."""
    return " ".join(text.split())


def issue_title(number: int, day: date, name: str) -> str:
    """The title line exactly as the reference writes it."""
    weekday = WEEKDAYS_KO[day.weekday()]
    return f"제 {number:04d}호 {name} ({day.year}년 {day.month}월 {day.day}일 {weekday})"


@dataclass
class IssueItem:
    """One item as the issue file holds it: id, title and url (the `###` heading), source,
    the brief (key sentence, 요약, 의의, 토막상식), the editor's 한마디, the flags of its
    item mark (its stable `ref`, 검토 필요 with reasons, 미검토, 생성 토막상식, 새 항목), the
    model that wrote it, and any other lines the editor wrote, kept verbatim."""

    id: str
    title: str
    url: str
    source_id: str = ""
    # The editor's stable reference for the life of the draft (`g1`, `ar3`): its section's
    # prefix and a number, given once (desk/refs.py) and kept through moves and drops.
    ref: str = ""
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

    @property
    def shown_lines(self) -> list[str]:
        """The editor's free lines that readers see: not blank, not an HTML comment line (a
        note kept in the file only, e.g. what `regen --force` replaced)."""
        return [line for line in self.other_lines if line.strip() and not is_comment(line)]

    @classmethod
    def from_brief(cls, item: Item, brief: Brief) -> IssueItem:
        """A new entry for `item` written with `brief`: 미검토 when a model wrote it. The brief's
        text is prose: its whitespace (a model's line breaks included) is collapsed to single
        spaces, so the file shows one readable line per field."""
        return cls(
            id=item.id,
            title=item.title,
            url=item.url,
            source_id=item.source_id,
            key_sentence=one_line(brief.key_sentence),
            summary=one_line(brief.summary),
            significance=one_line(brief.significance),
            glossary_note=one_line(brief.glossary_note),
            needs_review=brief.needs_review,
            review_reasons=[one_line(reason) for reason in brief.review_reasons],
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
class Unreadable:
    """Lines of an issue file the reader could not take as part of the issue (an item heading
    that is not `### [title](url)`, text outside an item): left out of the issue, and written
    back verbatim where they stood, so that an editor's text is never lost. `section` is the id
    of the section they stood in ("" before any section, "dropped" under 뺀 항목), `after` the
    id of the item they followed ("" at the top of the section), `problem` the reader's warning
    (`issues/0042.md:17: …`)."""

    section: str
    after: str
    lines: list[str]
    problem: str


@dataclass
class Issue:
    """One issue file: number, date (in feeds.yaml's timezone), the newsletter's name,
    status (draft, approved, published), sections, 키워드, publication time (ISO 8601 with
    offset), the dropped items (뺀 항목), corrections of a published issue, the lines the reader
    could not take (kept for the next write), and the file it was read from or written to (None
    for a new issue)."""

    number: int
    date: date
    name: str  # the newsletter's name from feeds.yaml, e.g. 뉴랄브리핑
    status: str = "draft"
    sections: list[Section] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    published_at: str | None = None
    dropped: list[IssueItem] = field(default_factory=list)  # the editor's drops, kept whole
    corrections: list[Correction] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)  # left out, kept verbatim
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
    def problems(self) -> list[str]:
        """The reader's warnings (`file:line: …`) for the lines it left out of this issue."""
        return [block.problem for block in self.unreadable]

    @property
    def claimed_ids(self) -> set[str]:
        """Ids this issue has decided on: its items and the ones its editor dropped."""
        return self.item_ids | {item.id for item in self.dropped}

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)
