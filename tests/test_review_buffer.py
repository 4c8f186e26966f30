"""`digest review edit ITEM` opens what an editor needs to write the brief — the source text, a
key sentence, an empty line per missing field — and saves none of it; an edit given up after its
rounds is kept beside the issue (issue 15, point 4). A real $EDITOR: a shell script."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Newsroom

from digest import issue as issues

DAY = "2026-04-30"


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """$EDITOR = a script that copies what it was given to `seen`, then runs `body` on "$1"."""
    seen = tmp_path / "seen"
    script = tmp_path / "editor.sh"
    script.write_text(f'#!/bin/sh\ncat "$1" >> {seen}\n{body}')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    return seen


def item(room: Newsroom, ref: str) -> issues.IssueItem:
    draft = issues.load(room.issue(1))
    return next(i for i in [*draft.items, *draft.dropped] if i.ref == ref)


def test_the_buffer_has_the_source_text_and_an_empty_line_per_missing_field(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    before = item(newsroom, "ar2")
    assert before.summary and not before.significance and not before.glossary_note
    seen = editor(tmp_path, monkeypatch, "")  # saves what it was given, untouched
    result = desk("review", "edit", "ar2")
    assert result.code == 0, result.err
    shown = seen.read_text()
    lines = shown.splitlines()
    assert (
        lines[2]
        == "<!-- digest: empty: 의의, 토막상식, 한마디 — write on their lines; left empty, not saved -->"
    )
    assert (
        "<!-- digest: the arXiv abstract, for reference (digest: lines are not saved): -->" in lines
    )
    assert "<!-- digest: Anti-doping programs rely on biological testing" in shown
    assert "routine competition results" in shown  # the whole abstract, wrapped
    assert all(len(line) < 120 for line in lines if line.startswith("<!-- digest:"))
    assert "- **[요약]** Anti-doping programs" in shown
    for label in ("의의", "토막상식", "한마디"):
        assert f"- **[{label}]** " in lines
    # Nothing of the help, and no empty field, reaches the issue file.
    text = newsroom.issue(1).read_text()
    assert "<!-- digest:" not in text and "- **[의의]**\n" not in text
    after = item(newsroom, "ar2")
    assert (after.summary, after.significance, after.glossary_note, after.note) == (
        before.summary, "", "", ""
    )  # fmt: skip
    assert after.other_lines == before.other_lines and not after.unreviewed


def test_a_filled_placeholder_is_saved_and_the_rest_stay_absent(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    body = "sed -i 's/^- \\*\\*\\[의의\\]\\*\\* *$/- **[의의]** 도핑 검사를 대회 기록으로 보완함./' \"$1\"\n"
    editor(tmp_path, monkeypatch, body)
    assert desk("review", "edit", "ar2").code == 0
    after = item(newsroom, "ar2")
    assert after.significance == "도핑 검사를 대회 기록으로 보완함."
    assert after.glossary_note == "" and after.note == "" and after.other_lines == []
    text = newsroom.issue(1).read_text()
    assert "- **[의의]** 도핑 검사를 대회 기록으로 보완함." in text
    assert "- **[토막상식]**" not in text.split("2604.21953")[1].split("### ")[0]


def test_an_item_without_a_key_sentence_gets_one_from_its_source(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    g1 = item(newsroom, "g1")
    path = newsroom.issue(1)
    path.write_text(path.read_text().replace(f"> {g1.key_sentence}\n\n", "", 1))
    assert item(newsroom, "g1").key_sentence == ""
    seen = editor(tmp_path, monkeypatch, "")
    assert desk("review", "edit", "g1").code == 0
    shown = seen.read_text()
    assert "empty: 인용 (> key sentence), 의의, 한마디" in shown
    assert "\n> \n" in shown  # the quote's empty line
    assert f"<!-- digest: a key sentence from it, for the > line: {g1.key_sentence} -->" in shown
    assert "the post's opening" in shown
    assert item(newsroom, "g1").key_sentence == ""  # a suggestion is not content
    assert "\n>\n" not in path.read_text()


def test_an_item_with_no_stored_text_says_so(desk, newsroom, tmp_path, monkeypatch) -> None:
    seen = editor(tmp_path, monkeypatch, 'echo "- 에디터가 쓴 줄" >> "$1"\n')
    assert desk("review", "edit", "re1").code == 0
    assert "<!-- digest: no source text is stored for this item -->" in seen.read_text()
    after = item(newsroom, "re1")
    assert after.other_lines == ["- 에디터가 쓴 줄"] and not after.summary


def test_an_abandoned_edit_is_kept_beside_the_issue(desk, newsroom, tmp_path, monkeypatch) -> None:
    # Every round the editor writes a sentence and breaks the item (a second heading).
    body = 'echo "- 공들여 쓴 문장임." >> "$1"\nprintf "### [Another](https://example.org/a)\\n" >> "$1"\n'
    editor(tmp_path, monkeypatch, body)
    before = newsroom.issue(1).read_bytes()
    result = desk("review", "edit", "ar2")
    assert result.code == 2 and "still broken after 10 rounds" in result.err
    kept = newsroom.path / "issues" / "0001.ar2.rejected.md"
    assert str(kept) in result.err
    assert "공들여 쓴 문장임." in kept.read_text()
    assert kept.read_text().startswith("<!-- digest: NOT SAVED:")  # why, on top
    assert newsroom.issue(1).read_bytes() == before
    again = desk("review", "edit", "ar2")  # a second one never overwrites the first
    assert again.code == 2 and "0001.ar2.rejected-2.md" in again.err
    assert kept.exists() and (newsroom.path / "issues" / "0001.ar2.rejected-2.md").exists()
    assert [p.name for p in issues.issue_files(newsroom.path / "issues")] == ["0001.md"]
    assert desk("review", "list").code == 0


def test_an_abandoned_whole_edit_is_kept_too(desk, newsroom, tmp_path, monkeypatch) -> None:
    editor(tmp_path, monkeypatch, 'sed -i \'/^---$/d\' "$1"\necho 내가 쓴 끝줄 >> "$1"\n')
    result = desk("review", "edit")
    assert result.code == 2 and "0001.rejected.md" in result.err
    assert (newsroom.path / "issues" / "0001.rejected.md").read_text().endswith("내가 쓴 끝줄\n")
