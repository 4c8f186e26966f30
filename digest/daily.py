"""The cron pipeline: lock, fetch → draft → (publish) → build → send, one summary line.

Made to run unattended: a second run while one is going stops at once and changes nothing; a run
killed at any point is finished by the next one (same date → same issue and number, a sent email
is never sent again, the site is swapped in whole); every run leaves a JSON record of what it did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date

from digest import clock, newsletter, review
from digest import issue as issues
from digest.config import Config
from digest.draft import make_draft
from digest.errors import EXIT_FAILED, DigestError, NothingNew
from digest.fetch import SourceOutcome, fetch_all
from digest.http import HttpClient
from digest.issue import Issue
from digest.progress import NoProgress, Progress, ProgressSummarizer
from digest.runs import DailyReport, remove_leftovers, run_lock, stage, write_run_record
from digest.site import build_site
from digest.store import Store


class DailyFailed(DigestError):
    """A stage failed; carries the run's report so the CLI can still print the summary line."""

    def __init__(self, cause: DigestError, report: DailyReport) -> None:
        super().__init__(str(cause))
        self.exit_code = cause.exit_code
        self.report = report


# the run -------------------------------------------------------------------------------------
def run_daily(
    config: Config,
    day: date,
    *,
    publish: bool | None = None,
    send: bool = True,
    http: HttpClient | None = None,
    on_source: Callable[[SourceOutcome], None] | None = None,
    progress: Progress | None = None,
) -> DailyReport:
    """Run every stage for `day`. Raises `DailyFailed` (with the report) when a stage fails."""
    started = time.monotonic()
    report = DailyReport(day, started_at=clock.now(config.timezone).isoformat(timespec="seconds"))
    report.stage = "lock"
    try:
        with run_lock(config.state_path, config.timezone) as stale:
            report.took_over = stale
            try:
                _run_stages(
                    config, report, publish, send, http, on_source, progress or NoProgress()
                )
            except DigestError as exc:
                report.error, report.error_exit = str(exc), exc.exit_code
                raise
            except Exception as exc:  # a bug: the record still says where it stopped
                report.error = f"unexpected {type(exc).__name__}: {exc}"
                report.error_exit = EXIT_FAILED
                raise
            finally:
                report.seconds = time.monotonic() - started
                write_run_record(config, report)
    except DigestError as exc:
        report.error, report.error_exit = str(exc), exc.exit_code
        report.seconds = time.monotonic() - started
        raise DailyFailed(exc, report) from None
    return report


def _run_stages(
    config: Config,
    report: DailyReport,
    publish: bool | None,
    send: bool,
    http: HttpClient | None,
    on_source: Callable[[SourceOutcome], None] | None,
    progress: Progress,
) -> None:
    day = report.day
    report.stage = "open"
    with stage(config, "open"):
        store = Store(config.state_path)
    with store:
        remove_leftovers(config)

        def fetched(outcome: SourceOutcome) -> None:
            progress.advance()
            if on_source:
                on_source(outcome)

        report.stage = "fetch"
        progress.stage("fetch", len(config.sources))
        with stage(config, "fetch"):
            report.fetch = fetch_all(config, store, http, on_done=fetched)

        report.stage = "draft"
        progress.stage("draft")
        with stage(config, "draft"):
            issue = _draft(config, store, day, report, progress)

        should_publish = config.auto_publish if publish is None else publish
        if issue is not None and should_publish and issue.status != "published":
            report.stage = "publish"
            progress.stage("publish")
            with stage(config, "publish"):
                issue = review.publish(config, issue, require_approval=False)
            report.published_now = True
        if issue is not None:
            report.number, report.status, report.items = (
                issue.number,
                issue.status,
                len(issue.items),
            )

        report.stage = "build"
        progress.stage("build")
        with stage(config, "build"):
            _build(config, report)

        if send:
            report.stage = "send"
            with stage(config, "send"):
                _send(config, store, issue, report, progress)
        report.stage = "done"


def _draft(
    config: Config, store: Store, day: date, report: DailyReport, progress: Progress
) -> Issue | None:
    try:
        result = make_draft(config, store, day, ProgressSummarizer(config, progress))
    except NothingNew:
        # An empty issue only on purpose, and never because the network was down.
        if not config.publish_empty or report.fetch.failed:
            return None
        all_issues = issues.load_all(config.issues_path)
        empty = Issue(number=issues.draft_number(all_issues), date=day, name=config.title)
        issues.save(empty, config.issues_path)
        report.drafted = True
        return empty
    report.added, report.cached = result.added, result.cached
    report.drafted = result.changed
    return result.issue


def _build(config: Config, report: DailyReport) -> None:
    """Rebuild site/ unless nothing it is made from changed since the last complete build."""
    started = time.monotonic()
    built = build_site(config)
    report.site_current = built.current
    if not built.current:
        report.pages, report.build_s = built.pages, time.monotonic() - started


def _send(
    config: Config, store: Store, issue: Issue | None, report: DailyReport, progress: Progress
) -> None:
    if not config.email.subscribers or not os.environ.get("DIGEST_SMTP_HOST"):
        return  # email not set up: daily still makes the issue and the site
    subscribers = newsletter.load_subscribers(config)
    target = issue if issue is not None and issue.status == "published" else None
    if target is None:
        target = _interrupted_send(config, store, subscribers)
    if target is None:
        return
    settings = newsletter.SmtpSettings.from_env()
    progress.stage("send", len(subscribers))
    sent = newsletter.send(
        config, target, store, subscribers, settings, on_sent=lambda _: progress.advance()
    )
    report.sent_number = target.number
    report.sent, report.already_sent = len(sent.sent), len(sent.skipped)
    # Held: refused before, or in doubt after a crash mid-message; the operator decides.
    report.send_failed = {**sent.failed, **sent.held}


def _interrupted_send(
    config: Config, store: Store, subscribers: list[newsletter.Subscriber]
) -> Issue | None:
    """The latest published issue when its sending started but did not finish (a crash, an
    SMTP outage): a day with nothing new still completes it. Never starts an old issue afresh;
    refused and in-doubt recipients wait for the operator (`digest send --resend`)."""
    published = issues.published(issues.load_all(config.issues_path))
    if not published:
        return None
    latest = published[-1]
    states = [store.sent_status(latest.number, s.email) for s in subscribers]
    started = any(state is not None for state in states)
    unfinished = any(state in (None, newsletter.DEFERRED) for state in states)
    return latest if started and unfinished else None
