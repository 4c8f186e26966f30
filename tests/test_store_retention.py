"""Issue 16, class 9: the store has a retention policy, and a draft's cost follows its window.

Case 13 (`../shared/security-cases/13-store-grows-without-bound`, inputs copied under
tests/fixtures/security-cases/): a feed that invents fresh ids every day filled the store for
ever, and every draft loaded every item ever fetched. Now the draft reads only the date window's
rows, the fetch prunes what no source has listed for window + 30 days unless an issue names it,
and one answer keeps at most MAX_ITEMS_PER_FETCH items. The figures at 10k / 100k / 1M stored
items are bench/bench_store.py's (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import CliResult

from digest import fetch as fetching
from digest import issue as issues
from digest import retention
from digest.config import load_config
from digest.draft import make_draft, select_for
from digest.fetch import fetch_all
from digest.models import Item
from digest.select import select, window
from digest.store import MIGRATIONS, Store
from digest.summarize.extractive import ExtractiveSummarizer

CASE = (
    Path(__file__).resolve().parent / "fixtures" / "security-cases" / "13-store-grows-without-bound"
)
FIRST = date(2026, 11, 23)
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def rotating_feed(path: Path, day: str, n: int, published: str) -> None:
    """The case's make_feed.py: `n` items whose links are new every `day`."""
    items = "".join(
        f"<item><title>RL item {day}-{i}</title><link>https://e.org/{day}/{i}</link>"
        f"<pubDate>{published}</pubDate><description>reinforcement learning {i}</description>"
        "</item>\n"
        for i in range(n)
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://e.org/</link><description>d</description>\n{items}</channel></rss>\n",
        encoding="utf-8",
    )


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of case 13's inputs, the clock pinned as common.sh pins it."""
    work = tmp_path / "13"
    shutil.copytree(CASE, work)
    (work / "issues").mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
    return work


class Reads:
    """Counts what each draft read from the store: rows from the window query, and whether
    anything read every row."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.window: list[int] = []
        self.everything = 0
        window_query, every_row = Store.items_published, Store.items

        def items_published(store: Store, start: datetime, end: datetime) -> list[Item]:
            found = window_query(store, start, end)
            self.window.append(len(found))
            return found

        def items(store: Store, source_ids: object = None) -> list[Item]:
            self.everything += 1
            return every_row(store, source_ids)  # type: ignore[arg-type]

        monkeypatch.setattr(Store, "items_published", items_published)
        monkeypatch.setattr(Store, "items", items)


# the case --------------------------------------------------------------------------------------
def test_13_a_feed_of_fresh_ids_every_day_neither_grows_the_store_nor_slows_the_draft(
    room: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.sh's loop with the days passing: each morning the feed has N new ids dated that day;
    fetch, then draft that day (issues removed, as run.sh does, so no issue holds an item)."""
    per_day, days = 60, 40
    config = load_config(room / "feeds.yaml")
    keep_days = config.select.window_days + 1 + retention.MARGIN.days  # type: ignore[operator]
    reads = Reads(monkeypatch)
    sizes = []
    for offset in range(days):
        day = FIRST + timedelta(days=offset)
        monkeypatch.setenv("DIGEST_NOW", f"{day.isoformat()}T07:00:00+09:00")
        published = f"{(day - timedelta(days=1)).strftime('%a, %d %b %Y')} 21:00:00 +0000"
        rotating_feed(room / "feed.xml", str(offset), per_day, published)
        with Store(config.state_path) as store:
            report = fetch_all(config, store)
            assert not report.failed and report.new_items == per_day
            make_draft(config, store, day, ExtractiveSummarizer())
            sizes.append(store.item_count())
        for path in (room / "issues").glob("*.md"):
            path.unlink()
    # The store holds the retention span's items, however long the feed keeps inventing ids …
    assert max(sizes) <= per_day * (keep_days + 1)
    assert sizes[-1] == sizes[-2] == per_day * (keep_days + 1)
    # … and each draft read only its window's items, never every row.
    assert reads.everything == 0
    assert max(reads.window) <= per_day * (config.select.window_days + 2)  # type: ignore[operator]
    assert reads.window[-1] == reads.window[10]


def test_13_one_answer_keeps_its_newest_items_up_to_the_cap(
    room: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    """The case's answer of 20,000 fresh ids, scaled: over the cap, the newest are kept and the
    operator is told; the fetch still succeeds."""
    monkeypatch.setattr(fetching, "MAX_ITEMS_PER_FETCH", 50)
    rotating_feed(room / "feed.xml", "1", 80, "Sun, 22 Nov 2026 21:00:00 +0000")
    text = (room / "feed.xml").read_text(encoding="utf-8")
    newer = (
        "<pubDate>Sun, 22 Nov 2026 22:00:00 +0000</pubDate><description>reinforcement learning 7<"
    )
    text = text.replace(
        "<pubDate>Sun, 22 Nov 2026 21:00:00 +0000</pubDate><description>reinforcement learning 7<",
        newer,
    )
    (room / "feed.xml").write_text(text, encoding="utf-8")
    result = run_cli("fetch")
    assert result.code == 0, result.err
    assert "! big: answered 80 items; kept the newest 50 (50 new)" in result.err
    with Store(room / ".digest") as store:
        assert store.item_count() == 50
        assert store.item("https://e.org/1/7") is not None  # the newest, though late in the feed
        assert store.item("https://e.org/1/79") is None


# what is kept --------------------------------------------------------------------------------------
def item(ident: str, published: datetime | None, source: str = "big") -> Item:
    return Item(
        ident, f"reinforcement learning {ident}", f"https://e.org/{ident}", source, "blogs",
        published, summary=f"reinforcement learning {ident}",
    )  # fmt: skip


def test_an_item_an_issue_names_is_never_pruned(
    room: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item(f"i{n}", T0) for n in range(6)], T0)
        make_draft(config, store, FIRST, ExtractiveSummarizer())
        (draft,) = issues.load_all(config.issues_path)
        kept, dropped = sorted(draft.item_ids)[0], sorted(draft.item_ids)[1]
        # The editor drops one: a dropped item is a decision the file keeps, so it stays too.
        section = draft.sections[0]
        gone = next(e for e in section.items if e.id == dropped)
        section.items.remove(gone)
        gone.dropped_from = section.id
        draft.dropped.append(gone)
        issues.save(draft, config.issues_path)
        named = issues.load_all(config.issues_path)[0].claimed_ids
        # A year on, with the source gone: everything else is past use.
        pruned = retention.prune(config, store, T0 + timedelta(days=365))
        assert pruned == 6 - len(named)
        assert {i.id for i in store.items()} == named
        assert kept in named and dropped in named
        assert store.item(kept) is not None and store.item(dropped) is not None


def test_items_within_the_window_and_margin_are_kept(room: Path) -> None:
    config = load_config(room / "feeds.yaml")
    limit = retention.cutoff(config, T0)
    assert limit == T0 - timedelta(days=3 + 1 + 30)
    with Store(config.state_path) as store:
        store.add_items([item("edge", T0 - timedelta(days=40))], limit)  # seen exactly then
        store.add_items([item("old", T0 - timedelta(days=40))], limit - timedelta(seconds=1))
        # Published long ago, but its source still lists it: what a source says is kept.
        store.add_items([item("listed", T0 - timedelta(days=400))], T0 - timedelta(days=2))
        assert retention.prune(config, store, T0) == 1
        assert {i.id for i in store.items()} == {"edge", "listed"}


def test_no_window_means_nothing_is_pruned(room: Path) -> None:
    text = (room / "feeds.yaml").read_text(encoding="utf-8")
    (room / "feeds.yaml").write_text(text.replace("window_days: 3", "window_days: null"))
    config = load_config(room / "feeds.yaml")
    assert retention.cutoff(config, T0) is None
    with Store(config.state_path) as store:
        store.add_items([item("ancient", T0 - timedelta(days=3000))], T0 - timedelta(days=3000))
        assert retention.prune(config, store, T0) == 0 and store.item_count() == 1


def test_a_304_keeps_the_last_answer_current(room: Path) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item("earlier", T0)], T0 - timedelta(days=1))
        store.add_items([item("listed", T0)], T0)
        # Forty days of 304s: the feed still lists what it listed; not what it stopped listing.
        assert store.seen_again("big", T0 + timedelta(days=40)) == 1
        assert retention.prune(config, store, T0 + timedelta(days=40)) == 1
        assert [i.id for i in store.items()] == ["listed"]


def test_pruning_twice_is_a_no_op(room: Path) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item(f"o{n}", T0) for n in range(12)], T0 - timedelta(days=60))
        store.add_items([item(f"n{n}", T0) for n in range(3)], T0)
        assert retention.prune(config, store, T0) == 12
        before = sorted(i.id for i in store.items())
        changes = store.db.total_changes
        assert retention.prune(config, store, T0) == 0
        assert sorted(i.id for i in store.items()) == before == ["n0", "n1", "n2"]
        # Not a row written: no issue names an item here, so even the keep list is empty.
        assert store.db.total_changes - changes == 0
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_unreadable_issue_file_prunes_nothing(room: Path) -> None:
    config = load_config(room / "feeds.yaml")
    (room / "issues" / "0001.md").write_text("---\nnumber: [\n---\n", encoding="utf-8")
    with Store(config.state_path) as store:
        store.add_items([item("maybe-in-it", T0)], T0 - timedelta(days=60))
        assert retention.prune(config, store, T0) == 0 and store.item_count() == 1


# crash safety --------------------------------------------------------------------------------------
def test_an_error_mid_prune_keeps_whole_batches_and_a_rerun_finishes(
    room: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item(f"o{n:02d}", T0) for n in range(25)], T0 - timedelta(days=60))
        store.add_items([item("new", T0)], T0)
        calls = 0
        real = Store.transaction

        def failing(self: Store) -> Iterator[sqlite3.Connection]:
            nonlocal calls
            calls += 1
            with real(self) as db:
                yield db
                if calls == 3:  # the keep list, the first batch, then the second batch fails
                    raise OSError("disk gone")

        monkeypatch.setattr(Store, "transaction", contextmanager(failing))
        with pytest.raises(OSError):
            store.prune_items(T0 - timedelta(days=30), {"new"}, batch=10)
        monkeypatch.undo()
        assert store.item_count() == 26 - 10  # the first batch, whole; the second, none of it
        assert store.prune_items(T0 - timedelta(days=30), {"new"}, batch=10) == 15
        assert [i.id for i in store.items()] == ["new"]


KILLER = """
import os, signal, sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from digest.store import Store

class Dying(Store):
    entered = 0

    @contextmanager
    def transaction(self):
        Dying.entered += 1
        with super().transaction() as db:
            yield db
            if Dying.entered == 3:  # the second batch is deleted but not committed
                os.kill(os.getpid(), signal.SIGKILL)

store = Dying(Path(sys.argv[1]))
store.prune_items(datetime.fromisoformat(sys.argv[2]), {"new"}, batch=10)
"""


def test_a_kill_mid_prune_leaves_a_sound_store(room: Path) -> None:
    state = room / ".digest"
    with Store(state) as store:
        store.add_items([item(f"o{n:02d}", T0) for n in range(25)], T0 - timedelta(days=60))
        store.add_items([item("new", T0)], T0)
    cutoff = (T0 - timedelta(days=30)).isoformat()
    died = subprocess.run([sys.executable, "-c", KILLER, str(state), cutoff], check=False)
    assert died.returncode == -signal.SIGKILL
    with Store(state) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.item_count() == 16  # the committed batch is gone, the killed one is whole
        assert store.prune_items(T0 - timedelta(days=30), {"new"}, batch=10) == 15
        assert [i.id for i in store.items()] == ["new"]


# the window query and --full ------------------------------------------------------------------------
def test_the_window_query_changes_no_selection(room: Path) -> None:
    """For dated items, reading the window gives the same draft as reading every row, whatever
    the day: the store's query is never narrower than select's window, to the microsecond."""
    config = load_config(room / "feeds.yaml")
    rng = random.Random(13)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    days = [date(2026, 10, 1) + timedelta(days=rng.randrange(75)) for _ in range(10)]
    stored = [
        item(f"r{n}", start + timedelta(seconds=rng.randrange(70 * 86400))) for n in range(400)
    ]
    for day in days:  # items right on each window's edges
        for edge in window(config, day):
            assert edge is not None
            for micro in (-1, 0, 1):
                moment = edge + timedelta(microseconds=micro)
                stored.append(item(f"edge-{moment.isoformat()}", moment))
    with Store(config.state_path) as store:
        store.add_items(stored, T0)
        for day in days:
            windowed = select_for(config, store, day, [])
            everything = select(config, store.items(), day, set())
            assert _chosen(windowed) == _chosen(everything), day
            assert {i.id for i, _ in windowed.rejected} <= {i.id for i, _ in everything.rejected}


def _chosen(selection: object) -> tuple[list[str], list[str]]:
    chosen = [c.item.id for cs in selection.chosen.values() for c in cs]  # type: ignore[attr-defined]
    return chosen, [c.item.id for c in selection.reserves]  # type: ignore[attr-defined]


def test_draft_full_sees_old_items(room: Path, run_cli: Callable[..., CliResult]) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item("fresh", T0 - timedelta(hours=3))], T0)
        store.add_items([item("old", T0 - timedelta(days=10))], T0 - timedelta(days=10))
        # Undated, and no source has listed it for ten days: offered only when asked for all.
        store.add_items([item("undated", None)], T0 - timedelta(days=10))
    windowed = json.loads(run_cli("draft", "--explain", "--json").out)
    assert windowed["outside_window"] == {"before": 2, "after": 0}
    assert [i["id"] for i in windowed["chosen"]["blogs"]] == ["fresh"]
    assert windowed["rejected"] == []
    full = json.loads(run_cli("draft", "--explain", "--json", "--full").out)
    assert full["outside_window"] is None
    assert [i["id"] for i in full["chosen"]["blogs"]] == ["fresh", "undated"]
    assert {i["id"]: i["reason"] for i in full["rejected"]} == {"old": "older than 3 days"}
    text = run_cli("draft", "--explain").out
    assert "not read — 2 stored items outside the 3-day window" in text and "--full" in text
    assert run_cli("draft", "--full").code == 0
    (draft,) = issues.load_all(room / "issues")
    assert draft.item_ids == {"fresh", "undated"}


def test_nothing_in_the_window_still_counts_every_stored_item(
    room: Path, run_cli: Callable[..., CliResult]
) -> None:
    config = load_config(room / "feeds.yaml")
    with Store(config.state_path) as store:
        store.add_items([item(f"o{n}", T0 - timedelta(days=20 + n)) for n in range(3)], T0)
    result = run_cli("draft")
    assert result.code == 3
    assert "all 3 stored items are older than the 3-day window" in result.err
    assert "2026-11-03" in result.err  # the newest, found without reading it


# migrations --------------------------------------------------------------------------------------
def test_an_older_store_gains_the_time_columns_and_loses_its_secrets(tmp_path: Path) -> None:
    """A store of schema 1: its items are found by the window query, and the fetch state that
    an older version wrote with a feed's ?token= is redacted on opening."""
    state = tmp_path / "state"
    state.mkdir()
    db = sqlite3.connect(state / "digest.db")
    db.executescript(str(MIGRATIONS[0]) + ";PRAGMA user_version = 1;")
    old = item("kept", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    db.execute(
        "INSERT INTO items VALUES (?, 'big', 'blogs', ?, ?, ?)",
        # A stale published column: the window follows the data, which selection reads.
        (old.id, "2026-11-01T00:00:00+09:00", T0.isoformat(), json.dumps(old.to_json())),
    )
    secret = "https://feeds.example.org/private.xml?token=s3cr3t&lang=ko"
    db.execute(
        "INSERT INTO fetch_state VALUES ('big', ?, NULL, NULL, 'error', ?, ?, 2)",
        (secret, f"HTTP 500 from {secret}.", T0.isoformat()),
    )
    db.commit()
    db.close()
    with Store(state) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        found = store.items_published(T0 - timedelta(hours=2), T0)
        assert [i.id for i in found] == ["kept"]
        (fetched,) = store.all_fetch_states()
        assert "s3cr3t" not in fetched.url and fetched.url.endswith("token=***&lang=ko")
        assert fetched.last_error and "s3cr3t" not in fetched.last_error


def test_record_fetch_redacts_whatever_the_caller_passes(tmp_path: Path) -> None:
    with Store(tmp_path / "state") as store:
        store.record_fetch(
            "s", "https://u:pw@e.org/f?key=abc", T0, error="bad https://e.org/?sig=x"
        )
        (state,) = store.all_fetch_states()
        assert state.url == "https://***@e.org/f?key=***"
        assert state.last_error == "bad https://e.org/?sig=***"
