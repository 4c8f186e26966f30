"""The walking skeleton end to end: `digest daily` against a real local HTTP server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import CliResult, Newsroom

from digest import issue as issues

NEW_POST = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Google Research Blog</title><link>https://research.google/blog/</link>
<item><title>A brand new post about reinforcement learning</title>
<link>https://research.google/blog/a-brand-new-post/</link>
<guid>https://research.google/blog/a-brand-new-post/</guid>
<pubDate>Thu, 30 Apr 2026 10:00:00 +0000</pubDate>
<description>We present a new reinforcement learning method. It learns from fewer trials than
any method before it, which matters for robots.</description></item>
</channel></rss>"""


def daily(run_cli, room: Newsroom, day: str, *extra: str) -> CliResult:
    return run_cli("--config", str(room.config), "daily", "--date", day, "--no-send", *extra)


def test_daily_builds_issue_and_site(run_cli, newsroom: Newsroom) -> None:
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 0, result.err
    first = issues.load(newsroom.issue(1))
    assert first.number == 1 and first.status == "published"
    assert first.title == "제 0001호 뉴랄브리핑 (2026년 4월 30일 목요일)"
    assert [s.id for s in first.sections] == ["google", "aws", "meta", "arxiv", "reddit"]
    assert all(len(s.items) <= 3 for s in first.sections)
    page = (newsroom.path / "site" / "issues" / "0001" / "index.html").read_text()
    assert "제 0001호 뉴랄브리핑 (2026년 4월 30일 목요일)" in page
    assert (newsroom.path / "site" / "index.html").is_file()
    assert "제 0001호" in result.err.splitlines()[-1]  # the summary line
    runs = list((newsroom.path / ".digest" / "runs").glob("*.json"))
    assert json.loads(runs[0].read_text())["number"] == 1


def test_same_date_twice_changes_nothing(run_cli, newsroom: Newsroom) -> None:
    assert daily(run_cli, newsroom, "2026-04-30").code == 0
    before = newsroom.issue(1).read_bytes()
    page = newsroom.path / "site" / "issues" / "0001" / "index.html"
    page_before = page.read_bytes()
    again = daily(run_cli, newsroom, "2026-04-30")
    assert again.code == 3, again.err  # nothing new
    assert newsroom.issue(1).read_bytes() == before
    assert page.read_bytes() == page_before
    assert not newsroom.issue(2).exists()


def test_next_day_with_new_items_makes_0002(run_cli, newsroom: Newsroom) -> None:
    assert daily(run_cli, newsroom, "2026-04-30").code == 0
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", NEW_POST)
    for other in ("aws-ml-blog.xml", "meta-ai-research.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(
            f"/feeds/{other}", "<rss version='2.0'><channel><title>t</title></channel></rss>"
        )
    newsroom.serve("/feeds/reddit-machinelearning.json", '{"data": {"children": []}}')
    result = daily(run_cli, newsroom, "2026-05-01")
    assert result.code == 0, result.err
    second = issues.load(newsroom.issue(2))
    assert second.number == 2 and second.status == "published"
    google = second.section("google")
    assert google is not None
    # The new post leads; yesterday's reserves (left out by the caps) may fill the rest.
    assert google.items[0].title == "A brand new post about reinforcement learning"
    assert not (issues.load(newsroom.issue(1)).item_ids & second.item_ids)
    index = (newsroom.path / "site" / "index.html").read_text()
    assert "제 0002호" in index and "제 0001호" in index


def test_failing_sources_are_named_and_exit_4(run_cli, newsroom: Newsroom) -> None:
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", "boom", status=500)
    newsroom.serve("/feeds/aws-ml-blog.xml", b"\x00\x01 this is not xml at all {")
    for name in ("meta-ai-research.xml", "arxiv-rss-cs-lg.xml", "reddit-machinelearning.json"):
        newsroom.serve(
            f"/feeds/{name}", (Path(__file__).parents[1] / "examples/feeds" / name).read_bytes()
        )
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 4, result.err
    assert "google-research" in result.err and "HTTP 500" in result.err
    assert "aws-ml" in result.err and "not a feed" in result.err
    built = issues.load(newsroom.issue(1))
    assert [s.id for s in built.sections] == ["meta", "arxiv", "reddit"]
    assert (newsroom.path / "site" / "issues" / "0001" / "index.html").is_file()


def test_draft_without_auto_publish_stays_off_the_site(run_cli, newsroom: Newsroom) -> None:
    text = newsroom.config.read_text().replace("auto_publish: true", "auto_publish: false")
    newsroom.config.write_text(text)
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 0, result.err
    assert issues.load(newsroom.issue(1)).status == "draft"
    assert not (newsroom.path / "site" / "issues" / "0001").exists()
    cfg = ("--config", str(newsroom.config))
    assert run_cli(*cfg, "publish").code == 1  # not approved yet: says what to do
    assert run_cli(*cfg, "review", "approve").code == 0
    published = run_cli(*cfg, "publish")
    assert published.code == 0, published.err
    assert issues.load(newsroom.issue(1)).status == "published"
    assert (newsroom.path / "site" / "issues" / "0001" / "index.html").is_file()


def test_store_is_sound_after_runs(run_cli, newsroom: Newsroom) -> None:
    daily(run_cli, newsroom, "2026-04-30")
    daily(run_cli, newsroom, "2026-04-30")
    db = sqlite3.connect(newsroom.path / ".digest" / "digest.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cached = db.execute("SELECT count(*) FROM briefs").fetchone()[0]
    assert cached == len(issues.load(newsroom.issue(1)).items)


def test_send_dry_run_writes_eml(run_cli, newsroom: Newsroom, tmp_path: Path) -> None:
    daily(run_cli, newsroom, "2026-04-30")
    out = tmp_path / "outbox"
    result = run_cli("--config", str(newsroom.config), "send", "--dry-run", "--out", str(out))
    assert result.code == 0, result.err
    written = sorted((out / "0001").glob("*.eml"))
    assert [p.name for p in written] == ["0001-a@example.org.eml", "0002-b@example.org.eml"]


@pytest.mark.parametrize("command", ["fetch", "draft", "daily"])
def test_missing_config_is_a_usage_error(run_cli, tmp_path: Path, command: str) -> None:
    result = run_cli("--config", str(tmp_path / "nope.yaml"), command)
    assert result.code == 2
    assert "nope.yaml" in result.err and "digest init" in result.err
