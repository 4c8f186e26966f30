"""The editor's desk from the command line: every review command, its errors, and a full session
from a drafted day to a published page."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from conftest import Newsroom

from digest import issue as issues
from digest.models import Brief

DAY = "2026-04-30"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>ignored when og:title is there</title>
<meta property="og:title" content="한국어 블로그: 트랜스포머를 처음부터 만들어 보기">
<meta name="description" content="We present a walk-through that builds a transformer from scratch
in plain Python. It explains attention with drawings and small examples that anyone can run.">
</head><body><p>본문</p></body></html>"""


def draft_file(desk) -> Path:
    return desk.room.issue(1)


def listed(desk, *extra: str) -> dict:
    result = desk("review", "list", "--json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_list_numbers_items_with_references_on_stdout(desk) -> None:
    human = desk("review")
    assert human.code == 0 and human.err == ""  # a listing is output: `review | less` works
    assert "제 0001호 뉴랄브리핑 (2026년 4월 30일 목요일) — draft" in human.out
    first = human.out.splitlines()[3]  # title line, blank, section heading, then the rows
    assert first.split()[:2] == ["1.", "g1"] and "[검토 필요]" in human.out
    data = listed(desk)
    assert [row["n"] for row in data["items"]] == list(range(1, len(data["items"]) + 1))
    refs = [row["ref"] for row in data["items"]]
    assert refs[0] == "g1" and len(set(refs)) == len(refs)
    assert {r.rstrip("0123456789") for r in refs} >= {"g", "aw", "m", "ar", "re"}
    assert data["status"] == "draft" and data["dropped"] == []
    assert {"검토 필요"} <= {flag for row in data["items"] for flag in row["flags"]}
    with_date = desk("review", "list", "--json", "--date", DAY)
    assert json.loads(with_date.out)["items"] == data["items"]
    # A 토막상식 the model proposed carries a flag in the item mark, set by hand here.
    text = (
        draft_file(desk)
        .read_text()
        .replace(" | model: extractive", " | model: extractive | 생성 토막상식", 1)
    )
    draft_file(desk).write_text(text)
    assert "generated 토막상식" in listed(desk)["items"][0]["flags"]


def test_a_bare_number_is_refused_once_the_list_changed(desk) -> None:
    """`drop 10` renumbers: `keep 11` must not silently hit another item."""
    rows = listed(desk)["items"]
    assert desk("review", "drop", "2").code == 0  # as listed
    stale = desk("review", "note", "3", "어느 항목?")
    assert stale.code == 2 and "the list changed" in stale.err and "`" + rows[3]["ref"] in stale.err
    by_ref = desk("review", "note", rows[2]["ref"], "이 항목")
    assert by_ref.code == 0  # a reference is always safe
    assert issues.load(draft_file(desk)).items[1].note == "이 항목"
    listed(desk)  # seen again: numbers mean what the list now shows
    assert desk("review", "note", "2", "다시 봄", "--replace").code == 0


def test_references_survive_drops_moves_and_redrafts(desk) -> None:
    before = {row["id"]: row["ref"] for row in listed(desk)["items"]}
    desk("review", "drop", "g2")
    desk("review", "move", "g3", "--to", "1")
    desk("daily", "--date", DAY, "--no-send", "--no-publish")
    after = listed(desk)
    now = {row["id"]: row["ref"] for row in [*after["items"], *after["dropped"]]}
    assert {k: now[k] for k in before} == before


def test_show_prints_the_item_as_it_will_read(desk) -> None:
    first = issues.load(draft_file(desk)).items[0]
    shown = desk("review", "show", "g1")
    assert shown.code == 0 and shown.err == ""
    assert first.title in shown.out and f"[요약] {first.summary}" in shown.out
    data = json.loads(desk("review", "show", "1", "--json").out)
    assert data["summary"] == first.summary and data["key_sentence"] == first.key_sentence
    assert data["n"] == 1 and data["section"] == "google"


def test_not_reviewed_yet_is_its_own_flag_until_shown_edited_or_approved(desk) -> None:
    rows = listed(desk)["items"]
    assert all("미검토" in row["flags"] and row["unreviewed"] for row in rows)
    assert desk("review", "show", "1", "--json").code == 0  # a script's read is not a review
    assert listed(desk)["items"][0]["unreviewed"]
    assert desk("review", "show", "1").code == 0  # the editor read it
    rows = listed(desk)["items"]
    assert "미검토" not in rows[0]["flags"] and "미검토" in rows[1]["flags"]
    assert "[미검토]" in desk("review").out
    assert desk("review", "approve", "--yes").code == 0
    assert not any(row["unreviewed"] for row in listed(desk)["items"])


def test_show_names_why_a_brief_needs_review(desk) -> None:
    text = draft_file(desk).read_text()
    text = text.replace(
        " | model: extractive",
        " | model: extractive | 검토 필요: 요약 uses 'wave', which is not in the title or source",
        1,
    )
    draft_file(desk).write_text(text)
    shown = desk("review", "show", "1")
    assert "검토 필요: 요약 uses 'wave', which is not in the title or source" in shown.out
    data = json.loads(desk("review", "show", "1", "--json").out)
    assert data["needs_review"] and data["review_reasons"] == [
        "요약 uses 'wave', which is not in the title or source"
    ]


def test_accept_vouches_for_a_model_written_note(desk) -> None:
    text = draft_file(desk).read_text()
    draft_file(desk).write_text(
        text.replace(" | model: extractive", " | model: extractive | 생성 토막상식", 1)
    )
    item = issues.load(draft_file(desk)).items[0]
    assert item.glossary_generated and item.glossary_note
    accepted = desk("review", "accept", "1")
    assert accepted.code == 0 and "accepted the 토막상식" in accepted.err
    assert not issues.load(draft_file(desk)).items[0].glossary_generated
    again = desk("review", "accept", "1")
    assert again.code == 2 and "no model-written 토막상식" in again.err


def test_drop_remembers_the_item_and_keep_brings_it_back(desk) -> None:
    before = issues.load(draft_file(desk))
    gone = before.items[1]
    assert desk("review", "drop", "2").code == 0
    after = issues.load(draft_file(desk))
    assert gone.id not in after.item_ids
    assert [d.id for d in after.dropped] == [gone.id] and after.dropped[0].dropped_from == "google"
    assert "## 뺀 항목\n<!-- dropped -->" in draft_file(desk).read_text()
    # A re-draft does not propose it again (the feeds still carry it).
    desk("daily", "--date", DAY, "--no-send", "--no-publish")
    assert gone.id not in issues.load(draft_file(desk)).item_ids
    data = listed(desk)
    dropped_n = data["dropped"][0]["n"]
    assert dropped_n == len(data["items"]) + 1
    assert data["dropped"][0]["ref"] == gone.ref  # a dropped item keeps its reference
    assert desk("review", "keep", str(dropped_n)).code == 0
    back = issues.load(draft_file(desk))
    google = back.section("google")
    assert google is not None and google.items[-1].id == gone.id
    assert google.items[-1].summary == gone.summary and not back.dropped


def test_keep_a_reserve_summarizes_it_into_its_section(desk) -> None:
    data = listed(desk, "--reserves")
    assert data["reserves"] and data["reserves"][0]["r"] == "R1"
    scores = [r["score"] for r in data["reserves"]]
    assert scores == sorted(scores, reverse=True)
    first = data["reserves"][0]
    kept = desk("review", "keep", "R1")
    assert kept.code == 0, kept.err
    draft = issues.load(draft_file(desk))
    section = draft.section(first["section"])
    assert section is not None and section.items[-1].id == first["id"]
    assert section.items[-1].model == "extractive"
    assert first["id"] not in {r["id"] for r in listed(desk, "--reserves")["reserves"]}


def test_move_within_and_across_sections_by_position_within_the_section(desk) -> None:
    rows = listed(desk)["items"]
    titles = [row["title"] for row in rows]
    assert desk("review", "move", "g3", "--to", "1").code == 0
    assert [row["title"] for row in listed(desk)["items"]][:3] == [titles[2], titles[0], titles[1]]
    aws = next(row for row in rows if row["section"] == "aws")
    across = desk("review", "move", aws["ref"], "--section", "google")
    assert across.code == 0, across.err
    assert "구글 블로그, position 4 (from AWS 머신러닝 블로그)" in across.err
    google = [row for row in listed(desk)["items"] if row["section"] == "google"]
    assert google[-1]["ref"] == aws["ref"]  # --section alone: the end of that section
    second = desk("review", "move", aws["ref"], "--section", "google", "--to", "2")
    assert second.code == 0 and [r for r in listed(desk)["items"]][1]["ref"] == aws["ref"]
    outside = desk("review", "move", "g1", "--to", "9")
    assert outside.code == 2 and "has positions 1–4" in outside.err
    nowhere = desk("review", "move", "g1")
    assert nowhere.code == 2 and "say where" in nowhere.err


def test_a_second_note_is_added_and_replace_says_what_it_replaced(desk) -> None:
    assert desk("review", "note", "g1", "애네 블로그는  매번 자기네 제품 자랑만 하는듯").code == 0
    text = draft_file(desk).read_text()
    assert "- **[한마디]** 애네 블로그는 매번 자기네 제품 자랑만 하는듯" in text
    assert "한마디" in listed(desk)["items"][0]["flags"]
    assert desk("review", "note", "g1", "두 번째 코멘트").code == 0  # added, nothing lost
    item = issues.load(draft_file(desk)).items[0]
    assert item.note.startswith("애네 블로그는") and item.other_lines == ["- 두 번째 코멘트"]
    replaced = desk("review", "note", "g1", "고쳐 쓴 한마디", "--replace")
    assert "replaced the 한마디 of g1: 애네 블로그는" in replaced.err
    assert issues.load(draft_file(desk)).items[0].note == "고쳐 쓴 한마디"
    assert desk("review", "note", "g1", "", "--replace").code == 0
    assert "[한마디]" not in draft_file(desk).read_text()


def test_korean_typed_as_nfd_is_kept_as_nfc(desk) -> None:
    """macOS writes decomposed Hangul (NFD); inside, everything is NFC (field case 07's kind)."""
    nfd = unicodedata.normalize("NFD", "꼭 읽어볼 것")
    assert nfd != "꼭 읽어볼 것"
    assert desk("review", "note", "g1", nfd).code == 0
    text = draft_file(desk).read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text) and "꼭 읽어볼 것" in text
    # A hand edit in NFD reads back as NFC.
    draft_file(desk).write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    assert issues.load(draft_file(desk)).items[0].note == "꼭 읽어볼 것"


def test_regen_discards_the_cached_brief(desk) -> None:
    room = desk.room
    first = issues.load(draft_file(desk)).items[0]
    db = sqlite3.connect(room.path / ".digest" / "digest.db")
    stale = Brief(summary="오래된 요약", model="extractive")
    db.execute("UPDATE briefs SET data = ?", (json.dumps(stale.to_json()),))
    db.commit()
    text = draft_file(desk).read_text().replace(first.summary, "손으로 고친 요약")
    draft_file(desk).write_text(text)
    assert "edited" in listed(desk)["items"][0]["flags"]
    refused = desk("review", "regen", "g1", "--model", "any")
    assert refused.code == 2 and "regen g1 --force" in refused.err  # your edit is not lost
    result = desk("review", "regen", "g1", "--model", "any", "--force")
    assert result.code == 0, result.err
    assert "replaced: - **[요약]** 손으로 고친 요약" in result.err
    again = issues.load(draft_file(desk)).items[0]
    assert again.summary == first.summary and again.summary != "오래된 요약"
    assert any("손으로 고친 요약" in line for line in again.other_lines)  # kept as a comment
    assert not again.shown_lines  # a comment is in the file, not on the site
    rows = db.execute("SELECT data FROM briefs").fetchall()
    assert any(json.loads(data)["summary"] == first.summary for (data,) in rows)
    db.close()


def test_add_reads_title_and_description_from_the_page(desk) -> None:
    room = desk.room
    room.server.expect_request("/post").respond_with_data(  # type: ignore[attr-defined]
        PAGE, content_type="text/html; charset=utf-8"
    )
    url = room.server.url_for("/post")  # type: ignore[attr-defined]
    added = desk("review", "add", url, "--section", "aws", "--note", "꼭 읽어볼 것")
    assert added.code == 0, added.err
    aws = issues.load(draft_file(desk)).section("aws")
    assert aws is not None
    item = aws.items[-1]
    assert item.title == "한국어 블로그: 트랜스포머를 처음부터 만들어 보기"
    assert item.source_id == "editor" and item.note == "꼭 읽어볼 것"
    assert "transformer from scratch" in item.key_sentence + item.summary
    again = desk("review", "add", url)
    assert again.code == 2 and "already in this draft" in again.err


def test_add_an_unreachable_page_keeps_the_given_title(desk) -> None:
    result = desk("review", "add", "http://127.0.0.1:9/gone", "--title", "손으로 고른 글")
    assert result.code == 0 and "could not read" in result.err
    google = issues.load(draft_file(desk)).section("google")
    assert google is not None and google.items[-1].title == "손으로 고른 글"
    assert google.items[-1].needs_review


def test_keywords_suggest_add_and_remove(desk) -> None:
    shown = desk("review", "keywords")
    assert shown.code == 0 and "suggested:" in shown.out  # a listing: stdout
    assert desk("review", "keywords", "add", "AutoML", "RLHF").code == 0
    assert issues.load(draft_file(desk)).keywords == ["AutoML", "RLHF"]
    assert desk("review", "keywords", "add", "automl").code == 0  # no duplicate
    assert desk("review", "keywords", "remove", "RLHF").code == 0
    assert issues.load(draft_file(desk)).keywords == ["AutoML"]
    assert desk("review", "keywords", "add").code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "99"), "no item 99"),
        (("drop", "0"), "no item 0"),
        (("drop", "x"), "no item 'x'"),
        (("drop", "zz9"), "references: g1"),
        (("keep", "1"), "in the draft already"),
        (("keep", "R999"), "no reserve R999"),
        (("keep", "Q1"), "no item 'Q1'"),
        (("move", "1", "--to", "50"), "has positions"),
        (("move", "1", "--to", "1", "--section", "nope"), "no section 'nope'"),
        (("note", "42", "text"), "no item 42"),
        (("regen", "42"), "no item 42"),
        (("add", "ftp://example.org/x"), "not an http(s) URL"),
        (("add", "https://example.org/x", "--section", "nope"), "no section 'nope'"),
        (("keywords", "remove", "nothing"), "no keyword"),
        (("list", "--date", "30/04/2026"), "YYYY-MM-DD"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(desk, args: tuple[str, ...], message: str) -> None:
    before = draft_file(desk).read_bytes()
    result = desk("review", *args)
    assert result.code == 2, result.err
    assert message in result.err
    assert draft_file(desk).read_bytes() == before


def test_publish_needs_approval_or_force_and_numbers_in_order(desk) -> None:
    room = desk.room
    refused = desk("publish", "--no-send")
    assert refused.code == 1 and "review approve" in refused.err
    assert issues.load(room.issue(1)).status == "draft"
    assert desk("publish", "--force", "--no-send").code == 0
    assert issues.load(room.issue(1)).status == "published"
    assert desk("publish", "--date", DAY).code == 3  # already published: nothing to do
    locked = desk("review", "--date", DAY, "drop", "1")
    assert locked.code == 2 and "--published 1" in locked.err


def test_drafts_show_the_number_they_will_get(desk, newsroom: Newsroom) -> None:
    for day in ("2026-05-01", "2026-05-02"):
        other = issues.Issue(issues.draft_number(issues.load_all(newsroom.path / "issues")),
                             issues.date.fromisoformat(day), "뉴랄브리핑")  # fmt: skip
        issues.save(other, newsroom.path / "issues")
    # Issue 2 is deleted by hand: the draft of 05-02 (file 0003) will be published as 2.
    newsroom.issue(2).unlink()
    assert desk("publish", "--force", "--no-send", "--date", DAY).code == 0
    data = listed(desk, "--date", "2026-05-02")
    assert data["title"].startswith("제 0002호")


def test_a_full_session_from_draft_to_published_page(desk, tmp_path: Path, monkeypatch) -> None:
    room = desk.room
    room.server.expect_request("/tweet").respond_with_data(  # type: ignore[attr-defined]
        PAGE, content_type="text/html"
    )
    editor = tmp_path / "append.sh"
    editor.write_text('#!/bin/sh\nprintf -- "- 에디터가 덧붙인 문장임.\\n" >> "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    dropped = issues.load(draft_file(desk)).items[1]
    steps = [
        ("review", "list"),
        ("review", "drop", "2"),  # the number the list showed
        ("review", "note", "g1", "애네 블로그는 매번 자기네 제품 자랑만 하는듯"),
        ("review", "edit", "g1"),
        ("review", "move", "g3", "--to", "1"),
        ("review", "add", room.server.url_for("/tweet"), "--section", "reddit"),  # type: ignore[attr-defined]
        ("review", "keywords", "add", "AutoML"),
        ("review", "approve", "--yes"),
        ("publish", "--no-send"),
    ]
    for step in steps:
        result = desk(*step)
        assert result.code == 0, (step, result.err)
    published = issues.load(room.issue(1))
    assert published.status == "published" and published.published_at
    google = published.section("google")
    assert google is not None
    noted = google.items[1]
    assert noted.note == "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
    assert noted.other_lines == ["- 에디터가 덧붙인 문장임."]
    assert dropped.id not in published.item_ids
    assert published.keywords == ["AutoML"]
    page = (room.path / "site" / "issues" / "0001" / "index.html").read_text()
    assert "애네 블로그는 매번 자기네 제품 자랑만 하는듯" in page
    assert "에디터가 덧붙인 문장임." in page
    assert "트랜스포머를 처음부터 만들어 보기" in page
    assert dropped.title not in page
    assert page.index(google.items[0].title) < page.index(noted.title)
