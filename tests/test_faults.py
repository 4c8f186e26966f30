"""`digest daily` under faults, for real: overlapping runs, SIGKILL at points of the run, then a
normal re-run. Every wait is bounded; each process gets a hard timeout."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_FEEDS, CliResult, Newsroom, smtp_server
from werkzeug import Request, Response

from digest import issue as issues

ROOT = Path(__file__).resolve().parents[1]
PROCESS_TIMEOUT_S = 60
# A child that stops itself at a chosen call (module:attribute:calls-before) so the test can
# SIGKILL it at a known point; `FAULT: paused` on stderr says it got there.
HARNESS = """
import importlib, os, sys, time
spec = os.environ.get("FAULT_PAUSE")
if spec:
    module_name, attribute, after = spec.split(":")
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = [0]
    def paused(*args, **kwargs):
        calls[0] += 1
        if calls[0] > int(after):
            sys.stderr.write("FAULT: paused\\n")
            sys.stderr.flush()
            time.sleep(60)
        return original(*args, **kwargs)
    setattr(owner, name, paused)
from digest.cli import main
main(sys.argv[1:])
"""


class Inbox:
    """A real SMTP server's handler: keeps what it accepts; can stall on one recipient."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.stall_on: str | None = None  # hang at RCPT TO: before the message is handed over
        self.stall_data_for: str | None = None  # hang after the whole message: the client waits
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.stall_on:
            self.stalled.set()
            for _ in range(400):  # at most 20 s, then the test has long failed
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        if self.stall_data_for in envelope.rcpt_tos:
            # Queued for delivery, and the 250 is late: the reply a crash can lose.
            self.stalled.set()
            for _ in range(400):
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
        return "250 Message accepted"

    def deliveries(self) -> Counter[tuple[str, str]]:
        return Counter((str(m["To"]), str(m["Subject"])) for m in self.messages)


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    box = Inbox()
    with smtp_server(box, monkeypatch):
        yield box
        box.release.set()


def start_daily(room: Newsroom, day: str, pause: str | None = None, log: Path | None = None):
    """`python -m digest daily` (through the pause harness) as its own process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if pause:
        env["FAULT_PAUSE"] = pause
    log = log or room.path.parent / f"daily-{time.monotonic_ns()}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", HARNESS, "--config", str(room.config), "daily", "--date", day],
        stdout=subprocess.DEVNULL,
        stderr=handle,
        env=env,
        cwd=room.path,
    )
    handle.close()
    process.log = log  # type: ignore[attr-defined]
    return process


def wait_for(condition: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_when_paused(process: Any) -> None:
    log: Path = process.log
    wait_for(
        lambda: b"FAULT: paused" in log.read_bytes() or process.poll() is not None,
        what="the child to reach its pause point",
    )
    assert process.poll() is None, log.read_text()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def assert_sound(room: Newsroom) -> list[issues.Issue]:
    """What holds even right after a SIGKILL: a sound store, whole issue files."""
    db = sqlite3.connect(room.path / ".digest" / "digest.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    return issues.load_all(room.path / "issues")  # every file parses: none is half written


def assert_whole(room: Newsroom, inbox: Inbox | None = None) -> list[issues.Issue]:
    """What must hold after any crash and a normal re-run."""
    all_issues = assert_sound(room)
    published = issues.published(all_issues)
    assert [i.number for i in published] == list(range(1, len(published) + 1))
    seen: set[str] = set()
    for issue in all_issues:
        assert not (issue.item_ids & seen), "an item is in two issues"
        seen |= issue.item_ids
    site = room.path / "site"
    assert (site / "index.html").is_file() and (site / "style.css").is_file()
    for issue in published:
        page = site / "issues" / f"{issue.number:04d}" / "index.html"
        assert issue.title in page.read_text(encoding="utf-8")
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>")
    if inbox is not None:
        expected = {
            (to, f"[뉴랄브리핑] 제 {i.number:04d}호 ({i.date.isoformat()})")
            for i in published
            for to in ("가나다 <a@example.org>", "b@example.org")
        }
        deliveries = inbox.deliveries()
        assert set(deliveries) == expected, "an email was lost"
        assert max(deliveries.values()) == 1, f"an email went out twice: {deliveries}"
    return all_issues


def rerun(run_cli: Any, room: Newsroom, day: str) -> CliResult:
    result = run_cli("--config", str(room.config), "daily", "--date", day)
    assert result.code in (0, 3), result.err
    return result


# overlapping runs --------------------------------------------------------------------------
def test_two_runs_at_the_same_moment_make_one_issue_and_one_send(
    newsroom: Newsroom, inbox: Inbox
) -> None:
    slow_body = (EXAMPLE_FEEDS / "aws-ml-blog.xml").read_bytes()

    def slow_feed(request: Request) -> Response:
        time.sleep(1.0)  # keeps the first run inside its lock while the second starts
        return Response(slow_body, content_type="application/xml")

    newsroom.server.clear()  # type: ignore[attr-defined]
    for name in ("google-research-blog.xml", "meta-ai-research.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(f"/feeds/{name}", (EXAMPLE_FEEDS / name).read_bytes())
    newsroom.serve(
        "/feeds/reddit-machinelearning.json",
        (EXAMPLE_FEEDS / "reddit-machinelearning.json").read_bytes(),
    )
    newsroom.server.expect_request("/feeds/aws-ml-blog.xml").respond_with_handler(slow_feed)  # type: ignore[attr-defined]
    first = start_daily(newsroom, "2026-04-30")
    second = start_daily(newsroom, "2026-04-30")
    codes = sorted(p.wait(timeout=PROCESS_TIMEOUT_S) for p in (first, second))
    logs = [p.log.read_text(encoding="utf-8") for p in (first, second)]
    assert codes in ([0, 1], [0, 3]), logs
    if codes == [0, 1]:
        loser = next(log for log in logs if "another digest run holds" in log)
        assert "pid " in loser and "started " in loser and "changed nothing" in loser
    assert [p.name for p in sorted((newsroom.path / "issues").iterdir())] == ["0001.md"]
    assert_whole(newsroom, inbox)
    assert len(inbox.messages) == 2


# SIGKILL, then a normal re-run ---------------------------------------------------------------
def test_killed_during_fetch(run_cli: Any, newsroom: Newsroom, inbox: Inbox) -> None:
    reached, release = threading.Event(), threading.Event()
    body = (EXAMPLE_FEEDS / "meta-ai-research.xml").read_bytes()

    def hanging_feed(request: Request) -> Response:
        reached.set()
        release.wait(timeout=20)
        return Response(body, content_type="application/xml")

    newsroom.server.clear()  # type: ignore[attr-defined]
    for name in ("google-research-blog.xml", "aws-ml-blog.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(f"/feeds/{name}", (EXAMPLE_FEEDS / name).read_bytes())
    newsroom.serve(
        "/feeds/reddit-machinelearning.json",
        (EXAMPLE_FEEDS / "reddit-machinelearning.json").read_bytes(),
    )
    newsroom.server.expect_request("/feeds/meta-ai-research.xml").respond_with_handler(  # type: ignore[attr-defined]
        hanging_feed
    )
    process = start_daily(newsroom, "2026-04-30")
    try:
        assert reached.wait(timeout=30), process.log.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        release.set()
    assert not (newsroom.path / "issues").exists() or not list(
        (newsroom.path / "issues").glob("*.md")
    )
    assert not (newsroom.path / "site").exists()
    result = rerun(run_cli, newsroom, "2026-04-30")
    assert "finished the work of a run that died: pid" in result.err
    assert_whole(newsroom, inbox)
    assert len(inbox.messages) == 2


@pytest.mark.parametrize(
    ("stage", "pause"),
    [
        ("summarize", "digest.summarize.extractive:ExtractiveSummarizer.summarize:0"),
        ("publish", "digest.issue:save:1"),
        ("build", "digest.site.build:_write_new:2"),
    ],
)
def test_killed_mid_stage(
    run_cli: Any, newsroom: Newsroom, inbox: Inbox, stage: str, pause: str
) -> None:
    # Day one goes out whole, so the site and the store have something to lose.
    rerun(run_cli, newsroom, "2026-04-30")
    page_one = (newsroom.path / "site" / "issues" / "0001" / "index.html").read_bytes()
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", NEXT_DAY_FEED)
    for name in ("aws-ml-blog.xml", "meta-ai-research.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(f"/feeds/{name}", EMPTY_FEED)
    newsroom.serve("/feeds/reddit-machinelearning.json", '{"data": {"children": []}}')

    process = start_daily(newsroom, "2026-05-01", pause=pause)
    kill_when_paused(process)
    # Right after the kill: the old site is whole and no email went out for day two.
    assert (newsroom.path / "site" / "issues" / "0001" / "index.html").read_bytes() == page_one
    assert not (newsroom.path / "site" / "issues" / "0002").exists()
    assert len(inbox.messages) == 2
    assert_sound(newsroom)

    result = rerun(run_cli, newsroom, "2026-05-01")
    assert "finished the work of a run that died" in result.err
    after = assert_whole(newsroom, inbox)
    assert [i.number for i in after] == [1, 2]
    assert len(inbox.messages) == 4
    assert rerun(run_cli, newsroom, "2026-05-01").code == 3  # and now there is nothing left


def test_killed_during_send_sends_the_rest_once(
    run_cli: Any, newsroom: Newsroom, inbox: Inbox
) -> None:
    inbox.stall_on = "b@example.org"  # a@ is accepted and logged, then the server hangs
    process = start_daily(newsroom, "2026-04-30")
    try:
        assert inbox.stalled.wait(timeout=30), process.log.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        inbox.stall_on = None
        inbox.release.set()
    assert [str(m["To"]) for m in inbox.messages] == ["가나다 <a@example.org>"]
    result = rerun(run_cli, newsroom, "2026-04-30")
    assert "email 1 sent, 1 already had it" in result.err
    assert_whole(newsroom, inbox)


def test_killed_after_handing_over_a_message_never_sends_it_twice(
    run_cli: Any, newsroom: Newsroom, inbox: Inbox
) -> None:
    # Killed after the server queued b@'s message but before its answer arrived: it will be
    # delivered, so the re-run must not send it again; it names it as in doubt instead.
    inbox.stall_data_for = "b@example.org"
    process = start_daily(newsroom, "2026-04-30")
    try:
        assert inbox.stalled.wait(timeout=30), process.log.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        inbox.stall_data_for = None
        inbox.release.set()
    assert len(inbox.messages) == 2
    result = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30")
    assert result.code == 1, result.err  # the operator has a question to answer
    assert "b@example.org: in doubt" in result.err
    assert_whole(newsroom, inbox)


def test_killed_leftovers_are_cleared_by_a_later_run(run_cli: Any, newsroom: Newsroom) -> None:
    rerun(run_cli, newsroom, "2026-04-30")
    staging = newsroom.path / ".site.building-crashed"
    (staging / "issues").mkdir(parents=True)
    temp = newsroom.path / "issues" / ".0001.md.abc.tmp"
    temp.write_text("half")
    fresh = newsroom.path / ".site.building-now"
    fresh.mkdir()
    old = time.time() - 3600
    for path in (staging, temp):
        os.utime(path, (old, old))
    rerun(run_cli, newsroom, "2026-04-30")
    assert not staging.exists() and not temp.exists()
    assert fresh.exists()  # young: maybe a `digest build` running right now


NEXT_DAY_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Google Research Blog</title><link>https://research.google/</link>
<item><title>Sparse attention for very long documents</title>
<link>https://research.google/blog/sparse-attention/</link>
<guid>https://research.google/blog/sparse-attention/</guid>
<pubDate>Fri, 01 May 2026 09:00:00 +0000</pubDate>
<description>We show a sparse attention method that reads whole books. It keeps accuracy while
using a tenth of the memory.</description></item>
<item><title>Robots that learn from a single video</title>
<link>https://research.google/blog/one-video-robots/</link>
<guid>https://research.google/blog/one-video-robots/</guid>
<pubDate>Fri, 01 May 2026 08:00:00 +0000</pubDate>
<description>A robot watches one video of a task and repeats it. This cuts the cost of
teaching new skills.</description></item>
</channel></rss>"""
EMPTY_FEED = "<rss version='2.0'><channel><title>t</title></channel></rss>"
