"""Several drafts waiting: one number per draft in every command, publishing in date order, and
the age of what waits in `status` and the cron job's summary line."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import CliResult, Newsroom

from digest import issue as issues


def _draft(room: Newsroom, day: str, title: str, status: str = "draft") -> None:
    folder = room.path / "issues"
    item = issues.IssueItem(
        id=f"https://example.org/{day}", title=title, url=f"https://example.org/{day}",
        source_id="editor", summary="손으로 쓴 요약임.", significance="의의도 손으로 씀.",
    )  # fmt: skip
    number = issues.draft_number(issues.load_all(folder))
    issue = issues.Issue(
        number, date.fromisoformat(day), "뉴랄브리핑", status, [issues.Section("google", "구글 블로그", [item])]
    )  # fmt: skip
    issues.save(issue, folder)


@pytest.fixture
def two_drafts(run_cli, newsroom: Newsroom):  # type: ignore[no-untyped-def]
    """Drafts of 05-01 and 05-02 (files 0001 and 0002), nothing published."""
    _draft(newsroom, "2026-05-01", "첫째 날")
    _draft(newsroom, "2026-05-02", "둘째 날")

    def digest(*args: str) -> CliResult:
        return run_cli("--config", str(newsroom.config), *args)

    return digest


def test_publishing_the_newer_draft_is_refused_naming_the_older_one(two_drafts, newsroom) -> None:
    assert two_drafts("review", "--date", "2026-05-02", "approve").code == 0
    refused = two_drafts("publish", "--date", "2026-05-02", "--no-send")
    assert refused.code == 1
    assert "the draft of 2026-05-01 (0001.md) is older" in refused.err
    assert "digest review --date 2026-05-01 approve" in refused.err
    assert [i.status for i in issues.load_all(newsroom.path / "issues")] == ["draft", "approved"]
    forced = two_drafts("publish", "--date", "2026-05-02", "--force", "--no-send")
    assert forced.code == 1 and "is older" in forced.err  # --force is for this draft only


def test_approved_drafts_are_published_in_date_order(two_drafts, newsroom) -> None:
    for day in ("2026-05-01", "2026-05-02"):
        assert two_drafts("review", "--date", day, "approve").code == 0
    done = two_drafts("publish", "--no-send")  # the newest draft: the older goes out first
    assert done.code == 0, done.err
    assert "published first (an older draft, approved)" in done.err
    published = issues.published(issues.load_all(newsroom.path / "issues"))
    assert [(i.number, i.date.isoformat()) for i in published] == [
        (1, "2026-05-01"),
        (2, "2026-05-02"),
    ]


def test_every_command_gives_a_draft_the_same_number(two_drafts, newsroom) -> None:
    _draft(newsroom, "2026-04-30", "그 전날")  # file 0003, but it will be 제 0001호
    review = json.loads(two_drafts("review", "list", "--json", "--date", "2026-04-30").out)
    status = json.loads(two_drafts("status", "--json").out)
    numbers = {d["date"]: d["number"] for d in status["drafts"]}
    assert review["title"].startswith("제 0001호") and numbers["2026-04-30"] == 1
    assert numbers == {"2026-04-30": 1, "2026-05-01": 2, "2026-05-02": 3}
    assert two_drafts("build", "--drafts").code == 0
    page = (newsroom.path / "site" / "issues" / "0001" / "index.html").read_text()
    assert "그 전날" in page  # the preview shows it as 제 0001호, the number it will get


def test_status_and_daily_say_how_long_drafts_wait(two_drafts, newsroom, monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_NOW", "2026-05-05T08:00:00+09:00")  # a Tuesday
    shown = two_drafts("status")
    assert "2 drafts waiting since Friday (2026-05-01)" in shown.out
    assert "draft 제 0001호 (2026-05-01, draft, 1 items, 4 days old)" in shown.out
    data = json.loads(two_drafts("status", "--json").out)
    assert [d["age_days"] for d in data["drafts"]] == [4, 3]
    run = two_drafts("-q", "daily", "--date", "2026-05-05", "--no-send", "--no-publish")
    assert "drafts waiting since Friday (2026-05-01)" in run.out + run.err
    record = json.loads(sorted((newsroom.path / ".digest" / "runs").glob("*.json"))[-1].read_text())
    assert record["drafts_waiting"].startswith("3 drafts waiting since Friday")


def test_waiting_line_ignores_todays_lone_draft() -> None:
    today = date(2026, 5, 5)
    only_today = [issues.Issue(1, today, "뉴랄브리핑")]
    assert issues.waiting_line(only_today, today) == ""
    older = [issues.Issue(1, date(2026, 4, 1), "뉴랄브리핑"), *only_today]
    assert issues.waiting_line(older, today) == "2 drafts waiting since 2026-04-01, 34 days"
