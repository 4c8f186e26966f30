"""`digest review edit`: a real $EDITOR (a shell script) that appends, breaks or empties the file."""

from __future__ import annotations

import json
from pathlib import Path

from digest import issue as issues

DAY = "2026-04-30"


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_editor_appends_a_sentence_to_one_item(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", script(tmp_path, "e", 'echo "덧붙인 문장임." >> "$1"\n'))
    before = issues.load(newsroom.issue(1))
    result = desk("review", "edit", "2")
    assert result.code == 0, result.err
    after = issues.load(newsroom.issue(1))
    assert after.items[1].other_lines == ["덧붙인 문장임."]
    assert after.items[1].id == before.items[1].id
    assert [vars(i) for i in after.items[2:]] == [vars(i) for i in before.items[2:]]
    assert issues.to_markdown(after) == newsroom.issue(1).read_text()


def test_visual_is_used_when_editor_is_unset(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("VISUAL", script(tmp_path, "v", 'echo "- **[의의]** 비주얼" >> "$1"\n'))
    assert desk("review", "edit", "1").code == 0
    assert issues.load(newsroom.issue(1)).items[0].significance == "비주얼"


def test_editor_choice_order() -> None:
    from digest.cli.review import editor_command
    from digest.config import Secrets

    chosen = Secrets.from_env({"EDITOR": "code -w", "VISUAL": "vim"})
    assert editor_command(chosen) == ["code", "-w"]
    assert editor_command(Secrets.from_env({"EDITOR": " ", "VISUAL": "vim"})) == ["vim"]


def test_broken_front_matter_reopens_with_the_error_on_top(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    seen = tmp_path / "seen"
    # First round: break the front matter. Second round: keep a copy, drop the error lines
    # and the break, and append a sentence.
    body = f"""if grep -q "NOT SAVED" "$1"; then
  cp "$1" {seen}
  grep -v "^<!-- digest:" "$1" | sed 's/^number 1$/number: 1/' > "$1.tmp" && mv "$1.tmp" "$1"
  echo "고친 뒤 덧붙임." >> "$1"
else
  sed -i 's/^number: 1$/number 1/' "$1"
fi
"""
    monkeypatch.setenv("EDITOR", script(tmp_path, "b", body))
    result = desk("review", "edit")
    assert result.code == 0, result.err
    first_line = seen.read_text().splitlines()[0]
    assert first_line.startswith("<!-- digest: NOT SAVED:") and "front matter" in first_line
    text = newsroom.issue(1).read_text()
    assert text.startswith("---\nnumber: 1\n") and "digest: NOT SAVED" not in text
    assert text.endswith("고친 뒤 덧붙임.\n")


def test_an_edit_that_stays_broken_changes_nothing(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", script(tmp_path, "x", "sed -i '/^---$/d' \"$1\"\n"))
    before = newsroom.issue(1).read_bytes()
    result = desk("review", "edit")
    assert result.code == 2 and "still broken" in result.err
    assert newsroom.issue(1).read_bytes() == before


def test_changing_the_number_is_refused(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(
        "EDITOR", script(tmp_path, "n", "sed -i 's/^number: 1$/number: 5/' \"$1\"\n")
    )
    before = newsroom.issue(1).read_bytes()
    result = desk("review", "edit")
    assert result.code == 2 and "leave it as 1" in result.err
    assert newsroom.issue(1).read_bytes() == before


def test_an_empty_file_aborts(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", script(tmp_path, "z", ': > "$1"\n'))
    before = newsroom.issue(1).read_bytes()
    result = desk("review", "edit", "1")
    assert result.code == 1 and "aborted" in result.err
    assert newsroom.issue(1).read_bytes() == before


def test_a_failing_editor_aborts(desk, newsroom, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", script(tmp_path, "f", 'echo junk >> "$1"; exit 3\n'))
    before = newsroom.issue(1).read_bytes()
    assert desk("review", "edit").code == 1
    assert newsroom.issue(1).read_bytes() == before


def test_an_item_edit_must_stay_one_item(desk, newsroom, tmp_path, monkeypatch) -> None:
    body = 'printf "\\n### [Another](https://example.org/a)\\n" >> "$1"\n'
    monkeypatch.setenv("EDITOR", script(tmp_path, "two", body))
    before = newsroom.issue(1).read_bytes()
    result = desk("review", "edit", "1")
    assert result.code == 2 and "exactly one" in result.err
    assert newsroom.issue(1).read_bytes() == before


def test_correcting_a_published_issue_records_it_and_rebuilds(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    assert desk("publish", "--force", "--no-send").code == 0
    first = issues.load(newsroom.issue(1)).items[0]
    body = "sed -i 's/^- \\*\\*\\[요약\\]\\*\\* .*$/- **[요약]** 정정한 요약임./' \"$1\"\n"
    monkeypatch.setenv("EDITOR", script(tmp_path, "c", body))
    draft_only = desk("review", "edit", "1")
    assert draft_only.code == 3  # no draft left: the published one needs --published
    result = desk("review", "edit", "1", "--published", "1")
    assert result.code == 0, result.err
    fixed = issues.load(newsroom.issue(1))
    assert fixed.status == "published" and fixed.items[0].summary == "정정한 요약임."
    assert len(fixed.corrections) == 1 and first.title in fixed.corrections[0].what
    assert "요약" in fixed.corrections[0].what
    page = (newsroom.path / "site" / "issues" / "0001" / "index.html").read_text()
    assert "정정한 요약임." in page
    missing = desk("review", "edit", "--published", "7")
    assert missing.code == 2 and "no published issue" in missing.err


def test_list_json_stays_parseable_after_edits(desk, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", script(tmp_path, "e", 'echo "- 한 줄 더" >> "$1"\n'))
    assert desk("review", "edit", "3").code == 0
    row = json.loads(desk("review", "list", "--json").out)["items"][2]
    assert "edited" in row["flags"]


def test_a_whole_edit_never_overwrites_a_file_changed_meanwhile(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    real = newsroom.issue(1)
    body = f'echo "- 에디터의 줄" >> "$1"\necho "- 다른 사람의 줄" >> {real}\n'
    monkeypatch.setenv("EDITOR", script(tmp_path, "race", body))
    result = desk("review", "edit")
    assert result.code == 1 and "changed while you were editing" in result.err
    assert real.read_text().endswith("- 다른 사람의 줄\n")
    aside = real.with_name("0001.edited.md")
    assert aside.read_text().endswith("- 에디터의 줄\n")


def test_an_item_edit_merges_into_a_file_changed_meanwhile(
    desk, newsroom, tmp_path, monkeypatch
) -> None:
    real = newsroom.issue(1)
    body = f'echo "- 에디터의 줄" >> "$1"\necho "- 다른 사람의 줄" >> {real}\n'
    monkeypatch.setenv("EDITOR", script(tmp_path, "race", body))
    assert desk("review", "edit", "1").code == 0
    after = issues.load(real)
    assert after.items[0].other_lines == ["- 에디터의 줄"]
    assert after.items[-1].other_lines[-1] == "- 다른 사람의 줄"
