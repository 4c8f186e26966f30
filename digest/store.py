"""All persistence: `.digest/digest.db` (SQLite, WAL) and atomic file writes.

Other stages never open files for writing or talk SQL; they ask this module.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from digest.errors import DigestError
from digest.http import redact_text, redact_url
from digest.models import Brief, Item

# Times the store compares in SQL (the date window, retention) are UTC text in SQLite's own
# datetime() format, so a migration can compute them in SQL and text order is time order.
UTC_TEXT = "%Y-%m-%d %H:%M:%S"
# Rows deleted per transaction when pruning: each batch commits on its own, so the write lock is
# held briefly and a run killed mid-prune leaves whole batches done and the rest untouched.
PRUNE_BATCH = 5_000


def _redact_fetch_state(db: sqlite3.Connection) -> None:
    """Migration 3: fetch state written before URLs were redacted may hold a feed's ?token=."""
    rows = db.execute("SELECT source_id, url, last_error FROM fetch_state").fetchall()
    for source_id, url, error in rows:
        db.execute(
            "UPDATE fetch_state SET url = ?, last_error = ? WHERE source_id = ?",
            (redact_url(url), redact_text(error) if error else error, source_id),
        )


# Numbered migrations: index + 1 is the schema version stored in PRAGMA user_version. A string
# is SQL statements separated by ";"; a function runs in the same transaction.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        section_id TEXT NOT NULL,
        published TEXT,
        first_seen TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX items_by_source ON items (source_id, published);
    CREATE TABLE fetch_state (
        source_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        last_status TEXT,
        last_error TEXT,
        last_fetched TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE briefs (
        item_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        data TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (item_hash, model, prompt_version)
    );
    CREATE TABLE send_log (
        issue_number INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (issue_number, recipient)
    );
    """,
    # 2: the date window and retention, read through indexes instead of loading every row.
    # published_utc follows the stored data (what selection reads); last_seen_utc is the last
    # answer of its source that listed the item (first_seen until then).
    """
    ALTER TABLE items ADD COLUMN published_utc TEXT;
    ALTER TABLE items ADD COLUMN last_seen_utc TEXT;
    UPDATE items SET published_utc = datetime(json_extract(data, '$.published')),
        last_seen_utc = datetime(first_seen);
    CREATE INDEX items_by_published ON items (published_utc, last_seen_utc);
    CREATE INDEX items_by_last_seen ON items (last_seen_utc);
    CREATE INDEX items_by_source_seen ON items (source_id, last_seen_utc)
    """,
    _redact_fetch_state,
]


# The state folder (`state_dir`, `.digest/` by default) and every path in it: other modules ask
# for these, they do not spell them.
DATABASE = "digest.db"


@dataclass(frozen=True)
class StatePaths:
    """Where each kind of state lives under the state folder."""

    root: Path

    @property
    def database(self) -> Path:
        """The SQLite store: items, fetch state, brief cache, send log."""
        return self.root / DATABASE

    @property
    def lock(self) -> Path:
        """The run lock (flock) and the note of who holds it."""
        return self.root / "lock"

    @property
    def runs(self) -> Path:
        """One JSON record per pipeline run."""
        return self.root / "runs"

    @property
    def issue_cache(self) -> Path:
        """Parsed issue files kept between site builds."""
        return self.root / "cache" / "issues"

    @property
    def models(self) -> Path:
        """Models converted once (the embedded GGUF as safetensors)."""
        return self.root / "models"

    @property
    def review_shown(self) -> Path:
        """What `digest review list` last showed of each draft, to check bare item numbers."""
        return self.root / "review-shown.json"

    @property
    def adapters(self) -> Path:
        """Adapters `digest train` writes when no --output is given."""
        return self.root / "adapters"


@dataclass(frozen=True)
class FetchState:
    """A source's last fetch, as `record_fetch` stored it: the url fetched, the validators of
    the last good answer (ETag, Last-Modified), the last status ("ok", "not-modified",
    "error") and error, and the count of failed fetches in a row."""

    source_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    failures: int = 0


@dataclass(frozen=True)
class Outside:
    """What a date window query left out (`Store.outside`): items published before the window
    (undated ones last seen before it included), items published after it, and the newest
    publication time stored (aware UTC, or None)."""

    older: int
    later: int
    newest: datetime | None


class Store:
    """The state database, `digest.db` under the state folder (SQLite in WAL mode): every item
    fetched, each source's fetch state, the brief cache and the send log. Times are stored as
    the ISO 8601 text of the aware datetimes given. One connection, in autocommit; each write
    is its own IMMEDIATE transaction, and a writer waits up to 30 s for another's lock. Use it
    as a context manager, which closes the connection.

    Opening creates the folder and the database, and migrates an older schema (MIGRATIONS,
    numbered by PRAGMA user_version). Raises DigestError naming the folder when it cannot.
    After that, SQLite errors and a corrupt stored record (json.JSONDecodeError) propagate as
    they are; `runs.stage` turns them into messages."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                StatePaths(state_dir).database, timeout=30, isolation_level=None
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise DigestError(
                f"{state_dir}: cannot open the state database ({exc}) — check the folder is "
                "writable, or set state_dir: in feeds.yaml"
            ) from None

    def close(self) -> None:
        """Close the connection; every write is already committed."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                if callable(script):
                    script(self.db)
                else:
                    for statement in filter(str.strip, script.split(";")):
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE (the write lock at once, so two writers never deadlock), COMMIT on
        success, ROLLBACK on any exception, which is re-raised. Not reentrant."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # items ---------------------------------------------------------------------------------
    def add_items(self, items: Iterable[Item], seen_at: datetime) -> int:
        """Keep everything a source returns, in one transaction; returns how many ids were
        new. A known id gets the source's current data but keeps its first_seen; a new one
        records `seen_at` (aware) as first_seen. Either way `seen_at` is its last sighting,
        which retention reads (`prune_items`)."""
        new = 0
        seen = _utc(seen_at)
        with self.transaction() as db:
            for item in items:
                data = json.dumps(item.to_json(), ensure_ascii=False)
                published = item.published.isoformat() if item.published else None
                published_utc = _utc(item.published) if item.published else None
                if db.execute("SELECT 1 FROM items WHERE id = ?", (item.id,)).fetchone():
                    # Seen before: refresh what the source says now, keep first_seen.
                    db.execute(
                        "UPDATE items SET data = ?, published = ?, published_utc = ?, "
                        "last_seen_utc = ? WHERE id = ?",
                        (data, published, published_utc, seen, item.id),
                    )
                    continue
                db.execute(
                    "INSERT INTO items (id, source_id, section_id, published, first_seen, data, "
                    "published_utc, last_seen_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.id,
                        item.source_id,
                        item.section_id,
                        published,
                        seen_at.isoformat(),
                        data,
                        published_utc,
                        seen,
                    ),
                )
                new += 1
        return new

    def seen_again(self, source_id: str, at: datetime) -> int:
        """A source answered 304 at `at` (aware): what its last answer listed is still listed, so
        those items' last sighting moves to `at`. Returns how many items that touched."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE items SET last_seen_utc = ? WHERE source_id = ? AND last_seen_utc = "
                "(SELECT MAX(last_seen_utc) FROM items WHERE source_id = ?)",
                (_utc(at), source_id, source_id),
            )
        return cursor.rowcount

    def _first_seen(self, item_id: str) -> str | None:
        row = self.db.execute("SELECT first_seen FROM items WHERE id = ?", (item_id,)).fetchone()
        return row[0] if row else None

    def items(self, source_ids: Iterable[str] | None = None) -> list[Item]:
        """Every stored item (or those of `source_ids`), in the order first seen, then by id."""
        rows = self.db.execute("SELECT data FROM items ORDER BY first_seen, id")
        wanted = set(source_ids) if source_ids is not None else None
        result = []
        for (data,) in rows:
            item = Item.from_json(json.loads(data))
            if wanted is None or item.source_id in wanted:
                result.append(item)
        return result

    def items_published(self, start: datetime, end: datetime) -> list[Item]:
        """The items a date window from `start` to `end` (aware) can take, in the order of
        `items`: those published in it, compared in UTC to the second with both ends included
        (so a finer rule applied after, `select`, sees every item it could take), and undated
        ones last seen since `start` (an undated item is offered while its source lists it).
        Reads only those rows, through the time indexes: the cost follows the window, not the
        history stored."""
        low, high = _utc(start), _utc(end)
        rows = self.db.execute(
            "SELECT first_seen, id, data FROM items WHERE published_utc BETWEEN ? AND ? "
            "UNION ALL SELECT first_seen, id, data FROM items "
            "WHERE published_utc IS NULL AND last_seen_utc >= ? ORDER BY first_seen, id",
            (low, high, low),
        )
        return [Item.from_json(json.loads(data)) for _, _, data in rows]

    def outside(self, start: datetime, end: datetime) -> Outside:
        """What `items_published(start, end)` leaves out, counted without reading it: items
        published before `start` (with undated ones last seen before it) and after `end`, and
        the newest publication time stored (UTC, to the second; None when nothing is dated)."""
        low, high = _utc(start), _utc(end)
        count = "SELECT COUNT(*) FROM items WHERE "
        older = self.db.execute(count + "published_utc < ?", (low,)).fetchone()[0]
        older += self.db.execute(
            count + "published_utc IS NULL AND last_seen_utc < ?", (low,)
        ).fetchone()[0]
        later = self.db.execute(count + "published_utc > ?", (high,)).fetchone()[0]
        (newest,) = self.db.execute("SELECT MAX(published_utc) FROM items").fetchone()
        when = datetime.strptime(newest, UTC_TEXT).replace(tzinfo=UTC) if newest else None
        return Outside(older, later, when)

    def item_count(self) -> int:
        """How many items the store holds."""
        count: int = self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        return count

    def prune_items(
        self, last_seen_before: datetime, keep: Iterable[str], batch: int = PRUNE_BATCH
    ) -> int:
        """Delete the items no source has listed since `last_seen_before` (aware), except the
        ids in `keep`; returns how many were deleted. Deletes `batch` rows per transaction (see
        PRUNE_BATCH): a crash loses no committed batch and leaves no half of one, and running
        it again finishes the work; when nothing is left to delete it changes nothing."""
        with self.transaction() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS prune_keep (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.prune_keep")
            db.executemany("INSERT OR IGNORE INTO temp.prune_keep VALUES (?)", ((i,) for i in keep))
        cutoff = _utc(last_seen_before)
        deleted = 0
        while True:
            with self.transaction() as db:
                cursor = db.execute(
                    "DELETE FROM items WHERE rowid IN (SELECT rowid FROM items "
                    "WHERE last_seen_utc < ? AND id NOT IN (SELECT id FROM temp.prune_keep) "
                    "LIMIT ?)",
                    (cutoff, batch),
                )
            deleted += cursor.rowcount
            if cursor.rowcount < batch:
                return deleted

    def item(self, item_id: str) -> Item | None:
        """The stored item with id `item_id`, or None."""
        row = self.db.execute("SELECT data FROM items WHERE id = ?", (item_id,)).fetchone()
        return Item.from_json(json.loads(row[0])) if row else None

    def first_seen(self, item_id: str) -> datetime | None:
        """When the item was first fetched (aware, in the timezone it was recorded in), or
        None for an unknown id."""
        value = self._first_seen(item_id)
        return datetime.fromisoformat(value) if value else None

    # fetch state ---------------------------------------------------------------------------
    def fetch_state(self, source_id: str) -> FetchState | None:
        """The source's last fetch, or None when it was never fetched."""
        row = self.db.execute(
            "SELECT source_id, url, etag, last_modified, last_status, last_error, failures "
            "FROM fetch_state WHERE source_id = ?",
            (source_id,),
        ).fetchone()
        return FetchState(*row) if row else None

    def record_fetch(
        self,
        source_id: str,
        url: str,
        at: datetime,
        *,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        status: str = "ok",
    ) -> None:
        """Record a fetch of `url` at `at`: with `error`, status "error", one more failure in
        a row, and the validators of the last good fetch of the same url kept; without,
        `status` ("ok" or "not-modified"), the new validators and the failure count reset.
        The url and the error are stored for display, so any secret in a URL is redacted
        (`http.redact_url`: a private feed's ?token=, user-info)."""
        url, error = redact_url(url), redact_text(error) if error else error
        with self.transaction() as db:
            previous = self.fetch_state(source_id)
            same_url = previous is not None and previous.url == url
            failures = (previous.failures if previous else 0) + 1 if error else 0
            if error and same_url and previous:
                # Keep the validators of the last good fetch: a failure says nothing about them.
                etag, last_modified = previous.etag, previous.last_modified
            db.execute(
                "INSERT OR REPLACE INTO fetch_state VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source_id,
                    url,
                    etag,
                    last_modified,
                    "error" if error else status,
                    error,
                    at.isoformat(),
                    failures,
                ),
            )

    def all_fetch_states(self) -> list[FetchState]:
        """Every source's last fetch, by source id (sources since removed included)."""
        rows = self.db.execute(
            "SELECT source_id, url, etag, last_modified, last_status, last_error, failures "
            "FROM fetch_state ORDER BY source_id"
        )
        return [FetchState(*row) for row in rows]

    # summary cache -------------------------------------------------------------------------
    def cached_brief(self, item_hash: str, model: str, prompt_version: str) -> Brief | None:
        """The brief cached for this item text (`Item.content_hash`), model id and prompt
        version (`summarize.cache_version`); None on a miss or a damaged entry."""
        row = self.db.execute(
            "SELECT data FROM briefs WHERE item_hash = ? AND model = ? AND prompt_version = ?",
            (item_hash, model, prompt_version),
        ).fetchone()
        if not row:
            return None
        try:
            return Brief.from_json(json.loads(row[0]))
        except (ValueError, TypeError, KeyError):
            return None  # a damaged cache entry is a miss: the brief is simply made again

    def cache_brief(
        self, item_hash: str, model: str, prompt_version: str, brief: Brief, at: datetime
    ) -> None:
        """Cache `brief` under the same key as `cached_brief`, replacing any brief there."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO briefs VALUES (?, ?, ?, ?, ?)",
                (
                    item_hash,
                    model,
                    prompt_version,
                    json.dumps(brief.to_json(), ensure_ascii=False),
                    at.isoformat(),
                ),
            )

    # send log ------------------------------------------------------------------------------
    def sent_status(self, issue_number: int, recipient: str) -> str | None:
        """The send log's status of issue `issue_number` for `recipient` (compared in lower
        case): "sent", "sending", "refused" or "deferred" (newsletter.smtp), None if never
        tried."""
        row = self.db.execute(
            "SELECT status FROM send_log WHERE issue_number = ? AND recipient = ?",
            (issue_number, recipient.lower()),
        ).fetchone()
        return row[0] if row else None

    def record_send(
        self, issue_number: int, recipient: str, status: str, at: datetime, detail: str = ""
    ) -> None:
        """Set the send log's status of issue `issue_number` for `recipient` (lower-cased),
        with a detail (the server's answer) and the time `at`; committed at once."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO send_log VALUES (?, ?, ?, ?, ?)",
                (issue_number, recipient.lower(), status, detail, at.isoformat()),
            )


def _utc(moment: datetime) -> str:
    """`moment` (aware) as the store compares times in SQL: UTC, to the second (UTC_TEXT)."""
    return moment.astimezone(UTC).strftime(UTC_TEXT)


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600: keep the mode a plain write would give (or had).
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
