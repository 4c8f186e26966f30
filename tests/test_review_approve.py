"""`digest review approve` says what it is approving and asks (a real terminal: a pty), and
`digest review add` never takes a bare URL for a title (issue 15, point 3; issue 16's `add`)."""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, Newsroom

from digest import issue as issues

DAY = "2026-04-30"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(room: Newsroom, answer: str, *args: str) -> tuple[int, str]:
    """Run `digest --config … ARGS` in a pseudo-terminal, type `answer` at the [y/N] prompt;
    return its exit code and everything it printed (colours taken out)."""
    import fcntl
    import termios

    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 400, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(TZ="UTC", LC_ALL="C.UTF-8", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "digest", "--config", str(room.config), *args]
    process = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    seen, answered, deadline = b"", False, time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the command is done and the terminal closed
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and b"[y/N]" in seen:
                    os.write(main, answer.encode())
                    answered = True
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    return code, ANSI.sub("", seen.decode("utf-8", errors="replace"))


def status(room: Newsroom) -> str:
    return issues.load(room.issue(1)).status


def test_approve_names_what_wants_a_human_and_needs_yes_off_a_terminal(desk) -> None:
    room = desk.room
    before = room.issue(1).read_bytes()
    refused = desk("review", "approve")
    assert refused.code == 2, refused.err
    one_line = " ".join(refused.err.split())
    for said in (
        "1 item 검토 필요 (re1)",
        "not reviewed yet (미검토: g1, g2",
        "1 without a brief (re1)",
        "with an English 요약 (g1",
        "`digest review approve --yes`",
    ):
        assert said in one_line
    assert "Traceback" not in refused.err
    assert room.issue(1).read_bytes() == before  # nothing changed
    done = desk("review", "approve", "--yes")
    assert done.code == 0, done.err
    assert "approving anyway: 1 item 검토 필요 (re1)" in " ".join(done.err.split())
    draft = issues.load(room.issue(1))
    assert draft.status == "approved" and not any(i.unreviewed for i in draft.items)


def test_a_draft_with_nothing_to_warn_about_is_approved_without_a_question(
    run_cli, newsroom: Newsroom
) -> None:
    item = issues.IssueItem(
        id="https://example.org/moe", title="Predictable routing", url="https://example.org/moe",
        source_id="editor", ref="g1", summary="MoE 모델의 routing을 처음부터 고르게 만드는 학습법임.",
        significance="전문가가 놀지 않으니 같은 계산으로 더 배움.",
    )  # fmt: skip
    draft = issues.Issue(
        1, date(2026, 4, 30), "뉴랄브리핑", sections=[issues.Section("google", "구글", [item])]
    )
    issues.save(draft, newsroom.path / "issues")
    done = run_cli("--config", str(newsroom.config), "review", "approve")  # no terminal, no --yes
    assert done.code == 0, done.err
    assert "approving anyway" not in done.err and status(newsroom) == "approved"


def test_approve_asks_at_a_terminal_and_no_is_the_default(desk) -> None:
    room = desk.room
    before = room.issue(1).read_bytes()
    code, screen = in_terminal(room, "\n", "review", "approve")  # Enter: the default, no
    assert "approve anyway? [y/N]" in screen and "1 item 검토 필요 (re1)" in screen
    assert code == 1 and "not approved; nothing changed" in screen, screen
    assert room.issue(1).read_bytes() == before
    code, screen = in_terminal(room, "y\n", "review", "approve")
    assert code == 0, screen
    assert "approved — run `digest publish`" in screen and status(room) == "approved"


# `review add`: a title in words, never the URL ------------------------------------------------
def serve_page(room: Newsroom, path: str, html: str) -> str:
    room.server.expect_request(path).respond_with_data(  # type: ignore[attr-defined]
        html, content_type="text/html; charset=utf-8"
    )
    return str(room.server.url_for(path))  # type: ignore[attr-defined]


def added_item(room: Newsroom) -> issues.IssueItem:
    return next(i for i in issues.load(room.issue(1)).items if i.source_id == "editor")


def test_add_takes_the_page_title_when_there_is_no_og_title(desk) -> None:
    url = serve_page(desk.room, "/plain", "<html><head><title> 그냥 제목\n </title></head></html>")
    added = desk("review", "add", url, "--section", "aws")
    assert added.code == 0, added.err
    aws = issues.load(desk.room.issue(1)).section("aws")
    assert aws is not None and aws.items[-1].title == "그냥 제목"


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><meta name='description' content='No title here at all.'></head></html>",
        "<html><head><title>{url}</title></head></html>",  # titled with its own address
    ],
)
def test_add_without_a_title_to_be_had_asks_for_title(desk, html: str) -> None:
    room = desk.room
    url = str(room.server.url_for("/untitled"))  # type: ignore[attr-defined]
    serve_page(room, "/untitled", html.format(url=url))
    before = room.issue(1).read_bytes()
    refused = desk("review", "add", url)
    assert refused.code == 2 and "--title" in refused.err, refused.err
    assert "no og:title or <title>" in refused.err
    assert room.issue(1).read_bytes() == before
    done = desk("review", "add", url, "--title", "손으로 붙인 제목")
    assert done.code == 0, done.err
    assert added_item(room).title == "손으로 붙인 제목"


def test_add_of_an_unreadable_page_needs_title(desk) -> None:
    before = desk.room.issue(1).read_bytes()
    refused = desk("review", "add", "http://127.0.0.1:9/gone")
    assert refused.code == 2 and "could not read" in refused.err and "--title" in refused.err
    assert desk.room.issue(1).read_bytes() == before
    url_title = desk("review", "add", "http://127.0.0.1:9/gone", "--title", "https://x.org/a")
    assert url_title.code == 2 and "is not a title" in url_title.err
    assert desk.room.issue(1).read_bytes() == before


def test_add_makes_the_editors_title_one_line_of_plain_text(desk) -> None:
    room = desk.room
    before = issues.load(room.issue(1))
    title = "첫 줄\n### [가짜](javascript:alert(1))\u2028둘째\x1b[31m 줄\u200b"
    done = desk("review", "add", "http://127.0.0.1:9/gone", "--title", title, "--note", "a\nb")
    assert done.code == 0, done.err
    after = issues.load(room.issue(1))
    assert len(after.items) == len(before.items) + 1 and after.problems == []
    added = added_item(room)
    assert added.title.startswith("첫 줄 ### [가짜](javascript:alert(1)) 둘째")
    assert "\x1b" not in added.title and added.title.endswith("줄")
    assert added.note == "a b" and added.url == "http://127.0.0.1:9/gone"
    text = room.issue(1).read_text()
    assert "\x1b" not in text and "\u2028" not in text and "\u200b" not in text
    assert text.count("\n### ") == len(after.items)  # no line of the title became an item


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/post\u2028### [x](javascript:alert(1))",
        "https://exa mple.org/post",
        "https://example.org:99999/post",
    ],
)
def test_add_refuses_a_url_without_a_canonical_form(desk, url: str) -> None:
    before = desk.room.issue(1).read_bytes()
    refused = desk("review", "add", url, "--title", "제목")
    assert refused.code == 2 and "not an http(s) URL" in refused.err, refused.err
    assert desk.room.issue(1).read_bytes() == before


def test_help_says_what_approve_and_add_do(run_cli) -> None:
    approve = run_cli("review", "approve", "--help")
    assert approve.code == 0 and "--yes" in approve.out and "approve anyway?" in approve.out
    add = run_cli("review", "add", "--help")
    assert "og:title" in add.out and "never the URL" in add.out
    assert Path(ROOT / "docs" / "editing.md").read_text().count("--yes") >= 1
