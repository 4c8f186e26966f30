"""Selection: window, future items, dedup against other issues, caps, reserves, explanations."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from conftest import CliResult, Newsroom

from digest.config import Config
from digest.models import ArxivFields, Item, RedditFields
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
        ident, ident, f"https://e.org/{ident}", "b", section, published,
        reddit=RedditFields(score=score),
    )  # fmt: skip


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


# ranking, relevance, dedup and grouping ------------------------------------------------------
INTERESTS = {"강화학습": 2, "reinforcement learning": 2, "딥 러닝": 2, "AI": 1, "LLM": 1}


def ranked_config(tmp_path: Path, **source_fields: object) -> Config:
    return Config.model_validate(
        {
            "interests": INTERESTS,
            "select": {"window_days": 3},
            "sections": [
                {"id": "blog", "title": "블로그", "max_items": 3,
                 "sources": [{"id": "b", "type": "rss", "url": "x", **source_fields},
                             {"id": "kr", "type": "rss", "url": "k", "min_relevance": 1}]},
                {"id": "arxiv", "title": "arXiv", "max_items": 3,
                 "sources": [{"id": "ax", "type": "arxiv", "url": "a", "query": "cat:cs.LG"}]},
                {"id": "reddit", "title": "레딧", "max_items": 3,
                 "sources": [{"id": "r", "type": "reddit", "url": "y", "min_score": 10}]},
            ],
            "base_dir": tmp_path,
        }
    )  # fmt: skip


def post(
    ident: str,
    title: str,
    hours_ago: float = 2,
    source: str = "b",
    section: str = "blog",
    summary: str = "",
    url: str = "",
    arxiv_id: str = "",
    announce_type: str = "",
    html_link: str = "",
    **reddit: object,
) -> Item:
    """An item; `arxiv_id` makes it an arXiv paper, Reddit fields (score=…) a Reddit post."""
    published = datetime(2026, 11, 23, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    return Item(
        ident,
        title,
        url or f"https://e.org/{ident}",
        source,
        section,
        published,
        summary=summary,
        arxiv=ArxivFields(arxiv_id, announce_type=announce_type) if arxiv_id else None,
        reddit=RedditFields(**reddit) if reddit else None,  # type: ignore[arg-type]
    )


def paper(ident: str, announce: str = "new", hours_ago: float = 2, title: str = "A paper") -> Item:
    return post(
        f"arxiv:{ident}",
        title,
        hours_ago,
        "ax",
        "arxiv",
        url=f"https://arxiv.org/abs/{ident}",
        arxiv_id=ident,
        announce_type=announce,
    )


def test_interests_rank_korean_and_english_on_title_and_summary(tmp_path: Path) -> None:
    posts = [
        post("plain", "A new optimizer", hours_ago=1),
        post("kr", "강화학습으로 로봇 걷기", hours_ago=5),
        post("en", "Notes", hours_ago=5, summary="We study reinforcement learning for LLMs."),
    ]
    picked = select(ranked_config(tmp_path), posts, DAY, set())
    chosen = picked.chosen["blog"]
    assert [c.item.id for c in chosen] == ["en", "kr", "plain"]
    assert chosen[0].relevance == 3  # "reinforcement learning" 2 + "LLM" (plural) 1
    assert chosen[0].reasons[0] == "interests: reinforcement learning (+2), LLM (+1)"
    assert chosen[1].reasons[0] == "interests: 강화학습 (+2)"
    assert not any("interests" in r for r in chosen[2].reasons)


def test_latin_interests_match_whole_words_only(tmp_path: Path) -> None:
    picked = select(ranked_config(tmp_path), [post("x", "Maintaining a rail yard")], DAY, set())
    assert picked.chosen["blog"][0].relevance == 0  # "AI" inside "Maintaining" is no match


def test_cross_mentions_lift_a_paper_others_discuss(tmp_path: Path) -> None:
    quiet = paper("2611.00001", hours_ago=1)
    discussed = paper("2611.00002", hours_ago=6)
    thread = post(
        "reddit:abc", "[R] this paper", 3, "r", "reddit", score=50,
        link="https://arxiv.org/pdf/2611.00002v2",
    )  # fmt: skip
    blog = post("blogpost", "Our work", 3, summary="See arXiv:2611.00002 for details.")
    picked = select(ranked_config(tmp_path), [quiet, discussed, thread, blog], DAY, set())
    top = picked.chosen["arxiv"][0]
    assert top.item.id == "arxiv:2611.00002"
    assert "linked by b, r (+3)" in top.reasons


def test_announce_types_rank_new_over_cross_over_replace(tmp_path: Path) -> None:
    papers = [paper("2611.00003", "replace"), paper("2611.00004", "cross"), paper("2611.00005")]
    picked = select(ranked_config(tmp_path), papers, DAY, set())
    assert [c.item.announce_type for c in picked.chosen["arxiv"]] == [
        "new",
        "cross",
        "replace",
    ]
    assert "arXiv replace (-0.5)" in picked.chosen["arxiv"][2].reasons


def test_a_replaced_paper_already_shown_is_not_news_again(tmp_path: Path) -> None:
    replaced = paper("2611.00006", "replace")
    picked = select(ranked_config(tmp_path), [replaced], DAY, {"arxiv:2611.00006"})
    assert picked.rejected == [(replaced, "a new version of a paper already in an issue")]


def test_reddit_comments_count_and_score_and_sticky_filters(tmp_path: Path) -> None:
    posts = [
        post("reddit:a", "many votes", 2, "r", "reddit", score=300, comments=2),
        post("reddit:b", "busy thread", 2, "r", "reddit", score=300, comments=400),
        post("reddit:c", "low", 2, "r", "reddit", score=3, comments=0),
        post("reddit:d", "rules", 2, "r", "reddit", score=900, stickied=True),
    ]
    picked = select(ranked_config(tmp_path), posts, DAY, set())
    assert [i.id for i in picked.items("reddit")] == ["reddit:b", "reddit:a"]
    assert "400 comments (+1.30)" in picked.chosen["reddit"][0].reasons
    assert dict((i.id, why) for i, why in picked.rejected) == {
        "reddit:c": "score 3 under min_score 10",
        "reddit:d": "stickied (a moderators' notice, not news)",
    }


def test_min_relevance_keeps_the_film_review_of_a_mixed_blog_out(tmp_path: Path) -> None:
    from feeds_helpers import feed, source

    from digest.fetch import rss

    items = rss.parse(feed("written-by-us/korean-blog-mixed.xml"), source(id="kr"), "blog")
    assert len(items) == 3
    picked = select(ranked_config(tmp_path), items, DAY, set())
    assert [i.title for i in picked.items("blog")] == [
        "딥 러닝의 블랙 박스 열어보기",
        "페이스북, AI의 직관적 물리학 체계 실험",
    ]
    ((review, why),) = picked.rejected
    assert review.title == "THE HUNT (JAGTEN)"
    assert why == "off-topic: interests weigh 0, under min_relevance 1"


def test_dedup_survives_an_edited_title_and_a_changed_guid(tmp_path: Path) -> None:
    first = post("guid-1", "Scaling laws", 3, url="https://e.org/p?utm_source=x#top")
    edited = post("guid-2", "Scaling laws, revisited", 2, url="https://e.org/p")
    picked = select(ranked_config(tmp_path), [first, edited], DAY, set())
    assert picked.items("blog") == [edited]
    assert picked.rejected == [(first, "same story as guid-2")]
    # Across runs too: the url was in an issue under its old id.
    again = select(ranked_config(tmp_path), [edited], DAY, {"https://e.org/p"})
    assert again.rejected == [(edited, "already in an issue")]


def test_a_thread_linking_a_chosen_paper_becomes_its_discussion(tmp_path: Path) -> None:
    linked = paper("2611.00007")
    other = paper("2611.00008")
    thread = post(
        "reddit:t1", "[D] thoughts?", 3, "r", "reddit", score=80,
        link="https://arxiv.org/abs/2611.00007",
    )  # fmt: skip
    lonely = post("reddit:t2", "[D] unrelated", 3, "r", "reddit", score=80)
    picked = select(ranked_config(tmp_path), [linked, other, thread, lonely], DAY, set())
    by_id = {c.item.id: c for cs in picked.chosen.values() for c in cs}
    assert by_id["arxiv:2611.00007"].discussions == (thread,)
    assert by_id["reddit:t1"].discusses == "arxiv:2611.00007"
    assert by_id["arxiv:2611.00008"].discussions == ()
    assert by_id["reddit:t2"].discusses == ""
    assert by_id["arxiv:2611.00007"].to_json()["discussions"] == ["reddit:t1"]


def test_a_thread_linking_an_item_left_out_is_not_grouped(tmp_path: Path) -> None:
    old = paper("2611.00009", hours_ago=24 * 9)  # outside the window
    thread = post(
        "reddit:t3", "[R] old paper", 3, "r", "reddit", score=80,
        link="https://arxiv.org/abs/2611.00009",
    )  # fmt: skip
    picked = select(ranked_config(tmp_path), [old, thread], DAY, set())
    assert picked.chosen["reddit"][0].discusses == ""


def test_draft_explain_prints_scores_and_reasons_and_writes_nothing(
    newsroom: Newsroom, run_cli: Callable[..., CliResult]
) -> None:
    assert run_cli("--config", str(newsroom.config), "fetch").code == 0
    text = run_cli("--config", str(newsroom.config), "draft", "--explain")
    assert text.code == 0, text.err
    assert "레딧 [reddit] — 3 of max 3" in text.out
    assert "· reddit score" in text.out and "· freshness" in text.out
    assert "reserves (over a cap)" in text.out
    as_json = run_cli("--config", str(newsroom.config), "draft", "--explain", "--json")
    data = json.loads(as_json.out)
    reddit = data["chosen"]["reddit"]
    assert len(reddit) == 3
    assert reddit[0]["score"] >= reddit[1]["score"] >= reddit[2]["score"]
    assert any(r.startswith("reddit score") for r in reddit[0]["reasons"])
    assert data["reserves"] and all("reasons" in c for c in data["reserves"])
    assert any(r["reason"].startswith("stickied") for r in data["rejected"])
    assert not (newsroom.path / "issues").exists() or not list(
        (newsroom.path / "issues").glob("*.md")
    )
    misuse = run_cli("--config", str(newsroom.config), "draft", "--json")
    assert misuse.code == 2


def test_a_blog_linking_its_own_earlier_post_is_not_a_discussion(tmp_path: Path) -> None:
    earlier = post("https://e.org/first", "First post", 20, url="https://e.org/first")
    later = post("second", "Second post", 2, html_link="x", summary="As in https://e.org/first")
    picked = select(ranked_config(tmp_path), [earlier, later], DAY, set())
    assert all(not c.discusses and not c.discussions for c in picked.chosen["blog"])


def test_removed_and_deleted_posts_are_left_out_with_their_reason(tmp_path: Path) -> None:
    posts = [
        post(
            "reddit:gone",
            "big but removed",
            2,
            "r",
            "reddit",
            score=900,
            removed="removed (moderator)",
        ),
        post("reddit:del", "deleted", 2, "r", "reddit", score=400, removed="deleted by its author"),
        post("reddit:ok", "live", 2, "r", "reddit", score=120),
    ]
    picked = select(ranked_config(tmp_path), posts, DAY, set())
    assert [i.id for i in picked.items("reddit")] == ["reddit:ok"]
    assert dict((i.id, why) for i, why in picked.rejected) == {
        "reddit:gone": "removed (moderator) on Reddit: nothing left to show",
        "reddit:del": "deleted by its author on Reddit: nothing left to show",
    }


def test_interests_match_nfd_text_and_nfd_terms(tmp_path: Path) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "강화학습으로 걷기")
    picked = select(ranked_config(tmp_path), [post("kr", nfd, 1, "kr")], DAY, set())
    assert picked.chosen["blog"][0].relevance == 2
    from digest.select import interests_of

    assert interests_of(post("x", "강화학습"), {unicodedata.normalize("NFD", "강화학습"): 1}) == [
        (unicodedata.normalize("NFD", "강화학습"), 1)
    ]
