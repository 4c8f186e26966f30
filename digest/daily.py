"""The cron pipeline: lock, fetch → draft → (publish) → build → send, one summary line.

Made to run unattended: a second run while one is going stops at once and changes nothing; a run
killed at any point is finished by the next one (same date → same issue and number, a sent email
is never sent again, the site is swapped in whole); every run leaves a JSON record of what it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from digest import clock, newsletter
from digest import issue as issues
from digest.config import Config, Secrets
from digest.draft import make_draft
from digest.errors import EXIT_FAILED, DigestError, NothingNew
from digest.fetch import SourceOutcome, fetch_all
from digest.http import HttpClient
from digest.issue import Issue
from digest.progress import NoProgress, Progress, ProgressSummarizer
from digest.runs import DailyReport, remove_leftovers, run_lock, stage, write_run_record
from digest.site import BuildResult, build_site
from digest.store import Store
from digest.summarize.usage import metered


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
    """Run every stage for `day` (a date in feeds.yaml's timezone) under the run lock: fetch,
    draft, then `deliver` (publish when `publish`, or when it is None and `auto_publish` is on;
    build; email when `send` and email is set up). Returns the `DailyReport`, whose `exit_code`
    and `summary_line` the CLI prints; a day with nothing new is a report (exit code 3), not an
    error. Every run that takes the lock writes a JSON record of its report under the state
    folder's runs/, whether it succeeds or not.

    `http` replaces the HTTP client (tests); `on_source` is told each source's outcome as it
    finishes; `progress` is shown the stages and their counts.

    Raises DailyFailed (carrying the report and the cause's exit code) when the lock is held
    by another run (LockedError) or cannot be taken, or when a stage raises a DigestError; the
    OS and SQLite errors of a stage arrive as DigestError (`runs.stage`). Any other exception
    is a bug and propagates as it is, after the record is written."""
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

        def entering(name: str) -> None:
            report.stage = name

        delivered = deliver(
            config,
            store,
            issue,
            publish=should_publish,
            require_approval=False,
            send=send,
            progress=progress,
            on_stage=entering,
        )
        issue = delivered.issue
        report.published_now = delivered.published_now
        if issue is not None:
            report.number, report.status, report.items = (
                issue.number,
                issue.status,
                len(issue.items),
            )
        report.site_current = delivered.built.current
        if not delivered.built.current:
            report.pages, report.build_s = delivered.built.pages, delivered.build_seconds
        if delivered.sent is not None:
            sent = delivered.sent
            report.sent_number = delivered.sent_number
            report.sent, report.already_sent = len(sent.sent), len(sent.skipped)
            # Held: refused before, or in doubt after a crash mid-message; the operator decides.
            report.send_failed = {**sent.failed, **sent.held}
        report.waiting = issues.waiting_line(issues.load_all(config.issues_path), day)
        report.stage = "done"


def _draft(
    config: Config, store: Store, day: date, report: DailyReport, progress: Progress
) -> Issue | None:
    try:
        with metered() as meter:
            try:
                result = make_draft(config, store, day, ProgressSummarizer(config, progress))
            finally:  # a server that failed mid-run still cost what it answered
                if meter.items:
                    report.summarizer = meter.to_json(config.summarizer.price_per_1k_tokens)
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


# publish → build → send ----------------------------------------------------------------------
@dataclass
class Delivery:
    """What `deliver` did."""

    issue: Issue | None
    published_now: bool
    built: BuildResult
    build_seconds: float
    sent: newsletter.SendReport | None  # None: email not set up, not asked, or nothing to send
    sent_number: int | None = None
    # Every issue published by this call, oldest first: older approved drafts go out before
    # `issue`, since numbers follow dates.
    published: list[Issue] = field(default_factory=list)


def deliver(
    config: Config,
    store: Store,
    issue: Issue | None,
    *,
    publish: bool = True,
    require_approval: bool = True,
    older_need_approval: bool | None = None,
    send: bool = True,
    progress: Progress | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_sent: Callable[[str], None] | None = None,
) -> Delivery:
    """Publish `issue` (when `publish` and it is not yet), rebuild the site, and email the
    issue (when `send` and email is set up: email.subscribers and DIGEST_SMTP_HOST). With
    nothing newly published, a send that a crash or an outage interrupted is finished instead.
    The one route from a draft to readers: `digest daily` and `digest publish` both take it.

    Older drafts are published first, in date order (they must be approved unless
    `older_need_approval`, default `require_approval`, is off), and every issue published is
    sent, oldest first. `on_stage(name)` is told "publish", "build" and "send" as each
    begins; `on_sent(address)` each recipient whose message the server accepted. Returns a
    `Delivery`: the issue as it now is, whether it was published now, the build and its
    seconds, and the send report (None when nothing was sent).

    Raises DigestError from the stage that failed, its message naming the fix: from publish,
    an unapproved draft when `require_approval`, a later date already published, or
    IssueFileError for a number another file holds; from send, ConfigError (no subscribers
    file, bad DIGEST_SMTP_* values) or SendError (login, TLS or connection refused, the HTML
    over `email.max_html_bytes`). OS and SQLite errors arrive as DigestError (`runs.stage`);
    a broken template's jinja2 error is not converted."""
    progress = progress or NoProgress()
    on_stage = on_stage or (lambda name: None)
    published_now = False
    newly: list[Issue] = []
    if issue is not None and publish and issue.status != "published":
        on_stage("publish")
        progress.stage("publish")
        with stage(config, "publish"):
            newly = issues.publish_in_order(
                config,
                issue,
                require_approval=require_approval,
                older_need_approval=older_need_approval,
            )
        issue, published_now = newly[-1], True
    on_stage("build")
    progress.stage("build")
    started = time.monotonic()
    with stage(config, "build"):
        built = build_site(config)
    result = Delivery(issue, published_now, built, time.monotonic() - started, None, None, newly)
    if send and email_ready(config):
        on_stage("send")
        with stage(config, "send"):
            _send(config, store, result, progress, on_sent)
    return result


def email_ready(config: Config) -> bool:
    """Whether email is set up: a subscriber list in feeds.yaml and an SMTP host."""
    return bool(config.email.subscribers and Secrets.from_env().smtp_host)


def _send(
    config: Config,
    store: Store,
    result: Delivery,
    progress: Progress,
    on_sent: Callable[[str], None] | None,
) -> None:
    subscribers = newsletter.load_subscribers(config)
    targets = list(result.published)
    if not targets and result.issue is not None and result.issue.status == "published":
        targets = [result.issue]  # a run that died after publishing: finish its send
    if not targets:
        interrupted = _interrupted_send(config, store, subscribers)
        targets = [interrupted] if interrupted is not None else []
    if not targets:
        return
    settings = newsletter.SmtpSettings.from_env()

    def sent_one(address: str) -> None:
        progress.advance()
        if on_sent:
            on_sent(address)

    for target in targets:  # oldest first: readers get the issues in their order
        progress.stage("send", len(subscribers))
        report = newsletter.send(config, target, store, subscribers, settings, on_sent=sent_one)
        result.sent = report if result.sent is None else result.sent.merged(report)
        result.sent_number = target.number


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
