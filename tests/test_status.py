"""`digest status`: the last runs, the draft, the last published and sent issue, sources that keep
failing, and whether a run is going now."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conftest import Newsroom

from digest.runs import run_lock

EXAMPLES = Path(__file__).parents[1] / "examples" / "feeds"


def status(run_cli: Any, room: Newsroom, *extra: str) -> Any:
    result = run_cli("--config", str(room.config), "status", *extra)
    assert result.code == 0, result.err
    return result


def test_before_any_run(run_cli: Any, newsroom: Newsroom) -> None:
    err = status(run_cli, newsroom).out
    assert "last runs: none yet" in err
    assert "current draft: none" in err and "last published: none" in err
    assert "no run has finished" in err
    assert not (newsroom.path / ".digest" / "digest.db").exists()  # looking changes nothing


def test_after_days_with_a_failing_source(run_cli: Any, newsroom: Newsroom) -> None:
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/reddit-machinelearning.json", "blocked", status=403)
    for name in (
        "google-research-blog.xml",
        "aws-ml-blog.xml",
        "meta-ai-research.xml",
        "arxiv-rss-cs-lg.xml",
    ):
        newsroom.serve(f"/feeds/{name}", (EXAMPLES / name).read_bytes())
    cfg = ("--config", str(newsroom.config), "daily", "--no-send")
    for day in ("2026-04-30", "2026-05-01", "2026-05-01"):
        assert run_cli(*cfg, "--no-publish", "--date", day).code == 4

    err = status(run_cli, newsroom, "--runs", "2").out
    assert err.count("\n  [") == 2  # two runs shown
    assert "current draft: 제 000" in err and ", draft, " in err
    assert "last published: none" in err
    assert "failing: reddit-ml — 2 days in a row, 3 fetches in a row (HTTP 403" in err
    assert "last sent: none — no issue sent yet to the 2 subscribers" in err

    data = json.loads(status(run_cli, newsroom, "--json").out)
    assert [f["source_id"] for f in data["failing"]] == ["reddit-ml"]
    assert data["failing"][0]["days"] == 2 and data["failing"][0]["failures"] == 3
    assert data["published"] is None and data["draft"]["status"] == "draft"
    assert len(data["runs"]) == 3 and data["runs"][0]["date"] == "2026-05-01"


def test_a_run_in_progress_and_a_run_that_died(run_cli: Any, newsroom: Newsroom) -> None:
    state = newsroom.path / ".digest"
    with run_lock(state):
        err = status(run_cli, newsroom).out
    assert f"running now: pid {os.getpid()}, started " in err
    (state / "lock").write_text("pid 999999999, started 2026-04-30T07:30:00+09:00")
    err = status(run_cli, newsroom).out
    assert "the last run died without finishing (pid 999999999" in err


def test_last_sent_counts_the_send_log(run_cli: Any, newsroom: Newsroom, monkeypatch: Any) -> None:
    import sqlite3

    assert run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    db = sqlite3.connect(newsroom.path / ".digest" / "digest.db")
    with db:
        db.execute(
            "INSERT INTO send_log (issue_number, recipient, status, detail, at) "
            "VALUES (1, 'a@example.org', 'sent', '', '2026-04-30T07:31:00+09:00')"
        )
    db.close()
    err = status(run_cli, newsroom).out
    assert "last sent: 제 0001호 (2026-04-30): 1 of 2 sent, 1 not yet" in err
    assert "last published: 제 0001호 (2026-04-30, " in err and "current draft: none" in err


def test_last_sent_shows_refused_in_doubt_and_deferred(run_cli: Any, newsroom: Newsroom) -> None:
    import sqlite3

    (newsroom.path / "subscribers.csv").write_text(
        "email\na@example.org\nb@example.org\nc@example.org\nd@example.org\ne@example.org\n"
    )
    assert run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    db = sqlite3.connect(newsroom.path / ".digest" / "digest.db")
    with db:  # the states newsletter.smtp writes: sent, refused, sending (in doubt), deferred
        for recipient, state in [
            ("a@example.org", "sent"),
            ("b@example.org", "refused"),
            ("c@example.org", "sending"),
            ("d@example.org", "deferred"),
        ]:
            db.execute(
                "INSERT INTO send_log (issue_number, recipient, status, detail, at) "
                "VALUES (1, ?, ?, '', '2026-04-30T07:31:00+09:00')",
                (recipient, state),
            )
    db.close()
    err = status(run_cli, newsroom).out
    assert (
        "last sent: 제 0001호 (2026-04-30): 1 of 5 sent, 1 refused (fix, then `digest send --to "
        "ADDRESS --resend`), 1 in doubt (check the server's log), 1 to retry at the next send, "
        "1 not yet"
    ) in err
    sent = json.loads(status(run_cli, newsroom, "--json").out)["sent"]
    assert {k: sent[k] for k in ("sent", "refused", "in_doubt", "deferred", "pending")} == {
        "sent": 1,
        "refused": 1,
        "in_doubt": 1,
        "deferred": 1,
        "pending": 1,
    }
    assert sent["failed"] == 2 and sent["subscribers"] == 5
