"""The store: migrations, items, fetch state, the summary cache, the send log, atomic writes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.models import ArxivFields, Brief, Item, RedditFields
from digest.store import MIGRATIONS, Store, atomic_write

T0 = datetime(2026, 4, 30, 6, 0, tzinfo=UTC)


def _item(ident: str = "arxiv:2604.26951", title: str = "TIDE", **fields: object) -> Item:
    values: dict[str, object] = {
        "id": ident,
        "title": title,
        "url": f"https://arxiv.org/abs/{ident.removeprefix('arxiv:')}",
        "source_id": "arxiv-cs",
        "section_id": "arxiv",
        "published": datetime(2026, 4, 29, 17, 59, 1, tzinfo=UTC),
        "authors": ("Gongbo Zhang", "Wen Wang"),
        "summary": "Diffusion language models, distilled.",
        "arxiv": ArxivFields(ident.removeprefix("arxiv:"), categories=("cs.CL",)),
    }
    values.update(fields)
    return Item(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "state")
    yield opened  # type: ignore[misc]
    opened.close()


def test_migrations_set_user_version_and_reopening_is_a_no_op(tmp_path: Path) -> None:
    with Store(tmp_path / "state") as first:
        assert first.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        first.add_items([_item()], T0)
    with Store(tmp_path / "state") as again:  # would fail on CREATE TABLE if it re-ran
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert [i.id for i in again.items()] == ["arxiv:2604.26951"]
        tables = {
            row[0] for row in again.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"items", "fetch_state", "briefs", "send_log"} <= tables


def test_an_item_stored_by_an_older_version_is_read_with_typed_fields(store: Store) -> None:
    """Before the typed fields, items were stored with an `extra` dict of the same keys."""
    old = {
        **_item().to_json(),
        "extra": {"arxiv_id": "2604.26951", "categories": ["cs.CL"], "announce_type": "cross"},
    }
    del old["arxiv"], old["reddit"]
    with store.transaction():
        store.db.execute(
            "INSERT INTO items (id, source_id, section_id, published, first_seen, data) "
            "VALUES (?, 'arxiv-cs', 'arxiv', NULL, ?, ?)",
            (old["id"], T0.isoformat(), json.dumps(old)),
        )
    kept = store.item("arxiv:2604.26951")
    assert kept is not None and kept.announce_type == "cross"
    assert kept.arxiv == ArxivFields("2604.26951", ("cs.CL",), announce_type="cross")
    post = Item.from_json({**old, "extra": {"score": 12, "comments": 3, "stickied": True}})
    assert post.reddit == RedditFields(score=12, comments=3, stickied=True) and post.arxiv is None


def test_wal_and_integrity(store: Store) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.add_items([_item()], T0)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unwritable_state_dir_is_a_digest_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DigestError, match=r"cannot open the state database .* state_dir:"):
        Store(blocker / "state")


def test_add_items_counts_new_ids_and_keeps_first_seen(store: Store) -> None:
    assert store.add_items([_item(), _item("arxiv:2604.26942", "HyCNN")], T0) == 2
    later = T0 + timedelta(days=1)
    updated = _item(title="TIDE, revised", summary="Version two.")
    assert store.add_items([updated, _item("arxiv:2604.26932", "ADMM")], later) == 1
    assert store.first_seen("arxiv:2604.26951") == T0
    assert store.first_seen("arxiv:2604.26932") == later
    assert store.first_seen("arxiv:9999.99999") is None
    kept = store.item("arxiv:2604.26951")
    assert kept is not None
    assert (kept.title, kept.summary) == ("TIDE, revised", "Version two.")  # what it says now
    assert kept.published == datetime(2026, 4, 29, 17, 59, 1, tzinfo=UTC)
    assert kept.authors == ("Gongbo Zhang", "Wen Wang")
    assert kept.arxiv == ArxivFields("2604.26951", categories=("cs.CL",))
    assert store.item("arxiv:9999.99999") is None
    assert [i.id for i in store.items()] == [
        "arxiv:2604.26942",
        "arxiv:2604.26951",
        "arxiv:2604.26932",
    ]


def test_same_id_twice_in_one_batch_counts_once(store: Store) -> None:
    assert store.add_items([_item(), _item(title="again")], T0) == 1
    assert len(store.items()) == 1


def test_items_by_source(store: Store) -> None:
    store.add_items([_item(), _item("https://example.org/post", "Post", source_id="blog")], T0)
    assert [i.id for i in store.items(["blog"])] == ["https://example.org/post"]
    assert store.items([]) == []


def test_record_fetch_keeps_validators_after_an_error_and_counts_failures(store: Store) -> None:
    url = "https://engineering.fb.com/category/ai-research/feed/"
    store.record_fetch("meta", url, T0, etag='"e1"', last_modified="Wed, 25 Feb 2026 22:59:19 GMT")
    store.record_fetch("meta", url, T0 + timedelta(hours=1), error="HTTP 503 Service Unavailable")
    state = store.fetch_state("meta")
    assert state is not None
    assert state.etag == '"e1"'
    assert state.last_modified == "Wed, 25 Feb 2026 22:59:19 GMT"
    assert (state.last_status, state.failures) == ("error", 1)
    assert state.last_error == "HTTP 503 Service Unavailable"

    store.record_fetch("meta", url, T0 + timedelta(hours=2), error="timed out")
    state = store.fetch_state("meta")
    assert state is not None and state.failures == 2 and state.etag == '"e1"'

    store.record_fetch("meta", url, T0 + timedelta(hours=3), etag='"e2"', status="ok")
    state = store.fetch_state("meta")
    assert state is not None
    assert (state.etag, state.last_status, state.failures, state.last_error) == (
        '"e2"',
        "ok",
        0,
        None,
    )


def test_record_fetch_forgets_validators_of_another_url(store: Store) -> None:
    store.record_fetch("meta", "https://old.example.org/feed", T0, etag='"old"')
    store.record_fetch("meta", "https://new.example.org/feed", T0, error="HTTP 404 Not Found")
    state = store.fetch_state("meta")
    assert state is not None
    assert (state.url, state.etag) == ("https://new.example.org/feed", None)


def test_not_modified_status_and_all_states(store: Store) -> None:
    store.record_fetch("b", "https://b/", T0, etag='"x"', status="not-modified")
    store.record_fetch("a", "https://a/", T0)
    assert [(s.source_id, s.last_status) for s in store.all_fetch_states()] == [
        ("a", "ok"),
        ("b", "not-modified"),
    ]
    assert store.fetch_state("missing") is None


def test_brief_cache(store: Store) -> None:
    brief = Brief(summary="요약", significance="의의", glossary_note="토막상식", model="m1")
    assert store.cached_brief("h1", "m1", "1") is None
    store.cache_brief("h1", "m1", "1", brief, T0)
    assert store.cached_brief("h1", "m1", "1") == brief
    assert store.cached_brief("h1", "m1", "2") is None  # another prompt version
    assert store.cached_brief("h1", "m2", "1") is None  # another model
    newer = Brief(summary="새 요약", model="m1")
    store.cache_brief("h1", "m1", "1", newer, T0)
    assert store.cached_brief("h1", "m1", "1") == newer


def test_send_log(store: Store) -> None:
    assert store.sent_status(42, "a@example.org") is None
    store.record_send(42, "A@Example.org", "sent", T0)
    assert store.sent_status(42, "a@example.org") == "sent"
    assert store.sent_status(43, "a@example.org") is None
    store.record_send(42, "a@example.org", "failed", T0, detail="550 no such user")
    assert store.sent_status(42, "A@EXAMPLE.ORG") == "failed"
    row = store.db.execute("SELECT detail FROM send_log WHERE issue_number = 42").fetchone()
    assert row == ("550 no such user",)


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
        db.execute("INSERT INTO send_log VALUES (1, 'a@example.org', 'sent', '', '2026-01-01')")
        db.execute("INSERT INTO send_log VALUES (1, 'a@example.org', 'x', '', '2026-01-01')")
    assert store.sent_status(1, "a@example.org") is None


def test_atomic_write_replaces_content_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "issues" / "0042.md"
    atomic_write(target, "제 0042호\n")
    assert target.read_text(encoding="utf-8") == "제 0042호\n"
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["0042.md"]


def test_atomic_write_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "0042.md"
    atomic_write(target, "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["0042.md"]


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    fresh = tmp_path / "fresh.html"
    atomic_write(fresh, "x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # as open() makes it, not 0600
    kept = tmp_path / "kept.md"
    kept.write_text("x")
    kept.chmod(0o640)
    atomic_write(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640  # an existing file keeps its mode
