"""The cron pipeline: lock, fetch → draft → (publish) → build → send, one summary line.

Made to run unattended: a second run while one is going stops at once and changes nothing; a run
killed at any point is finished by the next one (same date → same issue and number, a sent email
is never sent again, the site is swapped in whole); every run leaves a JSON record of what it did.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Protocol

from digest import __version__, clock, newsletter, review
from digest import issue as issues
from digest.config import Config
from digest.draft import make_draft
from digest.errors import (
    EXIT_FAILED,
    EXIT_NOTHING_NEW,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    DigestError,
    LockedError,
    NothingNew,
)
from digest.fetch import FetchReport, SourceOutcome, fetch_all
from digest.http import HttpClient
from digest.issue import Issue
from digest.models import Brief, Item
from digest.render import BUNDLED_TEMPLATES, build_site
from digest.store import Store, atomic_write
from digest.summarize import Summarizer, make_summarizer

# A crashed run's temporary files are removed by a later run once they are this old: younger
# ones may belong to a `digest build` or `publish` running right now outside the lock.
LEFTOVER_AGE_S = 600.0
LOCK_NAME = "lock"
SITE_STAMP = "site-build.json"


class DailyFailed(DigestError):
    """A stage failed; carries the run's report so the CLI can still print the summary line."""

    def __init__(self, cause: DigestError, report: DailyReport) -> None:
        super().__init__(str(cause))
        self.exit_code = cause.exit_code
        self.report = report


class Progress(Protocol):
    """What the pipeline tells a progress display; the CLI draws bars only on a terminal."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class NoProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


# the lock ------------------------------------------------------------------------------------
@contextmanager
def run_lock(state_dir: Path, timezone: str = "UTC") -> Iterator[str | None]:
    """One run at a time; yields the description of a dead holder whose lock was taken over.

    flock is dropped by the kernel when its holder dies, however it dies, so a lock is never
    stale in the kernel; the file's text is what a dead holder leaves behind, and a run that
    finds text there says whose crashed run it is finishing.
    """
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise DigestError(
            f"{path}: cannot create the lock file ({exc.strerror or exc}) — the state folder "
            f"{state_dir} must be writable by this user; fix its permissions or set state_dir: "
            "in feeds.yaml. Nothing was changed."
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(handle)
        handle.close()
        raise LockedError(
            f"another digest run holds {path} ({holder}) — it is doing this work; "
            "this run changed nothing"
        ) from None
    except OSError as exc:  # e.g. ENOLCK: a network filesystem without locks
        handle.close()
        raise DigestError(
            f"{path}: cannot take the lock ({exc.strerror or exc}) — put state_dir: on a local "
            "disk. Nothing was changed."
        ) from None
    handle.seek(0)
    stale = handle.read().strip() or None
    started = clock.now(timezone).isoformat(timespec="seconds")
    with suppress(OSError):  # the note is for people; a full disk is reported by the stage
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {started}")
        handle.flush()
    try:
        yield stale
    finally:
        with suppress(OSError):
            handle.truncate(0)  # an empty file means the last holder finished cleanly
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _read_holder(handle: IO[str]) -> str:
    """The holder writes its line right after taking the lock: give it a moment to appear."""
    for _ in range(10):
        handle.seek(0)
        text = handle.read().strip()
        if text:
            return text
        time.sleep(0.02)
    return "a process that has not written its pid yet"


def lock_holder(state_dir: Path) -> tuple[str, bool] | None:
    """(who, alive) from the lock file without taking the lock; None when nobody holds it."""
    path = state_dir / LOCK_NAME
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        pid = int(text.split(",")[0].removeprefix("pid").strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return text, False
    except PermissionError:
        return text, True  # alive, owned by another user
    return text, True


# the report ----------------------------------------------------------------------------------
@dataclass
class DailyReport:
    day: date
    started_at: str = ""
    number: int | None = None
    status: str = ""
    items: int = 0
    added: int = 0
    cached: int = 0
    fetch: FetchReport = field(default_factory=FetchReport)
    drafted: bool = False  # the issue file was written by this run
    published_now: bool = False
    pages: int = 0
    build_s: float = 0.0
    site_current: bool = False  # nothing changed since the last build: not rebuilt
    sent_number: int | None = None
    sent: int = 0
    already_sent: int = 0
    send_failed: dict[str, str] = field(default_factory=dict)
    stage: str = ""  # the stage running when it stopped
    error: str = ""
    error_exit: int = 0
    took_over: str | None = None
    seconds: float = 0.0

    @property
    def all_sources_failed(self) -> bool:
        outcomes = self.fetch.outcomes
        return bool(outcomes) and len(self.fetch.failed) == len(outcomes)

    @property
    def did_something(self) -> bool:
        # A rebuilt site alone is not news: finishing a crashed run's build is still "nothing new".
        return bool(self.drafted or self.published_now or self.sent)

    @property
    def exit_code(self) -> int:
        if self.error:
            return self.error_exit or EXIT_FAILED
        if self.send_failed or (self.all_sources_failed and not self.did_something):
            return EXIT_FAILED
        if self.fetch.failed:
            return EXIT_SOURCE_FAILED
        return EXIT_OK if self.did_something else EXIT_NOTHING_NEW

    def summary_line(self) -> str:
        if self.error and self.stage == "lock":
            return f"{self.day.isoformat()}: not run ({self.error.split(' — ')[0]})"
        if self.number is not None:
            head = f"제 {self.number:04d}호" + (
                "" if self.status == "published" else f" ({self.status})"
            )
        else:
            head = f"{self.day.isoformat()}: no issue"
        sources = len(self.fetch.outcomes)
        fetched = f"{head}: {self.items:,} items from {sources:,} sources"
        if self.fetch.failed:
            reasons = ", ".join(f"{o.source_id} — {o.error}" for o in self.fetch.failed)
            fetched += f" ({len(self.fetch.failed)} failed: {reasons})"
        parts = [fetched]
        if self.stage not in ("lock", "open", "fetch") or not self.error:
            parts.append(f"{self.added:,} briefs ({self.cached:,} cached)")
        if self.site_current:
            parts.append("site unchanged")
        elif self.pages:
            parts.append(f"site {self.pages:,} pages in {self.build_s:.1f} s")
        if self.sent or self.already_sent or self.send_failed:
            email = f"email {self.sent:,} sent"
            if self.sent_number is not None and self.sent_number != self.number:
                email += f" (제 {self.sent_number:04d}호)"
            if self.already_sent:
                email += f", {self.already_sent:,} already had it"
            if self.send_failed:
                failed = ", ".join(f"{a}: {r}" for a, r in self.send_failed.items())
                email += f", {len(self.send_failed)} failed ({failed})"
            parts.append(email)
        if self.error:
            parts.append(f"FAILED at {self.stage}")
        elif not self.did_something:
            parts.append("nothing new")
        return ", ".join(parts) + f" — {duration(self.seconds)}"

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "started_at": self.started_at,
            "pid": os.getpid(),
            "version": __version__,
            "number": self.number,
            "status": self.status,
            "items": self.items,
            "briefs_added": self.added,
            "briefs_cached": self.cached,
            "published_now": self.published_now,
            "sources": [
                {
                    "source_id": o.source_id,
                    "items": o.items,
                    "new": o.new,
                    "not_modified": o.not_modified,
                    "error": o.error,
                }
                for o in self.fetch.outcomes
            ],
            "sources_failed": [o.source_id for o in self.fetch.failed],
            "pages": self.pages,
            "build_seconds": round(self.build_s, 3),
            "site_unchanged": self.site_current,
            "sent_number": self.sent_number,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "send_failed": self.send_failed,
            "stage": self.stage,
            "error": self.error or None,
            "took_over_lock_from": self.took_over,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 2),
            "summary": self.summary_line(),
        }


def duration(seconds: float) -> str:
    """`0.8 s`, `42 s`, `3 m 12 s`, `1 h 05 m`: the summary line's clock."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} m {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


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
                _write_run_record(config, report)
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
    with _stage(config, "open"):
        store = Store(config.state_path)
    with store:
        _remove_leftovers(config)

        def fetched(outcome: SourceOutcome) -> None:
            progress.advance()
            if on_source:
                on_source(outcome)

        report.stage = "fetch"
        progress.stage("fetch", len(config.sources))
        with _stage(config, "fetch"):
            report.fetch = fetch_all(config, store, http, on_done=fetched)

        report.stage = "draft"
        progress.stage("draft")
        with _stage(config, "draft"):
            issue = _draft(config, store, day, report, progress)

        should_publish = config.auto_publish if publish is None else publish
        if issue is not None and should_publish and issue.status != "published":
            report.stage = "publish"
            progress.stage("publish")
            with _stage(config, "publish"):
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
        with _stage(config, "build"):
            _build(config, report)

        if send:
            report.stage = "send"
            with _stage(config, "send"):
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


class ProgressSummarizer:
    """The configured summarizer, made only when there is something to summarize (a model
    backend is slow to load), and telling the progress display how far it got."""

    def __init__(self, config: Config, progress: Progress) -> None:
        self._config = config
        self._progress = progress
        self._inner: Summarizer | None = None
        self._done = 0

    def _summarizer(self) -> Summarizer:
        if self._inner is None:
            self._inner = make_summarizer(self._config, progress=self._on_batch)
        return self._inner

    def _on_batch(self, done: int, total: int) -> None:
        """Model backends report batches as they finish: the bar moves item by item."""
        if done > self._done:
            self._progress.advance(done - self._done)
            self._done = done

    @property
    def model_id(self) -> str:
        return self._summarizer().model_id

    @model_id.setter
    def model_id(self, value: str) -> None:
        self._summarizer().model_id = value

    def summarize(self, items: list[Item]) -> list[Brief]:
        if not items:
            return []
        self._progress.stage("summarize", len(items))
        self._done = 0
        briefs = self._summarizer().summarize(items)
        self._on_batch(len(items), len(items))  # backends without batches report nothing
        return briefs


def _build(config: Config, report: DailyReport) -> None:
    """Rebuild site/ unless nothing it is made from changed since the last complete build."""
    stamp_path = config.state_path / SITE_STAMP
    fingerprint = _site_fingerprint(config)
    try:
        last = json.loads(stamp_path.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        last = None
    if last == fingerprint and (config.site_path / "index.html").is_file():
        report.site_current = True
        return
    started = time.monotonic()
    built = build_site(config)
    report.pages, report.build_s = built.pages, time.monotonic() - started
    # The inputs as they were before the build: an issue edited meanwhile triggers a rebuild.
    atomic_write(stamp_path, json.dumps({"fingerprint": fingerprint}))


def _site_fingerprint(config: Config) -> str:
    """What the site is made from: issue files, templates, feeds.yaml and this version."""
    digest = hashlib.sha256(__version__.encode())
    digest.update(config.model_dump_json().encode())
    folders = [config.issues_path, config.path(config.templates_dir), BUNDLED_TEMPLATES]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


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


def _remove_leftovers(config: Config) -> None:
    """Temporary files a killed run left behind (a site being built, a file being written)."""
    site = config.site_path
    patterns = [
        (site.parent, f".{site.name}.building-*"),
        (site.parent, f".{site.name}.old-*"),
        (config.issues_path, ".*.tmp"),
        (config.state_path, ".*.tmp"),
        (config.state_path / "runs", ".*.tmp"),
    ]
    cutoff = time.time() - LEFTOVER_AGE_S
    for folder, pattern in patterns:
        if not folder.is_dir():
            continue
        for path in folder.glob(pattern):
            try:
                if path.lstat().st_mtime > cutoff:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue  # best effort: a leftover we cannot remove harms nothing


# stage errors ------------------------------------------------------------------------------
_SAFE = {
    "open": "nothing was changed",
    "fetch": "items already stored are kept; a re-run fetches again",
    "draft": "the issue file is unchanged; a re-run drafts again",
    "publish": "the issue file is whole (old or new); a re-run publishes it",
    "build": "{site} still holds the previous complete build; a re-run builds it",
    "send": "recipients already sent are recorded; a re-run sends only to the rest",
}


@contextmanager
def _stage(config: Config, name: str) -> Iterator[None]:
    """Turn what the OS and SQLite raise into a message that names the thing and the fix."""
    safe = _SAFE.get(name, "").replace("{site}", str(config.site_path))
    try:
        yield
    except DigestError:
        raise
    except OSError as exc:
        raise DigestError(f"{name}: {_os_problem(exc)} — {safe}") from None
    except sqlite3.DatabaseError as exc:
        db = config.state_path / "digest.db"
        if "readonly" in str(exc) or "read-only" in str(exc):
            fix = f"make {config.state_path} writable and re-run"
        else:
            fix = (
                f"check it with `sqlite3 {db} 'PRAGMA integrity_check'`; restore it from a "
                "backup, or move it aside to start afresh (its send log goes with it)"
            )
        raise DigestError(
            f"{name}: the state database {db} failed ({exc}) — {fix}; {safe}"
        ) from None
    except json.JSONDecodeError as exc:
        db = config.state_path / "digest.db"
        raise DigestError(
            f"{name}: a stored record in {db} is corrupt ({exc}) — briefs are a cache and "
            f"can be cleared with `sqlite3 {db} 'DELETE FROM briefs'`, then re-run; {safe}"
        ) from None


def _os_problem(exc: OSError) -> str:
    where = f" writing {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where} — free some space and re-run `digest daily`"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"not allowed{where} ({exc.strerror}) — make the folder writable and re-run"
    return f"{exc.strerror or exc}{where}"


def _write_run_record(config: Config, report: DailyReport) -> None:
    """Best effort: a read-only or full disk must not hide the error that stopped the run."""
    folder = config.state_path / "runs"
    stamp = clock.now(config.timezone).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}.json"
    for n in range(2, 1000):
        if not path.exists():
            break
        path = folder / f"{stamp}-{n}.json"
    with suppress(OSError):
        atomic_write(path, json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")


def run_records(state_dir: Path, limit: int = 50) -> list[dict[str, object]]:
    """The newest run records first (by when they were written, not by the pinned clock)."""
    folder = state_dir / "runs"
    if not folder.is_dir():
        return []
    paths = sorted(
        folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True
    )
    records = []
    for path in paths[:limit]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            data["record"] = path.name
            records.append(data)
    return records
