"""An editor's morning at a real terminal (issue 15, "Done when"): two drafts waiting, worked
through with stable references in a pseudo-terminal (pexpect drives `digest` as a person would),
list → drop → keep → move → note → edit → approve → publish. Both issues end up published,
numbered in date order, every edit kept."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
from conftest import Newsroom

from digest import issue as issues

ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = "2026-04-30", "2026-05-01"
TIMEOUT_S = 60


class Terminal:
    """`digest --config … ARGS` in a pseudo-terminal, 100 columns wide, as an editor types it."""

    def __init__(self, room: Newsroom, editor: Path) -> None:
        self.room = room
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            EDITOR=str(editor),
            TERM="xterm-256color",
            COLUMNS="100",
            LINES="40",
        )
        self.env.pop("NO_COLOR", None)

    def spawn(self, *args: str) -> Any:
        return pexpect.spawn(
            sys.executable,
            ["-m", "digest", "--config", str(self.room.config), *args],
            env=self.env,
            cwd=str(self.room.path),
            encoding="utf-8",
            timeout=TIMEOUT_S,
            dimensions=(40, 100),
        )

    def run(self, *args: str) -> str:
        """Run a command that asks nothing; returns what the terminal showed. Fails on a
        non-zero exit, with the screen in the message."""
        child = self.spawn(*args)
        child.expect(pexpect.EOF)
        child.close()
        screen = child.before or ""
        assert child.exitstatus == 0, f"digest {' '.join(args)} → {child.exitstatus}:\n{screen}"
        return screen

    def approve(self, day: str) -> str:
        """`review approve` on a draft the machine wrote: it says what still needs a human and
        asks; the editor answers yes. Returns the question as shown."""
        child = self.spawn("review", "--date", day, "approve")
        child.expect(r"approve anyway\? \[y/N\]")
        question = (child.before or "") + (child.after or "")
        child.sendline("y")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        return question


def refs(room: Newsroom, day: str) -> dict[str, dict[str, Any]]:
    """The draft's items by reference, from `review list --json` (a program's view)."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "digest", "--config", str(room.config), "review", "--date", day, "list", "--json"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=str(room.path),
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )
    child.expect(pexpect.EOF)
    text = child.before or ""
    listing = json.loads(text[text.index("{") :])
    return {item["ref"]: item for item in listing["items"]}


def test_a_morning_with_two_drafts_waiting(newsroom: Newsroom, tmp_path: Path, run_cli) -> None:
    settings = newsroom.config.read_text(encoding="utf-8")
    newsroom.config.write_text(settings.replace("auto_publish: true", "auto_publish: false"))
    for day in (FIRST, SECOND):  # the cron job drafted two mornings; nobody reviewed yet
        made = run_cli("--config", str(newsroom.config), "daily", "--date", day, "--no-send")
        assert made.code == 0, made.err
    drafts = issues.load_all(newsroom.path / "issues")
    assert [(d.date.isoformat(), d.status) for d in drafts] == [(FIRST, "draft"), (SECOND, "draft")]

    editor = tmp_path / "editor"  # the editor fixes the 요약 of the item it is given
    editor.write_text(
        "#!/bin/sh\n"
        f"{sys.executable} - \"$1\" <<'EOF'\n"
        "import re, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path, encoding='utf-8').read()\n"
        "text = re.sub(r'(\\*\\*\\[요약\\]\\*\\*) .*', r'\\1 편집자가 고쳐 쓴 요약임.', text, count=1)\n"
        "open(path, 'w', encoding='utf-8').write(text)\n"
        "EOF\n",
        encoding="utf-8",
    )
    editor.chmod(0o755)
    term = Terminal(newsroom, editor)

    # The older draft first: read it, then work on it by reference.
    screen = term.run("review", "--date", FIRST, "list")
    items = refs(newsroom, FIRST)
    assert all(ref in screen for ref in items)  # the references the editor types are shown
    by_section: dict[str, list[str]] = {}
    for ref, item in items.items():
        by_section.setdefault(item["section"], []).append(ref)
    sections = [s for s, found in by_section.items() if len(found) >= 2]
    assert len(sections) >= 2, by_section
    dropped, kept_back = by_section[sections[0]][0], by_section[sections[0]][1]
    moved = by_section[sections[1]][-1]
    noted, edited = by_section[sections[1]][0], by_section[sections[0]][-1]

    term.run("review", "--date", FIRST, "drop", dropped)
    term.run("review", "--date", FIRST, "drop", kept_back)
    term.run("review", "--date", FIRST, "keep", kept_back)  # changed their mind: it is back
    # References stay put after a drop: the same ref still names the same item.
    term.run("review", "--date", FIRST, "move", moved, "--section", sections[0])
    term.run("review", "--date", FIRST, "note", noted, "이건 꼭 읽어 보세요.")
    term.run("review", "--date", FIRST, "edit", edited)
    asked = term.approve(FIRST)
    assert "not reviewed yet" in asked or "검토 필요" in asked  # it said what it was approving

    # The newer draft: a note and an approval.
    second = refs(newsroom, SECOND)
    second_noted = next(iter(second))
    term.run("review", "--date", SECOND, "note", second_noted, "둘째 날의 한마디.")
    term.approve(SECOND)

    published = term.run("publish", "--no-send")  # the newest: the older goes out first
    assert "0001" in published or "제 0001호" in published

    done = issues.load_all(newsroom.path / "issues")
    assert [(i.number, i.date.isoformat(), i.status) for i in done] == [
        (1, FIRST, "published"),
        (2, SECOND, "published"),
    ]
    first = done[0]
    by_ref = {item.ref: (section.id, item) for section in first.sections for item in section.items}
    assert dropped not in by_ref and dropped in {i.ref for i in first.dropped}
    assert by_section[sections[0]][1] in by_ref  # kept back in
    assert by_ref[moved][0] == sections[0]  # moved across sections, by its reference
    assert "이건 꼭 읽어 보세요." in by_ref[noted][1].note
    assert by_ref[edited][1].summary == "편집자가 고쳐 쓴 요약임."
    second_issue = done[1]
    assert "둘째 날의 한마디." in " ".join(i.note for s in second_issue.sections for i in s.items)
    site = newsroom.path / "site" / "issues"
    assert (site / "0001" / "index.html").is_file() and (site / "0002" / "index.html").is_file()
    assert "편집자가 고쳐 쓴 요약임." in (site / "0001" / "index.html").read_text(encoding="utf-8")
