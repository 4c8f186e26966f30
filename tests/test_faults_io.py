"""`digest daily` when the world breaks: the network goes mid-run, the disk fills while the site
is written, the state folder is read-only, the store is corrupt. Each time: a clear message, a
non-zero exit, nothing half-written, and a normal re-run afterwards finishes the job."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import test_faults
from conftest import EXAMPLE_FEEDS, Newsroom, free_port
from pytest_httpserver import HTTPServer
from test_faults import (
    EMPTY_FEED,
    NEXT_DAY_FEED,
    ROOT,
    Inbox,
    assert_whole,
)
from werkzeug import Request, Response

from digest import issue as issues
from digest.config import load_config
from digest.daily import DailyFailed, run_daily
from digest.http import HttpClient
from digest.site import build as site_build

inbox = test_faults.inbox  # the real SMTP server fixture, shared

FEEDS = [
    ("google", "google-research", "rss", "google-research-blog.xml"),
    ("aws", "aws-ml", "rss", "aws-ml-blog.xml"),
    ("meta", "meta-ai-research", "rss", "meta-ai-research.xml"),
    ("arxiv", "arxiv-rss-cs-lg", "rss", "arxiv-rss-cs-lg.xml"),
    ("reddit", "reddit-ml", "reddit", "reddit-machinelearning.json"),
]


def daily(run_cli: Any, room: Newsroom, day: str, *extra: str) -> Any:
    return run_cli("--config", str(room.config), "daily", "--date", day, *extra)


# the network -------------------------------------------------------------------------------
def test_network_gone_mid_run_then_back(
    tmp_path: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    served = [0]

    def feed(name: str) -> Any:
        body = (EXAMPLE_FEEDS / name).read_bytes()

        def respond(request: Request) -> Response:
            served[0] += 1
            if served[0] == 2:  # the network goes away after this answer
                threading.Thread(target=server.stop, daemon=True).start()
            return Response(body, content_type="application/xml")

        return respond

    for *_, name in FEEDS:
        server.expect_request(f"/{name}").respond_with_handler(feed(name))
    server.start()
    port = server.port
    room = _room(tmp_path, f"http://127.0.0.1:{port}")
    config = load_config(room / "feeds.yaml")
    smtp_port = os.environ["DIGEST_SMTP_PORT"]  # the inbox fixture's server
    monkeypatch.setenv("DIGEST_SMTP_PORT", str(free_port()))  # the mail server is gone too
    http = HttpClient(retries=1, backoff_s=0.05, timeout=3.0)
    try:
        with pytest.raises(DailyFailed) as failed:
            run_daily(config, _day(), http=http)
        report = failed.value.report
        assert failed.value.exit_code == 1
        assert "cannot connect to SMTP server" in str(failed.value)
        assert len(report.fetch.failed) == 3, report.summary_line()
        for outcome in report.fetch.failed:
            assert f"{outcome.source_id} — " in report.summary_line()
        first = issues.load(room / "issues" / "0001.md")
        assert first.status == "published"
        assert {i.source_id for i in first.items} == {
            o.source_id for o in report.fetch.outcomes if not o.error
        }
        assert (room / "site" / "issues" / "0001" / "index.html").is_file()
        assert inbox.messages == []

        # The network is back: same port, the mail server answers again.
        server.clear()
        server = HTTPServer(host="127.0.0.1", port=port)
        for *_, name in FEEDS:
            body = (EXAMPLE_FEEDS / name).read_bytes()
            server.expect_request(f"/{name}").respond_with_data(body, content_type="text/xml")
        server.start()
        monkeypatch.setenv("DIGEST_SMTP_PORT", smtp_port)
        again = run_daily(config, _day(), http=http)
        assert again.exit_code == 0 and again.sent == 2, again.summary_line()
        assert not again.fetch.failed
        second = run_daily(config, _day(1), http=http)
        assert second.number == 2 and second.exit_code == 0, second.summary_line()
        recovered = issues.load(room / "issues" / "0002.md")
        failed_ids = {o.source_id for o in report.fetch.failed}
        assert {i.source_id for i in recovered.items} & failed_ids
        assert not recovered.item_ids & first.item_ids
        assert len(inbox.messages) == 4
    finally:
        if server.is_running():
            server.stop()


def _day(offset: int = 0) -> Any:
    from datetime import date, timedelta

    return date(2026, 4, 30) + timedelta(days=offset)


def _room(tmp_path: Path, base_url: str) -> Path:
    import yaml

    room = tmp_path / "room"
    room.mkdir()
    sections = [
        {
            "id": section,
            "title": section,
            "max_items": 3,
            "sources": [{"id": source, "type": kind, "url": f"{base_url}/{name}"}],
        }
        for section, source, kind, name in FEEDS
    ]
    settings = {
        "sections": sections,
        "select": {"window_days": None},
        "auto_publish": True,
        "email": {
            "from": "nb@example.org",
            "subscribers": "subscribers.csv",
            "retry_delay_seconds": 0.01,  # the mail server is down: no need to wait politely
        },
    }
    (room / "feeds.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (room / "subscribers.csv").write_text(
        "email,name\na@example.org,가나다\nb@example.org,\n", encoding="utf-8"
    )
    return room


# the disk ----------------------------------------------------------------------------------
def test_full_disk_while_writing_the_site(
    run_cli: Any, newsroom: Newsroom, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert daily(run_cli, newsroom, "2026-04-30").code == 0
    site = newsroom.path / "site"
    before = {p: p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}
    newsroom.server.clear()  # type: ignore[attr-defined]
    newsroom.serve("/feeds/google-research-blog.xml", NEXT_DAY_FEED)
    for *_, name in FEEDS[1:4]:
        newsroom.serve(f"/feeds/{name}", EMPTY_FEED)
    newsroom.serve("/feeds/reddit-machinelearning.json", '{"data": {"children": []}}')

    written = [0]
    real_write = site_build._write_new

    def filling_disk(path: Path, text: str) -> None:
        written[0] += 1
        if written[0] > 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)

    monkeypatch.setattr(site_build, "_write_new", filling_disk)
    full = daily(run_cli, newsroom, "2026-05-01")
    assert full.code == 1
    assert "build: the disk is full" in full.err and "free some space" in full.err
    assert "previous complete build" in full.err
    assert "FAILED at build" in full.err.splitlines()[-1]
    # The site is the old build, byte for byte, with no half-built folder beside it.
    assert {p: p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()} == before
    assert not list(newsroom.path.glob(".site.*"))
    assert issues.load(newsroom.issue(2)).status == "published"  # whole, and ready
    assert len(inbox.messages) == 2  # no email points at a page that is not there
    record = _last_record(newsroom)
    assert record["stage"] == "build" and "disk is full" in str(record["error"])

    monkeypatch.setattr(site_build, "_write_new", real_write)  # space freed
    again = daily(run_cli, newsroom, "2026-05-01")
    assert again.code == 0, again.err
    assert_whole(newsroom, inbox)
    assert len(inbox.messages) == 4


def _last_record(room: Newsroom) -> dict[str, Any]:
    runs = sorted(
        (room.path / ".digest" / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns
    )
    data: dict[str, Any] = json.loads(runs[-1].read_text(encoding="utf-8"))
    return data


def _readonly_command(state: Path, argv: list[str]) -> list[str] | None:
    """A command that runs `argv` with `state` read-only; None where this machine cannot."""
    if os.geteuid() != 0:
        return argv  # the caller has chmod-ed the folder; that binds a normal user
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "-rm", "true"], capture_output=True, timeout=10, check=False)
    if probe.returncode != 0:
        return None
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return [unshare, "-rm", "sh", "-c", script, "sh", str(state), *argv]


def test_read_only_state_folder(run_cli: Any, newsroom: Newsroom) -> None:
    assert daily(run_cli, newsroom, "2026-04-30", "--no-send").code == 0
    state = newsroom.path / ".digest"
    files = {p: p.read_bytes() for p in sorted(newsroom.path.rglob("*")) if p.is_file()}
    argv = [sys.executable, "-m", "digest", "--config", str(newsroom.config), "daily"]
    command = _readonly_command(state, [*argv, "--date", "2026-05-01", "--no-send"])
    if command is None:
        pytest.skip("root without user namespaces: no way to make a folder read-only here")
    modes = {p: p.stat().st_mode for p in [state, *state.rglob("*")]}
    if os.geteuid() != 0:
        for path in modes:
            path.chmod(path.stat().st_mode & ~0o222)
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            check=False,
        )
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert result.returncode == 1, result.stderr
    assert str(state) in result.stderr and "writable" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in sorted(newsroom.path.rglob("*")) if p.is_file()}
    assert after == files  # nothing anywhere was changed


# the store ---------------------------------------------------------------------------------
def test_corrupted_cache_entry(run_cli: Any, newsroom: Newsroom) -> None:
    assert daily(run_cli, newsroom, "2026-04-30", "--no-send", "--no-publish").code == 0
    newsroom.issue(1).unlink()  # the editor threw the draft away: it is drafted again
    db_path = newsroom.path / ".digest" / "digest.db"
    db = sqlite3.connect(db_path)
    with db:
        db.execute('UPDATE briefs SET data = \'{"summary": "cut off\' WHERE rowid = 1')
    db.close()
    # A damaged cache entry is a miss: the brief is made again and the entry rewritten whole.
    redrafted = daily(run_cli, newsroom, "2026-04-30", "--no-send", "--no-publish")
    assert redrafted.code == 0, redrafted.err
    assert "Traceback" not in redrafted.err
    assert issues.load(newsroom.issue(1)).items
    db = sqlite3.connect(db_path)
    rows = [json.loads(data) for (data,) in db.execute("SELECT data FROM briefs")]
    db.close()
    assert rows and all(isinstance(row, dict) for row in rows)


def test_corrupted_state_database(run_cli: Any, newsroom: Newsroom) -> None:
    assert daily(run_cli, newsroom, "2026-04-30", "--no-send").code == 0
    state = newsroom.path / ".digest"
    for extra in state.glob("digest.db-*"):
        extra.unlink()
    (state / "digest.db").write_bytes(b"this is not a database" * 200)
    issue_before = newsroom.issue(1).read_bytes()
    result = daily(run_cli, newsroom, "2026-05-01", "--no-send")
    assert result.code == 1
    assert str(state) in result.err and "state database" in result.err
    assert "Traceback" not in result.err
    assert newsroom.issue(1).read_bytes() == issue_before
    assert not newsroom.issue(2).exists()
