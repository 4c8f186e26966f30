"""The issue file's format against any value: no fetched or written value can make a line, an
item, a section or a comment end of its own, every value reads back exactly, odd urls round-trip,
a broken item never bricks the issue, and files written by the previous version read the same.
(Issue 14 kind 2, issue 16 class 1; the field case and security case 03 end to end.)"""

from __future__ import annotations

import logging
import shutil
import unicodedata
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from conftest import free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest import issue as issues
from digest.errors import IssueFileError
from digest.issue import Correction, Issue, IssueItem, Section

FIXTURES = Path(__file__).parent / "fixtures" / "issue-files"
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
# Pieces that end lines, constructs, the item mark or its separators, or look like the encoding.
PIECES = [
    *BREAKS, "-->", "<!--", "<!-- item: x | source: y -->", "|", " | ", "[", "]", "](", "(", ")",
    "<", ">", "\\", "&", "#", "&#10;", "&amp;#10;", "&#35;", "&#62;", "&#32;", "&#1114112;", ";",
    "; ", " ", "  ", "\t", "\xa0", "\u3000", "\x00", "\x1b", "## ", "### ", "### [x](y)", "> ",
    "- **[요약]** ", "- **[한마디]**", "---", "`", "*", "a", "가", "https://example.org/a_(b)",
    "item: ", "검토 필요", "미검토", ":",
]  # fmt: skip
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
# Values inside are NFC (the fetch boundary and the desk normalize; the reader does too).
ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).map(
    lambda s: unicodedata.normalize("NFC", s)
)
VALUE = st.one_of(HOSTILE, ANY)
FILLED = VALUE.filter(bool)
LINES = st.lists(VALUE, max_size=3).filter(lambda ls: not ls or (ls[0] != "" and ls[-1] != ""))


@st.composite
def items(draw: st.DrawFn, dropped: bool = False) -> IssueItem:
    reasons = draw(st.lists(FILLED, max_size=3))
    return IssueItem(
        id=draw(VALUE),
        title=draw(VALUE),
        url=draw(VALUE),
        source_id=draw(VALUE),
        key_sentence=draw(VALUE),
        summary=draw(VALUE),
        significance=draw(VALUE),
        glossary_note=draw(VALUE),
        note=draw(VALUE),
        needs_review=draw(st.booleans()) or bool(reasons),  # reasons are written with the flag
        review_reasons=reasons,
        unreviewed=draw(st.booleans()),
        model=draw(VALUE),
        glossary_generated=draw(st.booleans()),
        new=draw(st.booleans()),
        dropped_from=draw(FILLED if dropped else VALUE),
        other_lines=draw(LINES),
    )


@st.composite
def documents(draw: st.DrawFn) -> Issue:
    sections = draw(
        st.lists(
            st.builds(Section, id=FILLED, title=VALUE, items=st.lists(items(), max_size=3)),
            max_size=3,
            unique_by=lambda s: s.id,
        )
    )
    return Issue(
        number=draw(st.integers(0, 123456)),
        date=draw(st.dates()),
        name=draw(FILLED),
        status=draw(st.sampled_from(issues.STATUSES)),
        sections=sections,
        keywords=draw(st.lists(VALUE, max_size=3)),
        published_at=draw(st.one_of(st.none(), FILLED)),
        dropped=draw(st.lists(items(dropped=True), max_size=2)),
        corrections=draw(st.lists(st.builds(Correction, at=VALUE, what=VALUE), max_size=2)),
    )


def skeleton(issue: Issue) -> Issue:
    """`issue` with every non-empty text value made "x": the shape its file must have."""

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return "x" if value else ""
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, (IssueItem, Section, Correction)):
            changes = {f.name: plain(getattr(value, f.name)) for f in fields(value)}
            if isinstance(value, Section):
                changes["id"] = f"s{issue.sections.index(value)}"  # ids stay unique
            return replace(value, **changes)
        return value

    return replace(
        issue,
        name="x",
        sections=plain(issue.sections),
        keywords=plain(issue.keywords),
        published_at=plain(issue.published_at),
        dropped=plain(issue.dropped),
        corrections=plain(issue.corrections),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_no_value_changes_the_shape_and_every_value_reads_back(issue: Issue) -> None:
    text = issues.to_markdown(issue)
    lines = text.splitlines()
    assert text.split("\n")[:-1] == lines  # "\n" is the only line break in the file
    shape = issues.to_markdown(skeleton(issue)).splitlines()
    assert len(lines) == len(shape)
    assert lines.index("---", 1) == shape.index("---", 1)  # the front matter's end
    for start in ("## ", "### ", "<!-- item: ", "<!-- section: "):
        assert [n for n, x in enumerate(lines) if x.startswith(start)] == [
            n for n, x in enumerate(shape) if x.startswith(start)
        ], start
    marks = [line for line in lines if line.startswith(("<!-- item: ", "<!-- section: "))]
    assert all(line.count("-->") == 1 and line.endswith(" -->") for line in marks)
    shape_marks = [line for line in shape if line.startswith(("<!-- item: ", "<!-- section: "))]
    assert [m.count(" | ") for m in marks] == [m.count(" | ") for m in shape_marks]

    parsed = issues.parse(text)
    assert parsed.problems == []
    assert [(s.id, s.title) for s in parsed.sections] == [(s.id, s.title) for s in issue.sections]
    assert [vars(i) for i in parsed.items] == [vars(i) for i in issue.items]
    assert [vars(i) for i in parsed.dropped] == [vars(i) for i in issue.dropped]
    front = ("number", "date", "name", "status", "keywords", "published_at", "corrections")
    assert [getattr(parsed, k) for k in front] == [getattr(issue, k) for k in front]
    assert issues.to_markdown(parsed) == text


@settings(max_examples=200, deadline=None)
@given(items())
def test_one_item_reads_back_on_its_own(item: IssueItem) -> None:
    text = issues.item_markdown(item)
    assert [vars(i) for i in issues.parse_items(text)] == [vars(item)]
    assert sum(line.startswith("### ") for line in text.splitlines()) == 1


@settings(max_examples=200, deadline=None)
@given(title=VALUE, url=VALUE)
def test_a_link_is_one_markdown_link_to_its_url(title: str, url: str) -> None:
    """The `[title](url)` written is the link Markdown itself reads, for urls that are urls."""
    written = issues.link(title, url)
    assert written.splitlines() == [written]
    controls = any(ord(c) < 32 or 127 <= ord(c) < 160 for c in url)
    if not url or controls or "&" in url or url.strip() != url:
        return  # not a url any fetcher lets through; the file still reads it back exactly
    if any(c in title for c in "\\`<"):
        return  # code spans, raw HTML and escapes in link text are Markdown's, not the file's
    tokens = MarkdownIt("commonmark").parseInline(written)[0].children or []
    opens = [t for t in tokens if t.type == "link_open"]
    assert len(opens) == 1
    assert unquote(str(opens[0].attrs["href"])) == unquote(MarkdownIt().normalizeLink(url))


# urls and titles -------------------------------------------------------------------------------
PAREN = "https://en.wikipedia.org/wiki/Transformer_(deep_learning_architecture)"


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("https://arxiv.org/abs/2604.21952", "https://arxiv.org/abs/2604.21952"),
        ("https://x.org/a?b=1&c=[2]#frag", "https://x.org/a?b=1&c=[2]#frag"),
        (PAREN, f"<{PAREN}>"),
        ("https://wiki.example.org/wiki/Transformer model", "<https://wiki.example.org/wiki/Transformer model>"),
        ("https://x.org/a<b>\\c", "<https://x.org/a\\<b\\>\\\\c>"),
        ("https://x.org/a)\n### [Click me](javascript:alert(1))\n<!-- ",
         "<https://x.org/a)&#10;### [Click me](javascript:alert(1))&#10;\\<!-- >"),
    ],
)  # fmt: skip
def test_odd_urls_are_written_so_they_read_back(url: str, written: str) -> None:
    item = IssueItem(id=url, title="T (a) [b]", url=url, source_id="blog")
    text = issues.item_markdown(item)
    assert text.splitlines()[0] == f"### [T (a) \\[b\\]]({written})"
    assert [vars(i) for i in issues.parse_items(text)] == [vars(item)]


def test_a_newline_in_a_permalink_or_an_id_adds_no_item() -> None:
    """Security cases 01 and 02: the payload stays inside its own item's url and id."""
    payload = "x/)\n### [Click me](javascript:alert%28document.domain%29)\n<!-- "
    hostile = IssueItem(
        id=f"reddit:{payload}", title="real post", url=f"https://www.reddit.com/r/ML/{payload}",
        source_id="reddit-ml", summary="진짜 요약",
    )  # fmt: skip
    issue = Issue(1, date(2026, 11, 23), "뉴랄브리핑", sections=[Section("r", "레딧", [hostile])])
    text = issues.to_markdown(issue)
    assert [line for line in text.splitlines() if line.startswith("### ")] == [
        text.splitlines()[text.splitlines().index("<!-- section: r -->") + 2]
    ]
    assert not any(line.startswith("### [Click me]") for line in text.splitlines())
    (parsed,) = issues.parse(text).items
    assert (parsed.id, parsed.url, parsed.title, parsed.summary) == (
        hostile.id, hostile.url, "real post", "진짜 요약",
    )  # fmt: skip


@pytest.mark.parametrize("brk", BREAKS)
def test_every_line_break_is_encoded_in_every_field(brk: str) -> None:
    value = f"a{brk}### [x](javascript:y){brk}<!-- item: evil | source: e -->{brk}b"
    item = IssueItem(
        id=value, title=value, url=value, source_id=value, key_sentence=value, summary=value,
        significance=value, glossary_note=value, note=value, needs_review=True,
        review_reasons=[value, value], model=value, dropped_from=value, other_lines=[value],
    )  # fmt: skip
    issue = Issue(
        1, date(2026, 11, 23), value, sections=[Section(value, value, [item])],
        keywords=[value], corrections=[Correction(value, value)], published_at=value,
    )  # fmt: skip
    text = issues.to_markdown(issue)
    assert text.splitlines() == text.split("\n")[:-1]
    assert len(text.splitlines()) == len(issues.to_markdown(skeleton(issue)).splitlines())
    parsed = issues.parse(text)
    assert [vars(i) for i in parsed.items] == [vars(item)]
    assert (parsed.sections[0].id, parsed.sections[0].title) == (value, value)
    assert (parsed.keywords, parsed.name, parsed.published_at) == ([value], value, value)
    assert parsed.corrections == [Correction(value, value)]


def test_ordinary_values_are_written_as_before() -> None:
    """Only odd values change form: the golden sample and an edited file read and write as they
    are, and a title's `&`, `#` or `|` is not encoded."""
    golden = (Path(__file__).parent / "golden" / "0001.md").read_text(encoding="utf-8")
    assert issues.to_markdown(issues.parse(golden)) == golden
    item = IssueItem(
        id="arxiv:1", title="Q&A #3 | a -> b", url="https://x.org/?a=1&b=2", source_id="arxiv",
        summary="A & B: 1 | 2 -> 3; 4 #5", needs_review=True, review_reasons=["too short"],
        other_lines=["- 토론: [레딧] [A thread](https://www.reddit.com/r/ML/comments/1/) · 점수 5"],
    )  # fmt: skip
    assert issues.item_markdown(item) == (
        "### [Q&A #3 | a -> b](https://x.org/?a=1&b=2)\n"
        "<!-- item: arxiv:1 | source: arxiv | 검토 필요: too short -->\n\n"
        "- **[요약]** A & B: 1 | 2 -> 3; 4 #5\n"
        "- 토론: [레딧] [A thread](https://www.reddit.com/r/ML/comments/1/) · 점수 5\n"
    )


def test_free_lines_that_look_like_structure_stay_free_lines() -> None:
    item = IssueItem(
        id="a", title="t", url="https://x.org/", source_id="s", summary="요약",
        other_lines=["## not a section", "### [not](an item)", "> not the quote",
                     "- **[의의]** not the field", "- **[요약]** a second 요약 stays a line",
                     "", "trailing space "],
    )  # fmt: skip
    text = issues.item_markdown(item)
    assert (
        sum(line.startswith(("## ", "### ", "> ", "- **[의의]**")) for line in text.splitlines())
        == 1
    )
    assert [vars(i) for i in issues.parse_items(text)] == [vars(item)]
    assert "- **[요약]** a second 요약 stays a line" in text.splitlines()  # unchanged: 요약 is set


def test_a_second_field_line_is_kept_not_lost() -> None:
    text = "### [t](u)\n<!-- item: a | source: s -->\n\n- **[요약]** 첫째\n- **[요약]** 둘째\n"
    (item,) = issues.parse_items(text)
    assert item.summary == "첫째" and item.other_lines == ["- **[요약]** 둘째"]
    assert issues.item_markdown(item) == text


# reading what earlier versions and editors wrote -----------------------------------------------
def test_a_file_with_a_raw_paren_url_from_the_older_writer_reads_and_heals() -> None:
    """The field case's file, as the previous version wrote it, is no longer refused."""
    text = (FIXTURES / "written-by-0.x-paren-url.md").read_text(encoding="utf-8")
    issue = issues.parse(text, Path("issues/0001.md"))
    assert issue.problems == []
    assert [i.url for i in issue.items] == [
        "https://wiki.example.org/wiki/Transformer_(machine_learning)",
        "https://wiki.example.org/wiki/Transformer model",
        "https://wiki.example.org/wiki/Diffusion_model",
    ]
    assert issue.items[0].title == "Transformer (machine learning): new section on sparse attention"
    healed = issues.to_markdown(issue)
    assert "(<https://wiki.example.org/wiki/Transformer_(machine_learning)>)" in healed
    assert [vars(i) for i in issues.parse(healed).items] == [vars(i) for i in issue.items]


def _old_mark_text(text: str) -> str:
    return " ".join(text.split()).replace(" | ", " / ").replace("-->", "->").replace(";", ",")


def _old_item_lines(item: IssueItem) -> list[str]:
    """The previous version's writer (SCHEMA 2), for the values it could write and read back."""

    def one(text: str) -> str:
        return " ".join(text.split())

    mark = [f"item: {item.id}", f"source: {item.source_id}"]
    if item.model:
        mark.append(f"model: {item.model}")
    if item.needs_review:
        reasons = "; ".join(_old_mark_text(r) for r in item.review_reasons)
        mark.append(f"검토 필요: {reasons}" if reasons else "검토 필요")
    if item.unreviewed:
        mark.append("미검토")
    title = item.title.replace("[", "\\[").replace("]", "\\]")
    lines = [f"### [{title}]({item.url})", f"<!-- {' | '.join(mark)} -->", ""]
    if item.key_sentence:
        lines += [f"> {one(item.key_sentence)}", ""]
    fields_ = [f"- **[{label}]** {one(getattr(item, name))}"
               for name, label in issues.FIELD_LABELS.items() if getattr(item, name)]  # fmt: skip
    lines += fields_ + item.other_lines
    return [*lines, ""] if fields_ or item.other_lines else lines


OLD_TEXT = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30)
    .map(lambda s: " ".join(unicodedata.normalize("NFC", s).split()))
    .filter(bool)
)


@settings(max_examples=200, deadline=None)
@given(
    title=OLD_TEXT,
    url=st.from_regex(r"https://example\.org/[a-z0-9&=?;#%._~:@!$',*+-]{0,30}", fullmatch=True),
    ident=st.one_of(st.from_regex(r"(arxiv|reddit):[a-z0-9.]{1,10}", fullmatch=True)),
    text=OLD_TEXT,
    reasons=st.lists(OLD_TEXT, max_size=2),
    other=st.lists(OLD_TEXT.map(lambda t: "- " + t), max_size=2),
)
def test_files_the_previous_version_wrote_read_the_same(
    title: str, url: str, ident: str, text: str, reasons: list[str], other: list[str]
) -> None:
    item = IssueItem(
        id=ident, title=title, url=url, source_id="blog", key_sentence=text, summary=text,
        note=text, needs_review=bool(reasons), review_reasons=reasons, model="extractive",
        unreviewed=True, other_lines=other,
    )  # fmt: skip
    (read,) = issues.parse_items("\n".join(_old_item_lines(item)) + "\n")
    expected = replace(item, review_reasons=[_old_mark_text(r) for r in reasons])
    if "&#" in title + text + "".join(reasons + other):
        return  # a literal reference the new reader decodes: the one difference, by design
    assert vars(read) == vars(expected)


def test_line_endings_bom_and_empty_front_matter() -> None:
    text = (Path(__file__).parent / "golden" / "0001.md").read_text(encoding="utf-8")
    lf = issues.parse(text)
    for variant in (text.replace("\n", "\r\n"), text.replace("\n", "\r"), "\ufeff" + text):
        other = issues.parse(variant)
        assert issues.to_markdown(other) == text and other.problems == []
        assert [vars(i) for i in other.items] == [vars(i) for i in lf.items]
    with pytest.raises(IssueFileError, match="needs number"):
        issues.parse("---\r\n---\r\n")
    closed_at_end = issues.parse("---\nnumber: 3\ndate: 2026-01-01\n---")
    assert closed_at_end.number == 3


def test_a_broken_item_is_left_out_and_kept_where_it_stood(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (Path(__file__).parent / "golden" / "0001.md").read_text(encoding="utf-8")
    broken = "### [Robots that learn household tasks from a single video](https://research"
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("### [Robots"))
    edited = "\n".join([*lines[:at], broken, *lines[at + 1 :]]) + "\n"
    folder = tmp_path / "issues"
    folder.mkdir()
    (folder / "0001.md").write_text(edited, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        (issue,) = issues.load_all(folder)
    assert issue.problems == [
        f"{folder / '0001.md'}:{at + 1}: an item heading must read '### [title](url)' — fix the "
        "heading (left out of the issue until then; its lines are kept)"
    ]
    assert issue.problems[0] in caplog.text
    assert len(issue.items) == len(issues.parse(text).items) - 1  # the rest is usable
    assert "Robots" not in " ".join(i.title for i in issue.items)
    issue.items[0].note = "편집자의 한마디"
    issues.save(issue, folder)
    rewritten = (folder / "0001.md").read_text(encoding="utf-8")
    assert rewritten.replace("- **[한마디]** 편집자의 한마디\n", "") == edited  # nothing lost
    assert issues.load(folder / "0001.md").problems == [  # one line further down now
        issue.problems[0].replace(f":{at + 1}:", f":{at + 2}:")
    ]


def test_kept_lines_survive_when_their_item_or_section_goes() -> None:
    text = (
        "---\nnumber: 1\ndate: 2026-01-01\n---\n# title\n\nintro text\n\n"
        "## A\n<!-- section: a -->\n\nsection intro\n\n"
        "### [one](https://x.org/1)\n<!-- item: 1 | source: s -->\n\n"
        "### broken two\n- **[요약]** its text\n\n"
        "## 뺀 항목\n<!-- dropped -->\n\n### [dropped](https://x.org/d)\n"
        "<!-- item: d | source: s | section: a -->\n\n### broken three\n"
    )
    issue = issues.parse(text)
    assert [(b.section, b.after, b.lines) for b in issue.unreadable] == [
        ("", "", ["intro text"]),
        ("a", "", ["section intro"]),
        ("a", "1", ["### broken two", "- **[요약]** its text"]),
        ("dropped", "d", ["### broken three"]),
    ]
    written = issues.to_markdown(issue)
    assert issues.to_markdown(issues.parse(written)) == written
    issue.sections[0].items.clear()
    issue.dropped.clear()
    moved = issues.to_markdown(issue)
    for block in issue.unreadable:
        assert "\n".join(block.lines) in moved
    kept = sorted(line for b in issue.unreadable for line in b.lines)
    assert _kept_lines(issues.parse(moved)) == kept
    issue.sections.clear()  # blocks of a section that is gone go before the first section
    assert _kept_lines(issues.parse(issues.to_markdown(issue))) == kept


def _kept_lines(issue: Issue) -> list[str]:
    return sorted(line for block in issue.unreadable for line in block.lines if line)


# the issues folder ---------------------------------------------------------------------------
def test_issue_10000_and_beyond_are_loaded_in_order(tmp_path: Path) -> None:
    for number in (9999, 10000, 123456):
        issues.save(Issue(number, date(2026, 1, 1), "뉴랄브리핑", status="published"), tmp_path)
    (tmp_path / "0001.edited.md").write_text("not an issue", encoding="utf-8")
    (tmp_path / "123.md").write_text("not an issue", encoding="utf-8")
    assert [p.name for p in issues.issue_files(tmp_path)] == ["9999.md", "10000.md", "123456.md"]
    assert [i.number for i in issues.load_all(tmp_path)] == [9999, 10000, 123456]
    assert issues.next_number(issues.load_all(tmp_path)) == 123457
    assert issues.issue_files(tmp_path / "missing") == []


def test_a_failed_publish_leaves_the_draft_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.config import Config

    config = Config.model_validate(
        {
            "sections": [{"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}],
            "base_dir": tmp_path,
        }
    )  # fmt: skip
    item = IssueItem(id="a", title="t", url="https://x.org/", source_id="s", new=True)
    draft = Issue(
        5, date(2026, 1, 1), "뉴랄브리핑", status="approved", sections=[Section("a", "A", [item])]
    )
    issues.save(draft, config.issues_path)
    before = issues.to_markdown(draft)

    def full_disk(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(issues, "atomic_write", full_disk)
    with pytest.raises(OSError):
        issues.publish(config, draft)
    assert issues.to_markdown(draft) == before and draft.path == config.issues_path / "0005.md"
    assert draft.published_at is None and draft.items[0].new
    monkeypatch.undo()
    published = issues.publish(config, draft)
    assert published is draft and (draft.number, draft.status) == (1, "published")
    assert draft.path == config.issues_path / "0001.md" and not draft.items[0].new
    assert issues.load(draft.path).status == "published"


# end to end: field case 03 and security case 03 -------------------------------------------------
def _newsletter(tmp_path: Path, *, auto_publish: bool) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    shutil.copy(FIXTURES / "url-parentheses.xml", folder / "feed.xml")
    settings_ = {
        "title": "뉴랄브리핑",
        "timezone": "Asia/Seoul",
        "summarizer": {"backend": "extractive"},
        "select": {"window_days": 3},
        "sections": [{"id": "blogs", "title": "블로그", "max_items": 5,
                      "sources": [{"id": "blog", "type": "rss", "url": "feed.xml"}]}],
        "site": {"url": "https://news.example.org/", "output": "site"},
        "email": {"from": "newsletter@example.org", "subscribers": "subscribers.csv"},
        "auto_publish": auto_publish,
    }  # fmt: skip
    (folder / "feeds.yaml").write_text(yaml.safe_dump(settings_, allow_unicode=True), "utf-8")
    (folder / "subscribers.csv").write_text("email\na@example.org\n", encoding="utf-8")
    return folder / "feeds.yaml"


def test_a_paren_url_from_a_feed_never_bricks_the_newsletter(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _newsletter(tmp_path, auto_publish=True)
    monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
    day1 = run_cli("--config", str(config), "daily", "--no-send")
    assert day1.code == 0, day1.err
    issue = issues.load(config.parent / "issues" / "0001.md")
    assert issue.status == "published" and issue.problems == []
    urls = [i.url for i in issue.items]
    assert "https://wiki.example.org/wiki/Transformer_(machine_learning)" in urls
    page = (config.parent / "site/issues/0001/index.html").read_text(encoding="utf-8")
    assert "Transformer_(machine_learning)" in page
    assert run_cli("--config", str(config), "build").code == 0
    feed = (config.parent / "feed.xml").read_text(encoding="utf-8")
    (config.parent / "feed.xml").write_text(
        feed.replace("29 Apr 2026 09", "30 Apr 2026 20").replace(
            "Transformer_(machine_learning)", "Attention_(machine_learning)"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DIGEST_NOW", "2026-05-01T07:00:00+09:00")
    day2 = run_cli("--config", str(config), "daily", "--no-send")
    assert day2.code == 0, day2.err
    assert [i.status for i in issues.load_all(config.parent / "issues")] == ["published"] * 2


def test_review_add_of_a_paren_or_space_url_keeps_the_draft_readable(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _newsletter(tmp_path, auto_publish=False)
    monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
    assert run_cli("--config", str(config), "daily", "--no-send").code == 0
    port = free_port()  # nothing listens: the page cannot be read, the editor's title is used
    paren = f"http://127.0.0.1:{port}/wiki/Q-learning_(algorithm)"
    added = run_cli("--config", str(config), "review", "add", paren, "--title", "Q-learning")
    assert added.code == 0, added.err
    space = f"http://127.0.0.1:{port}/wiki/Q learning"
    added = run_cli("--config", str(config), "review", "add", space, "--title", "Q learning")
    assert added.code in (0, 2), added.err  # added, or refused at the boundary: never bricks
    listed = run_cli("--config", str(config), "review", "list")
    assert listed.code == 0, listed.err
    draft = issues.load(config.parent / "issues" / "0001.md")
    assert draft.problems == []
    assert paren in {i.url for i in draft.items}
    assert run_cli("--config", str(config), "build", "--drafts").code == 0
