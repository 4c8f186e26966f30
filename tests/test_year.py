"""A year of mornings with the clock pinned: weekends without arXiv, quiet days, a day the
network is down, a day the disk fills during the build. Numbers stay contiguous, no item is in
two issues, none is lost, and the archive holds every issue.

In-process and fast: a handler on the local HTTP server writes each day's small feeds.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug import Request, Response

from digest import issue as issues
from digest.config import load_config
from digest.daily import DailyFailed, run_daily
from digest.errors import EXIT_FAILED, EXIT_NOTHING_NEW, EXIT_OK
from digest.http import HttpClient
from digest.site import build as site_build

FIRST = date(2026, 1, 1)
DAYS = int(__import__("os").environ.get("YEAR_DAYS", "365"))
NETWORK_DOWN = date(2026, 3, 17)  # a Tuesday: every source fails, the next day recovers
DISK_FULL = date(2026, 6, 10)  # the build fails once; a re-run the same morning completes it


class Newswire:
    """Each day's feeds, as the sources would publish them; remembers every item it made."""

    def __init__(self) -> None:
        self.today = FIRST
        self.made: dict[str, date] = {}  # item id → the day it was published

    def posts(self, source: str, day: date) -> list[tuple[str, str, datetime]]:
        """(id-ish slug, title, published) of what `source` published on `day`."""
        n = day.toordinal()
        weekend = day.weekday() >= 5
        if source == "blog":
            count = 1 if n % 4 == 0 else 0  # a post every few days
        elif source == "arxiv":
            count = 0 if weekend else 2  # arXiv announces nothing at weekends
        else:
            count = 0 if weekend or n % 5 == 0 else 1  # reddit: quiet some weekdays
        at = datetime.combine(day, time(12, 0), tzinfo=UTC)
        return [
            (f"{source}-{day.isoformat()}-{k}", f"{source} news {day.isoformat()} #{k}", at)
            for k in range(count)
        ]

    def recent(self, source: str) -> list[tuple[str, str, datetime]]:
        """A feed lists the last three days, as real feeds list their recent entries."""
        found = []
        for back in (1, 2, 3):
            found += self.posts(source, self.today - timedelta(days=back))
        return found

    def handler(self, source: str) -> Any:
        def respond(request: Request) -> Response:
            if self.today == NETWORK_DOWN:
                return Response("down", status=404)
            if source == "reddit":
                return Response(self._reddit(), content_type="application/json")
            return Response(self._rss(source), content_type="application/rss+xml")

        return respond

    def _rss(self, source: str) -> str:
        entries = []
        for slug, title, at in self.recent(source):
            url = f"https://{source}.example.org/{slug}/"
            self.made.setdefault(url, at.date())
            entries.append(
                f"<item><title>{title}</title><link>{url}</link><guid>{url}</guid>"
                f"<pubDate>{at.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
                f"<description>{title} shows a new method. It matters for models.</description>"
                "</item>"
            )
        return (
            f"<rss version='2.0'><channel><title>{source}</title>{''.join(entries)}</channel></rss>"
        )

    def _reddit(self) -> str:
        children = []
        for slug, title, at in self.recent("reddit"):
            post = slug.replace("-", "")
            self.made.setdefault(f"reddit:{post}", at.date())
            children.append(
                {
                    "kind": "t3",
                    "data": {
                        "id": post,
                        "title": title,
                        "permalink": f"/r/MachineLearning/comments/{post}/x/",
                        "url": f"https://www.reddit.com/r/MachineLearning/comments/{post}/x/",
                        "created_utc": at.timestamp(),
                        "score": 10,
                        "selftext": f"{title}: a question about training.",
                        "author": "someone",
                    },
                }
            )
        return json.dumps({"data": {"children": children}})


@pytest.fixture
def year_room(tmp_path: Path, httpserver: Any) -> Iterator[tuple[Path, Newswire]]:
    # A year of fsyncs (each run commits to SQLite and writes files atomically) costs minutes on
    # a slow disk and nothing on tmpfs; durability is the fault tests' business, not this one's.
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    room = Path(tempfile.mkdtemp(dir=base, prefix="digest-year-"))
    try:
        yield _year_room(room, httpserver)
    finally:
        shutil.rmtree(room, ignore_errors=True)


def _year_room(room: Path, httpserver: Any) -> tuple[Path, Newswire]:
    wire = Newswire()
    sections = []
    for source, kind in (("blog", "rss"), ("arxiv", "rss"), ("reddit", "reddit")):
        httpserver.expect_request(f"/{source}").respond_with_handler(wire.handler(source))
        sections.append(
            {
                "id": source,
                "title": source,
                "max_items": 20,
                "sources": [{"id": source, "type": kind, "url": httpserver.url_for(f"/{source}")}],
            }
        )
    settings = {
        "sections": sections,
        "select": {"window_days": 3},
        "auto_publish": True,
        "site": {"output": "site", "url": "https://example.org/"},
    }
    (room / "feeds.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return room, wire


def faster_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """365 runs in one process: parse YAML with libyaml where present and compile the Jinja
    templates once, as each morning's fresh process would do them once too."""
    if yaml.__with_libyaml__:
        monkeypatch.setattr(
            yaml, "safe_load", lambda text: yaml.load(text, Loader=yaml.CSafeLoader)
        )
    made: dict[int, Any] = {}
    original = site_build.template_env

    def template_env(config: Any) -> Any:
        if id(config) not in made:
            made[id(config)] = original(config)
        return made[id(config)]

    monkeypatch.setattr(site_build, "template_env", template_env)
    # Every stage re-reads every issue file (the files are the source of truth); a year in one
    # process would spend most of its time parsing the same unchanged text again.
    # Each caller gets its own copy (a pickle round trip: callers change what they load).
    parsed: dict[tuple[str, str], bytes] = {}
    parse = issues.parse

    def parse_once(text: str, path: Path | None = None) -> issues.Issue:
        key = (text, str(path))
        if key not in parsed:
            parsed[key] = pickle.dumps(parse(text, path))
        issue: issues.Issue = pickle.loads(parsed[key])
        return issue

    monkeypatch.setattr(issues, "parse", parse_once)


def test_a_year_of_mornings(
    year_room: tuple[Path, Newswire], monkeypatch: pytest.MonkeyPatch
) -> None:
    room, wire = year_room
    faster_in_process(monkeypatch)
    config = load_config(room / "feeds.yaml")
    http = HttpClient(retries=0)  # the down day fails at once instead of backing off
    codes: dict[date, int] = {}
    real_write = site_build._write_new

    def full_disk(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    for offset in range(DAYS):
        day = FIRST + timedelta(days=offset)
        wire.today = day
        monkeypatch.setenv("DIGEST_NOW", f"{day.isoformat()}T07:30:00+09:00")
        if day == DISK_FULL:
            monkeypatch.setattr(site_build, "_write_new", full_disk)
        try:
            codes[day] = run_daily(config, day, send=False, http=http).exit_code
        except DailyFailed as failed:
            codes[day] = failed.exit_code
            assert day in (NETWORK_DOWN, DISK_FULL), f"{day}: {failed}"
            if day == DISK_FULL:
                assert "disk is full" in str(failed)
                monkeypatch.setattr(site_build, "_write_new", real_write)
                again = run_daily(config, day, send=False, http=http)  # space freed, re-run
                assert again.exit_code == EXIT_NOTHING_NEW and again.pages, again.summary_line()

    assert codes[NETWORK_DOWN] == EXIT_FAILED and codes[DISK_FULL] == EXIT_FAILED
    quiet = [d for d, code in codes.items() if code == EXIT_NOTHING_NEW]
    assert quiet, "a quiet day (nothing since yesterday) makes no issue and exits 3"
    assert set(codes.values()) == {EXIT_OK, EXIT_NOTHING_NEW, EXIT_FAILED}

    made = issues.load_all(room / "issues")
    assert all(i.status == "published" for i in made)
    assert [i.number for i in made] == list(range(1, len(made) + 1)), "numbers have a gap"
    assert [i.date for i in made] == sorted(i.date for i in made)
    assert len({i.date for i in made}) == len(made), "two issues for one day"
    published_days = {i.date for i in made}
    for day, code in codes.items():
        assert (day in published_days) == (code == EXIT_OK or day == DISK_FULL), day
    # No item in two issues, and none lost: everything the sources said is in exactly one issue.
    ids = [item_id for i in made for item_id in i.item_ids]
    assert len(ids) == len(set(ids)), "an item is in two issues"
    assert set(ids) == set(wire.made), "an item never made it into an issue"
    # The day after the outage carries what the outage kept back.
    after_outage = issues.for_date(made, NETWORK_DOWN + timedelta(days=1))
    assert after_outage is not None
    assert any(wire.made[i] == NETWORK_DOWN - timedelta(days=1) for i in after_outage.item_ids)

    site = room / "site"
    for issue in made:
        page = site / "issues" / f"{issue.number:04d}" / "index.html"
        assert issue.title in page.read_text(encoding="utf-8"), page
    archive = site / "archive" / "index.html"
    if archive.is_file():  # the archive page, where the site has one
        text = archive.read_text(encoding="utf-8")
        assert all(f"issues/{i.number:04d}/" in text for i in made)
    db = sqlite3.connect(room / ".digest" / "digest.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert len(list((room / ".digest" / "runs").glob("*.json"))) == DAYS + 1
