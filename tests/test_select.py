"""Selection: window, future items, dedup against other issues, caps, reserves, explanations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digest.config import Config
from digest.models import Item
from digest.select import select

DAY = date(2026, 11, 23)


def config(tmp_path: Path, window: int | None = 3, cap: int = 2) -> Config:
    return Config.model_validate(
        {
            "select": {"window_days": window},
            "sections": [
                {"id": "blog", "title": "블로그", "max_items": cap,
                 "sources": [{"id": "b", "type": "rss", "url": "x"}]},
                {"id": "reddit", "title": "레딧", "max_items": cap,
                 "sources": [{"id": "r", "type": "reddit", "url": "y"}]},
            ],
            "base_dir": tmp_path,
        }
    )  # fmt: skip


def item(ident: str, hours_ago: float, section: str = "blog", score: int = 0) -> Item:
    published = datetime(2026, 11, 23, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    return Item(
        ident, ident, f"https://e.org/{ident}", "b", section, published, extra={"score": score}
    )


def test_caps_keep_the_freshest_and_the_rest_are_reserves(tmp_path: Path) -> None:
    picked = select(
        config(tmp_path), [item("old", 30), item("new", 1), item("mid", 10)], DAY, set()
    )
    assert [i.id for i in picked.items("blog")] == ["new", "mid"]
    assert [c.item.id for c in picked.reserves] == ["old"]
    assert "freshness" in picked.chosen["blog"][0].reasons[0]


def test_reddit_score_outweighs_a_few_hours(tmp_path: Path) -> None:
    posts = [item("quiet", 1, "reddit", 3), item("hot", 8, "reddit", 900)]
    assert [i.id for i in select(config(tmp_path), posts, DAY, set()).items("reddit")] == [
        "hot",
        "quiet",
    ]


def test_rejections_say_why(tmp_path: Path) -> None:
    future = item("future", -30)
    stale = item("stale", 24 * 10)
    shown = item("shown", 2)
    picked = select(config(tmp_path), [future, stale, shown], DAY, {"shown"})
    reasons = {i.id: why for i, why in picked.rejected}
    assert reasons == {
        "future": "published after this issue's day",
        "stale": "older than 3 days",
        "shown": "already in an issue",
    }
    assert picked.items("blog") == []


def test_no_window_keeps_old_items_and_draft_counts_toward_the_cap(tmp_path: Path) -> None:
    old = [item("a", 24 * 400), item("b", 24 * 500)]
    assert len(select(config(tmp_path, window=None), old, DAY, set()).items("blog")) == 2
    partly_full = select(config(tmp_path, window=None), old, DAY, set(), {"blog": 1})
    assert [i.id for i in partly_full.items("blog")] == ["a"]
