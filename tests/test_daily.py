"""The walking skeleton end to end: `digest daily` against a real local HTTP server."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import CliResult, Newsroom

from digest import issue as issues

EXAMPLES = Path(__file__).parents[1] / "examples" / "feeds"
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
    assert run_cli(*cfg, "review", "approve", "--yes").code == 0
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


# The cron job an operator can forget about (issue 9) -----------------------------------------
SUMMARY = re.compile(
    r"^제 0001호: \d+ items from 5 sources, \d+ briefs \(\d+ cached\), "
    r"site [\d,]+ pages in \d+\.\d s — \d+\.\d s$"
)
QUIET_FEEDS = {
    "google-research-blog.xml": "<rss version='2.0'><channel><title>t</title></channel></rss>",
    "aws-ml-blog.xml": "<rss version='2.0'><channel><title>t</title></channel></rss>",
    "meta-ai-research.xml": "<rss version='2.0'><channel><title>t</title></channel></rss>",
    "arxiv-rss-cs-lg.xml": "<rss version='2.0'><channel><title>t</title></channel></rss>",
    "reddit-machinelearning.json": '{"data": {"children": []}}',
}


def quiet_day(room: Newsroom) -> None:
    room.server.clear()  # type: ignore[attr-defined]
    for name, body in QUIET_FEEDS.items():
        room.serve(f"/feeds/{name}", body)


def test_summary_line_and_run_record(run_cli, newsroom: Newsroom) -> None:
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 0, result.err
    assert SUMMARY.match(result.err.splitlines()[-1]), result.err
    (record_path,) = (newsroom.path / ".digest" / "runs").glob("*.json")
    record = json.loads(record_path.read_text())
    assert record["summary"] == result.err.splitlines()[-1]
    assert record["exit_code"] == 0 and record["stage"] == "done" and record["error"] is None
    assert record["published_now"] is True and record["pages"] >= 2
    assert record["sources"][0]["source_id"] == "google-research"


def test_quiet_flag_prints_the_summary_line_alone(run_cli, newsroom: Newsroom) -> None:
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", "gone", status=404)
    for name in ("aws-ml-blog.xml", "meta-ai-research.xml", "arxiv-rss-cs-lg.xml"):
        newsroom.serve(f"/feeds/{name}", (EXAMPLES / name).read_bytes())
    newsroom.serve(
        "/feeds/reddit-machinelearning.json",
        (EXAMPLES / "reddit-machinelearning.json").read_bytes(),
    )
    result = run_cli(
        "--config", str(newsroom.config), "-q", "daily", "--date", "2026-04-30", "--no-send"
    )
    assert result.code == 4
    assert result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line.startswith("제 0001호: ") and "(1 failed: google-research — HTTP 404" in line


def test_quiet_day_makes_no_issue_and_exits_3(run_cli, newsroom: Newsroom) -> None:
    quiet_day(newsroom)
    result = daily(run_cli, newsroom, "2026-05-02")
    assert result.code == 3, result.err
    assert result.err.splitlines()[-1].startswith("2026-05-02: no issue: 0 items")
    assert "nothing new" in result.err.splitlines()[-1]
    assert not (newsroom.path / "issues").exists() or not list(
        (newsroom.path / "issues").glob("*.md")
    )


def test_publish_empty_makes_an_empty_issue(run_cli, newsroom: Newsroom) -> None:
    newsroom.config.write_text(newsroom.config.read_text() + "publish_empty: true\n")
    quiet_day(newsroom)
    result = daily(run_cli, newsroom, "2026-05-02")
    assert result.code == 0, result.err
    empty = issues.load(newsroom.issue(1))
    assert empty.status == "published" and empty.items == []
    assert (newsroom.path / "site" / "issues" / "0001" / "index.html").is_file()
    assert daily(run_cli, newsroom, "2026-05-02").code == 3  # still one issue for the day


def test_publish_empty_never_covers_for_a_network_failure(run_cli, newsroom: Newsroom) -> None:
    newsroom.config.write_text(newsroom.config.read_text() + "publish_empty: true\n")
    quiet_day(newsroom)
    newsroom.server.clear()  # type: ignore[attr-defined]
    for name in QUIET_FEEDS:
        newsroom.serve(f"/feeds/{name}", "no", status=403)
    result = daily(run_cli, newsroom, "2026-05-02")
    assert result.code == 1, result.err  # every source failed: that is a failure, not a day off
    assert not newsroom.issue(1).exists()


def test_no_publish_flag_overrides_auto_publish(run_cli, newsroom: Newsroom) -> None:
    result = daily(run_cli, newsroom, "2026-04-30", "--no-publish")
    assert result.code == 0, result.err
    assert issues.load(newsroom.issue(1)).status == "draft"
    assert result.err.splitlines()[-1].startswith("제 0001호 (draft): ")


def test_a_held_lock_stops_a_second_run_at_once(run_cli, newsroom: Newsroom) -> None:
    from digest.runs import run_lock

    state = newsroom.path / ".digest"
    with run_lock(state):
        started = time.monotonic()
        result = daily(run_cli, newsroom, "2026-04-30")
        assert time.monotonic() - started < 2
    assert result.code == 1
    assert f"pid {os.getpid()}, started " in result.err and "changed nothing" in result.err
    assert result.err.splitlines()[-1].startswith("2026-04-30: not run (another digest run")
    assert not (newsroom.path / "issues").exists() and not (newsroom.path / "site").exists()
    assert not (state / "runs").exists()
    assert (state / "lock").read_text() == ""  # released cleanly: nothing for the next run


def test_a_dead_holders_lock_is_taken_over(run_cli, newsroom: Newsroom) -> None:
    state = newsroom.path / ".digest"
    state.mkdir()
    (state / "lock").write_text("pid 999999999, started 2026-04-30T07:30:00+09:00")
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 0, result.err
    assert "finished the work of a run that died: pid 999999999" in result.err
    record = json.loads(next((state / "runs").glob("*.json")).read_text())
    assert record["took_over_lock_from"].startswith("pid 999999999")


def test_a_link_planted_as_the_lock_is_refused_not_followed(run_cli, newsroom: Newsroom) -> None:
    """Security class 5: the lock is opened with O_NOFOLLOW; its target is never touched."""
    state = newsroom.path / ".digest"
    state.mkdir()
    target = newsroom.path.parent / "outside.txt"
    target.write_text("not digest's")
    (state / "lock").symlink_to(target)
    result = daily(run_cli, newsroom, "2026-04-30")
    assert result.code == 1 and "is a symbolic link" in result.err and "Traceback" not in result.err
    assert target.read_text() == "not digest's"
    assert not (newsroom.path / "issues").exists()  # nothing was changed


def test_progress_bars_only_on_a_terminal(run_cli, newsroom: Newsroom, monkeypatch) -> None:
    import io

    from rich.console import Console

    from digest.cli import common
    from digest.cli import daily as daily_cli

    plain = daily(run_cli, newsroom, "2026-04-30", "--no-publish")
    assert plain.code == 0 and "━" not in plain.err  # not a terminal: the summary line alone
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(daily_cli, "err", terminal)
    monkeypatch.setattr(common, "err", terminal)  # the bars live with the other CLI output
    assert daily(run_cli, newsroom, "2026-04-30").code == 0
    drawn = screen.getvalue()
    assert "fetch" in drawn and "build" in drawn and "━" in drawn and "제 0001호: " in drawn


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.84, "0.8 s"), (42.4, "42 s"), (192, "3 m 12 s"), (3900, "1 h 05 m")],
)
def test_duration(seconds: float, text: str) -> None:
    from digest.runs import duration

    assert duration(seconds) == text


def test_shipped_schedules_run_the_job_and_explain_the_exit_codes() -> None:
    import subprocess

    import yaml

    root = Path(__file__).parents[1]
    crontab = (root / "contrib/cron/digest.crontab").read_text(encoding="utf-8")
    service = (root / "contrib/systemd/digest-daily.service").read_text(encoding="utf-8")
    timer = (root / "contrib/systemd/digest-daily.timer").read_text(encoding="utf-8")
    workflow_text = (root / "contrib/github-actions/daily.yml").read_text(encoding="utf-8")
    guide = (root / "docs/scheduling.md").read_text(encoding="utf-8")

    assert "CRON_TZ=Asia/Seoul" in crontab.splitlines()
    (job,) = [line for line in crontab.splitlines() if line.startswith("30 7 * * *")]
    assert "digest -q daily" in job
    shell = job.split(None, 5)[5]
    assert subprocess.run(["sh", "-n", "-c", shell], check=False).returncode == 0
    assert "ExecStart=/srv/newsletter/.venv/bin/digest -q daily" in service
    assert "SuccessExitStatus=3 4" in service
    assert "OnCalendar=*-*-* 07:30:00 Asia/Seoul" in timer and "Persistent=true" in timer

    workflow = yaml.safe_load(workflow_text)
    assert workflow[True]["schedule"] == [{"cron": "30 22 * * *"}]  # YAML reads `on` as True
    steps = workflow["jobs"]["issue"]["steps"]
    runs = "\n".join(str(step.get("run", "")) for step in steps)
    assert "digest -q daily --no-send" in runs and "git add issues/" in runs
    assert any(step.get("with", {}).get("path") == ".digest" for step in steps)
    assert any("huggingface" in str(step.get("with", {}).get("path")) for step in steps)
    assert any("upload-pages-artifact" in str(step.get("uses")) for step in steps)
    assert workflow["jobs"]["send"]["needs"] == ["issue", "deploy"]

    for text in (crontab, service, workflow_text, guide):
        for code in "01234":
            assert re.search(rf"\b{code}\b", text), f"exit code {code} is not explained"
    assert "nothing new" in guide and "another run holds the lock" in guide


def test_a_reddit_thread_linking_a_blog_post_shows_as_its_discussion(
    run_cli, newsroom: Newsroom
) -> None:
    thread = {
        "kind": "t3",
        "data": {
            "id": "zz1",
            "title": "[D] Google's predictable routing for MoE",
            "permalink": "/r/MachineLearning/comments/zz1/d_routing/",
            "url": "https://research.google/blog/scaling-mixture-of-experts-models-with-predictable-routing/",
            "created_utc": 1777500000,
            "score": 321,
            "num_comments": 45,
            "author": "someone",
            "selftext": "",
        },
    }
    newsroom.server.clear()  # type: ignore[attr-defined]
    examples = Path(__file__).parents[1] / "examples/feeds"
    for name in (
        "google-research-blog.xml",
        "aws-ml-blog.xml",
        "meta-ai-research.xml",
        "arxiv-rss-cs-lg.xml",
    ):
        newsroom.serve(f"/feeds/{name}", (examples / name).read_bytes())
    newsroom.serve(
        "/feeds/reddit-machinelearning.json", json.dumps({"data": {"children": [thread]}})
    )
    assert daily(run_cli, newsroom, "2026-04-30").code == 0
    text = newsroom.issue(1).read_text()
    line = "- 토론: [레딧] [\\[D\\] Google's predictable routing for MoE](https://www.reddit.com/r/MachineLearning/comments/zz1/d_routing/) · 점수 321 · 댓글 45"
    assert line in text
    google = issues.load(newsroom.issue(1)).section("google")
    assert google is not None and line in google.items[0].other_lines
    page = (newsroom.path / "site" / "issues" / "0001" / "index.html").read_text()
    assert "토론: [레딧]" in page and "comments/zz1/d_routing/" in page
