"""Runs of the pipeline: the run lock, the run report and its JSON records, and the errors a
stage turns into messages. Every command that must not overlap another takes `run_lock`;
`digest status` reads `run_records` and `lock_holder`. Commands share this module without
importing the cron job.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from digest import __version__, clock
from digest.config import Config
from digest.errors import (
    EXIT_FAILED,
    EXIT_NOTHING_NEW,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    DigestError,
    LockedError,
)
from digest.fetch import FetchReport
from digest.http import redact_text
from digest.store import StatePaths, atomic_write
from digest.summarize.usage import spent

# A crashed run's temporary files are removed by a later run once they are this old: younger
# ones may belong to a `digest build` or `publish` running right now outside the lock.
LEFTOVER_AGE_S = 600.0


# the lock ------------------------------------------------------------------------------------
@contextmanager
def run_lock(state_dir: Path, timezone: str = "UTC") -> Iterator[str | None]:
    """One run at a time; yields the description of a dead holder whose lock was taken over.

    flock is dropped by the kernel when its holder dies, however it dies, so a lock is never
    stale in the kernel; the file's text is what a dead holder leaves behind, and a run that
    finds text there says whose crashed run it is finishing.
    """
    path = StatePaths(state_dir).lock
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a link planted at the lock's name is refused (ELOOP), never written through.
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        handle = os.fdopen(os.open(path, flags, 0o644), "a+", encoding="utf-8")
    except OSError as exc:
        if path.is_symlink():
            raise DigestError(
                f"{path} is a symbolic link, which digest never follows — remove it "
                "(`rm` the link, not its target) and run again. Nothing was changed."
            ) from None
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
    path = StatePaths(state_dir).lock
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
    """What one `digest daily` run did, filled in stage by stage: the issue (number, status,
    items), the fetch outcomes, briefs added and cached, publish, build (pages, seconds) and
    send counts, and where and why it stopped. `exit_code` and `summary_line` are what the
    CLI reports; `to_json` is the run record `digest status` reads."""

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
    waiting: str = ""  # "2 drafts waiting since Tuesday (…)": drafts the editor has not published
    # The model work of the draft stage (summarize.usage.Meter.to_json): tokens, cost, per item.
    summarizer: dict[str, object] | None = None

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
        """The run in one line, as `digest daily` ends with and `digest status` shows it; a
        secret in any URL it names (a private feed's ?token=) is redacted."""
        return redact_text(self._summary())

    def _summary(self) -> str:
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
            parts.append(f"{self.added:,} briefs ({self.cached:,} cached{spent(self.summarizer)})")
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
        if self.waiting:
            parts.append(self.waiting)
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
                    "error": redact_text(o.error) if o.error else None,
                }
                for o in self.fetch.outcomes
            ],
            "sources_failed": [o.source_id for o in self.fetch.failed],
            "items_pruned": self.fetch.pruned,
            "pages": self.pages,
            "build_seconds": round(self.build_s, 3),
            "site_unchanged": self.site_current,
            "sent_number": self.sent_number,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "send_failed": self.send_failed,
            "stage": self.stage,
            "error": redact_text(self.error) if self.error else None,
            "took_over_lock_from": self.took_over,
            "drafts_waiting": self.waiting or None,
            "summarizer": self.summarizer,
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


# leftovers ------------------------------------------------------------------------------------
def remove_leftovers(config: Config) -> None:
    """Temporary files a killed run left behind (a site being built, a file being written)."""
    site = config.site_path
    patterns = [
        (site.parent, f".{site.name}.building-*"),
        (site.parent, f".{site.name}.old-*"),
        (config.issues_path, ".*.tmp"),
        (config.state_path, ".*.tmp"),
        (StatePaths(config.state_path).runs, ".*.tmp"),
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
def stage(config: Config, name: str) -> Iterator[None]:
    """Turn what the OS and SQLite raise into a message that names the thing and the fix."""
    safe = _SAFE.get(name, "").replace("{site}", str(config.site_path))
    try:
        yield
    except DigestError:
        raise
    except OSError as exc:
        raise DigestError(f"{name}: {_os_problem(exc)} — {safe}") from None
    except sqlite3.DatabaseError as exc:
        db = StatePaths(config.state_path).database
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
        db = StatePaths(config.state_path).database
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


# records --------------------------------------------------------------------------------------
def write_run_record(config: Config, report: DailyReport) -> None:
    """Best effort: a read-only or full disk must not hide the error that stopped the run."""
    folder = StatePaths(config.state_path).runs
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
    folder = StatePaths(state_dir).runs
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
