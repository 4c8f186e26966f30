"""The issue file: title line, numbering, and parse ⇄ write round-trip."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import issue as issues
from digest.errors import IssueFileError
from digest.issue import Issue, IssueItem, Section

EDITED = """---
number: 7
date: 2026-11-23
status: draft
title: 뉴랄브리핑
keywords:
- AutoML
---
# 제 0007호 뉴랄브리핑 (2026년 11월 23일 월요일)

## 구글 블로그
<!-- section: google -->

### [EfficientNet: Improving Accuracy \\[and\\] Efficiency](https://ai.googleblog.com/2019/05/efficientnet.html)
<!-- item: https://ai.googleblog.com/2019/05/efficientnet.html | source: google-research | model: extractive | 검토 필요 -->

> What if, instead, we could find a more **principled method to scale up a CNN**?

- **[요약]** 모델을 키우는 세 가지 방향을 한꺼번에 조절함.
- **[토막상식]** 뉴럴넷 스케일링이란 너비, 깊이, 해상도를 키우는 것임.
- **[한마디]** 애네 블로그는 매번 자기네 제품 자랑만 하는듯
- [요즘에는 무얼 하는데]=>[그게 뭐가 문제인데]=>[그래서 좋은걸 보여드립니다]
  이어지는 줄도 그대로 둠

## 레딧
<!-- section: reddit -->

### [IEEE가 화웨이 리뷰어를 내쫓음](https://www.reddit.com/r/MachineLearning/comments/abc/)
<!-- item: reddit:abc | source: reddit-ml -->
"""


def test_title_line_as_the_reference_writes_it() -> None:
    assert issues.issue_title(1, date(2026, 11, 23), "뉴랄브리핑") == (
        "제 0001호 뉴랄브리핑 (2026년 11월 23일 월요일)"
    )
    assert issues.issue_title(42, date(2019, 5, 30), "뉴랄브리핑") == (
        "제 0042호 뉴랄브리핑 (2019년 5월 30일 목요일)"
    )


def test_an_edited_file_round_trips_exactly() -> None:
    parsed = issues.parse(EDITED)
    assert issues.to_markdown(parsed) == EDITED
    item = parsed.items[0]
    assert item.id == "https://ai.googleblog.com/2019/05/efficientnet.html"
    assert item.title == "EfficientNet: Improving Accuracy [and] Efficiency"
    assert item.needs_review and item.model == "extractive"
    assert item.note == "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
    assert item.other_lines[1] == "  이어지는 줄도 그대로 둠"
    assert parsed.keywords == ["AutoML"]
    assert parsed.items[1].id == "reddit:abc" and parsed.items[1].summary == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", ":1: no front matter"),
        ("---\nnumber: 1\n", "front matter is not closed"),
        ("---\n---\n", "needs number:"),
        ("---\ndate: 2026-01-01\n---\n", "needs number:"),
        ("---\n- a list\n---\n", "key: value"),
        ("---\nnumber: 1\ndate: 2026-01-01\nstatus: sent\n---\n", "use one of draft"),
    ],
)
def test_broken_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(IssueFileError, match=message.replace("[", r"\[")):
        issues.parse(text, Path("issues/0001.md"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nnumber: 1\ndate: 2026-01-01\n---\n### [a](b)\n", ":5: an item before any"),
        ("---\nnumber: 1\ndate: 2026-01-01\n---\n## S\n### a title\n", ":6: an item heading"),
        ("---\nnumber: 1\ndate: 2026-01-01\n---\n## S\nstray text\n", ":6: text outside an item"),
    ],
)
def test_a_broken_item_is_left_out_with_its_line_or_refused_when_strict(
    text: str, message: str
) -> None:
    issue = issues.parse(text, Path("issues/0001.md"))
    assert issue.items == [] and len(issue.problems) == 1
    assert issue.problems[0].startswith("issues/0001.md") and message in issue.problems[0]
    written = issues.to_markdown(issue)
    assert written.endswith("\n" + text.splitlines()[-1] + "\n")  # kept verbatim, in place
    assert issues.to_markdown(issues.parse(written)) == written
    with pytest.raises(IssueFileError, match=message.replace("[", r"\[")):
        issues.parse(text, Path("issues/0001.md"), strict=True)


def test_numbering_follows_published_issues(tmp_path: Path) -> None:
    one = Issue(1, date(2026, 11, 1), "뉴랄브리핑", status="published")
    draft = Issue(2, date(2026, 11, 2), "뉴랄브리핑")
    assert issues.next_number([one, draft]) == 2
    assert issues.draft_number([one, draft]) == 3
    issues.save(one, tmp_path)
    issues.save(draft, tmp_path)
    assert [i.number for i in issues.load_all(tmp_path)] == [1, 2]
    assert issues.for_date(issues.load_all(tmp_path), date(2026, 11, 2)) is not None


_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    # Values inside are NFC (the fetch boundary and the desk normalize; the reader does too).
    .map(lambda s: " ".join(unicodedata.normalize("NFC", s).split()))
    .filter(bool)
)
_items = st.builds(
    IssueItem,
    id=st.from_regex(r"https://example\.org/[a-z0-9]{1,12}", fullmatch=True),
    title=_text.filter(lambda t: not t.endswith("\\")),
    url=st.from_regex(r"https://example\.org/[a-z0-9]{1,12}", fullmatch=True),
    source_id=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    key_sentence=st.one_of(st.just(""), _text),
    summary=st.one_of(st.just(""), _text),
    significance=st.one_of(st.just(""), _text),
    glossary_note=st.one_of(st.just(""), _text),
    note=st.one_of(st.just(""), _text),
    needs_review=st.booleans(),
    model=st.sampled_from(["", "extractive"]),
    glossary_generated=st.booleans(),
    new=st.booleans(),
    other_lines=st.lists(_text.map(lambda t: "- " + t), max_size=2),
)
_dropped = st.builds(
    IssueItem,
    id=st.from_regex(r"https://example\.org/d/[a-z0-9]{1,12}", fullmatch=True),
    title=_text.filter(lambda t: not t.endswith("\\")),
    url=st.from_regex(r"https://example\.org/d/[a-z0-9]{1,12}", fullmatch=True),
    source_id=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    summary=st.one_of(st.just(""), _text),
    note=st.one_of(st.just(""), _text),
    dropped_from=st.sampled_from(["arxiv", "google"]),
)
_corrections = st.lists(
    st.builds(issues.Correction, at=st.just("2026-11-24T09:00:00+09:00"), what=_text),
    max_size=2,
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(_items, min_size=1, max_size=4),
    dropped=st.lists(_dropped, max_size=2),
    keywords=st.lists(_text, max_size=3),
    corrections=_corrections,
    number=st.integers(1, 9999),
)
def test_write_then_parse_gives_back_the_issue(
    items: list[IssueItem],
    dropped: list[IssueItem],
    keywords: list[str],
    corrections: list[issues.Correction],
    number: int,
) -> None:
    original = Issue(
        number,
        date(2026, 11, 23),
        "뉴랄브리핑",
        sections=[Section("arxiv", "arXiv", items)],
        dropped=dropped,
        keywords=keywords,
        corrections=corrections,
    )
    text = issues.to_markdown(original)
    parsed = issues.parse(text)
    assert [vars(i) for i in parsed.items] == [vars(i) for i in original.items]
    assert [vars(i) for i in parsed.dropped] == [vars(i) for i in original.dropped]
    assert (parsed.keywords, parsed.corrections) == (keywords, corrections)
    assert issues.to_markdown(parsed) == text


def test_dropped_items_live_under_their_own_heading() -> None:
    text = EDITED + (
        "\n## 뺀 항목\n<!-- dropped -->\n\n"
        "### [Dropped](https://example.org/d)\n"
        "<!-- item: https://example.org/d | source: aws-ml | section: aws | 새 항목 -->\n\n"
        "- **[한마디]** 이건 뺌\n"
    )
    parsed = issues.parse(text)
    assert [s.id for s in parsed.sections] == ["google", "reddit"]
    assert parsed.dropped[0].dropped_from == "aws" and parsed.dropped[0].new
    assert parsed.dropped[0].note == "이건 뺌"
    assert "https://example.org/d" in parsed.claimed_ids - parsed.item_ids
    assert issues.to_markdown(parsed) == text


def test_one_item_parses_on_its_own() -> None:
    item = issues.parse_items(issues.item_markdown(issues.parse(EDITED).items[0]))
    assert [vars(i) for i in item] == [vars(issues.parse(EDITED).items[0])]
    with pytest.raises(IssueFileError, match="heading inside an item"):
        issues.parse_items("## 섹션\n### [a](https://example.org/a)\n")


def test_two_issues_never_claim_one_number(tmp_path: Path) -> None:
    first = Issue(3, date(2026, 11, 1), "뉴랄브리핑")
    issues.save(first, tmp_path)
    second = Issue(3, date(2026, 11, 2), "뉴랄브리핑")
    with pytest.raises(IssueFileError, match="already holds another issue"):
        issues.save(second, tmp_path)
    assert issues.load(tmp_path / "0003.md").date == date(2026, 11, 1)


def test_a_draft_shows_the_number_it_will_get() -> None:
    one = Issue(1, date(2026, 11, 1), "뉴랄브리핑", status="published")
    later = Issue(5, date(2026, 11, 3), "뉴랄브리핑")
    sooner = Issue(4, date(2026, 11, 2), "뉴랄브리핑", status="approved")
    everything = [one, sooner, later]
    assert issues.expected_number(everything, sooner) == 2
    assert issues.expected_number(everything, later) == 3
    assert issues.expected_number(everything, one) == 1


def test_a_change_of_the_issue_fields_bumps_the_schema() -> None:
    """Parsed issues are cached under `issue.SCHEMA` (site/cache.py): a new field with an old
    schema number would hand a build half-trusted old objects."""
    from dataclasses import fields

    from digest import issue as issues

    shape = {
        cls.__name__: tuple(f.name for f in fields(cls))
        for cls in (
            issues.Issue, issues.IssueItem, issues.Section, issues.Correction, issues.Unreadable
        )
    }  # fmt: skip
    assert (issues.SCHEMA, shape) == (
        4,
        {
            "Issue": ("number", "date", "name", "status", "sections", "keywords",
                      "published_at", "dropped", "corrections", "unreadable", "path"),
            "IssueItem": ("id", "title", "url", "source_id", "ref", "key_sentence", "summary",
                          "significance", "glossary_note", "note", "needs_review",
                          "review_reasons", "unreviewed", "model", "glossary_generated", "new",
                          "dropped_from", "other_lines"),
            "Section": ("id", "title", "items"),
            "Correction": ("at", "what"),
            "Unreadable": ("section", "after", "lines", "problem"),
        },
    ), "the issue model changed: bump issue.SCHEMA and update this test"  # fmt: skip
