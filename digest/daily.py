"""The cron pipeline: lock, fetch → draft → (publish) → build → send, one summary line."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest import clock, newsletter, review
from digest.config import Config
from digest.draft import make_draft
from digest.errors import (
    EXIT_NOTHING_NEW,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    LockedError,
    NothingNew,
)
from digest.fetch import FetchReport, SourceOutcome, fetch_all
from digest.http import HttpClient
from digest.issue import Issue
from digest.render import build_site
from digest.store import Store, atomic_write


@contextmanager
def run_lock(state_dir: Path) -> Iterator[None]:
    """One run at a time. The OS drops the lock when its holder dies, so it is never stale."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise LockedError(
            f"another digest run holds {path} ({holder}) — wait for it to finish"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, started {clock.now().isoformat(timespec='seconds')}")
    handle.flush()
    try:
        yield
    finally:
        handle.truncate(0)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@dataclass
class DailyReport:
    day: date
    number: int | None = None
    status: str = ""
    items: int = 0
    added: int = 0
    cached: int = 0
    fetch: FetchReport = field(default_factory=FetchReport)
    pages: int = 0
    build_s: float = 0.0
    sent: int = 0
    written: int = 0
    nothing_new: bool = False
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.fetch.failed:
            return EXIT_SOURCE_FAILED
        return EXIT_NOTHING_NEW if self.nothing_new else EXIT_OK

    def summary_line(self) -> str:
        head = f"제 {self.number:04d}호" if self.number else f"{self.day.isoformat()}: no issue"
        sources = len(self.fetch.outcomes)
        parts = [f"{head}: {self.items} items from {sources} sources"]
        if self.fetch.failed:
            reasons = ", ".join(f"{o.source_id} — {o.error}" for o in self.fetch.failed)
            parts[0] += f" ({len(self.fetch.failed)} failed: {reasons})"
        parts.append(f"{self.added} new briefs ({self.cached} cached)")
        if self.status:
            parts.append(self.status)
        parts.append(f"site {self.pages} pages in {self.build_s:.1f} s")
        if self.sent or self.written:
            parts.append(f"email {self.sent} sent" if self.sent else f"{self.written} .eml written")
        return ", ".join(parts) + f" — {self.seconds:.1f} s"

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "number": self.number,
            "status": self.status,
            "items": self.items,
            "briefs_added": self.added,
            "briefs_cached": self.cached,
            "sources": [vars(o) for o in self.fetch.outcomes],
            "pages": self.pages,
            "sent": self.sent,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 2),
            "summary": self.summary_line(),
        }


def run_daily(
    config: Config,
    day: date,
    *,
    publish: bool | None = None,
    send: bool = True,
    http: HttpClient | None = None,
    on_source: Callable[[SourceOutcome], None] | None = None,
) -> DailyReport:
    started = time.monotonic()
    report = DailyReport(day)
    with run_lock(config.state_path), Store(config.state_path) as store:
        report.fetch = fetch_all(config, store, http, on_done=on_source)
        try:
            result = make_draft(config, store, day)
        except NothingNew:
            report.nothing_new = True
            result = None
        if result is not None:
            issue = result.issue
            report.added, report.cached = result.added, result.cached
            report.nothing_new = not result.changed and issue.status == "published"
            should_publish = config.auto_publish if publish is None else publish
            if should_publish and issue.status != "published":
                issue = review.publish(config, issue, require_approval=False)
            report.number, report.status = issue.number, issue.status
            report.items = len(issue.items)
        build_started = time.monotonic()
        built = build_site(config)
        report.pages, report.build_s = built.pages, time.monotonic() - build_started
        if result is not None and send and result.issue.status == "published":
            report.sent = _send_if_configured(config, result.issue, store)
    report.seconds = time.monotonic() - started
    _write_run_record(config, report)
    return report


def _send_if_configured(config: Config, issue: Issue, store: Store) -> int:
    if not config.email.subscribers or not os.environ.get("DIGEST_SMTP_HOST"):
        return 0  # email not set up: daily still makes the issue and the site
    subscribers = newsletter.load_subscribers(config)
    settings = newsletter.SmtpSettings.from_env()
    return len(newsletter.send(config, issue, store, subscribers, settings).sent)


def _write_run_record(config: Config, report: DailyReport) -> None:
    stamp = clock.now(config.timezone).strftime("%Y%m%dT%H%M%S")
    path = config.state_path / "runs" / f"{stamp}-{os.getpid()}.json"
    atomic_write(path, json.dumps(report.to_json(), ensure_ascii=False, indent=2))
