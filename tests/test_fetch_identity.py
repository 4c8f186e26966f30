"""Identity, neither too coarse nor too fine (issue 14 kind 3), and arXiv ids of every era
(kind 4): what makes two entries one article, and what keeps them two."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from feeds_helpers import source

from digest.config import Config
from digest.fetch import rss
from digest.fetch.normalize import (
    arxiv_header,
    arxiv_id,
    canonical_id,
    canonical_url,
    own_fragment,
    url_key,
)
from digest.models import Item
from digest.select import keys, select

DAY = date(2026, 11, 23)


# canonical urls ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://e.org/p?utm_source=rss&utm_medium=feed", "https://e.org/p"),
        ("https://e.org/p?id=3&fbclid=x&gclid=y&mc_cid=z", "https://e.org/p?id=3"),
        ("https://e.org/p?ref=hackernews", "https://e.org/p"),
        # On code hosts `ref` is a branch or a tag: it changes what the page shows.
        (
            "https://github.com/o/r/blob/main/x.py?ref=v2",
            "https://github.com/o/r/blob/main/x.py?ref=v2",
        ),
        (
            "https://api.github.com/repos/o/r/contents/a?ref=dev",
            "https://api.github.com/repos/o/r/contents/a?ref=dev",
        ),
        ("https://gitlab.com/o/r/-/blob/x?ref=main", "https://gitlab.com/o/r/-/blob/x?ref=main"),
        # Blank values are values: ?flag and ?a= stay, in their order and spelling.
        ("https://e.org/search?q=&flag&b=2", "https://e.org/search?q=&flag&b=2"),
        ("https://e.org/p?b=2&a=1", "https://e.org/p?b=2&a=1"),
        ("HTTPS://E.ORG:443/p#top", "https://e.org/p"),
        ("http://e.org:80", "http://e.org/"),
        # One page however its path is escaped (RFC 3986 §6.2.2); an escaped "/" stays.
        (
            "https://en.wikipedia.org/wiki/Q%20learning_%28algorithm%29",
            "https://en.wikipedia.org/wiki/Q%20learning_(algorithm)",
        ),
        (
            "https://en.wikipedia.org/wiki/Q learning_(algorithm)",
            "https://en.wikipedia.org/wiki/Q%20learning_(algorithm)",
        ),
        ("https://e.org/a%2fb/%7euser/%ea%b0%80", "https://e.org/a%2Fb/~user/%EA%B0%80"),
        ("https://e.org/가", "https://e.org/%EA%B0%80"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_a_fragment_is_kept_only_when_asked_and_never_a_navigation_one() -> None:
    assert canonical_url("https://e.org/notes#v2-4-0") == "https://e.org/notes"
    assert canonical_url("https://e.org/notes#v2-4-0", keep_fragment=True) == (
        "https://e.org/notes#v2-4-0"
    )
    for nav in ("top", "main", "comments", "respond", "more-123", "xtor=RSS-1", ""):
        assert canonical_url(f"https://e.org/p#{nav}", keep_fragment=True) == "https://e.org/p"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://e.org/post", "https://e.org/post/?utm_source=rss#top"),
        ("https://e.org/post/", "http://www.e.org/post"),
        ("https://e.org/p?a=1&b=2", "https://e.org/p?b=2&a=1&utm_campaign=x"),
        ("https://e.org/%ed%95%9c", "https://e.org/한"),
    ],
)
def test_one_article_one_url_key(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://e.org/notes#v2-4-0", "https://e.org/notes#v2-3-1"),
        ("https://e.org/p?id=1", "https://e.org/p?id=2"),
        ("https://e.org/p?id=1", "https://e.org/p?id=1&flag"),
        ("https://github.com/o/r?ref=a", "https://github.com/o/r?ref=b"),
        ("https://e.org/Post", "https://e.org/post"),
    ],
)
def test_two_articles_two_url_keys(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_the_entry_s_own_id_decides_whether_the_fragment_is_its_own() -> None:
    page = "https://docs.example.org/release-notes#v2-4-0"
    assert own_fragment(page, "tag:docs.example.org,2026:release-2.4.0")  # its own id
    assert own_fragment(page, page)  # the permalink with its fragment is its id
    assert own_fragment(page, "", shared=True)  # other entries link the page elsewhere
    assert not own_fragment(page, "https://docs.example.org/release-notes")  # the page is the id
    assert not own_fragment(page, "")  # nothing says so
    assert not own_fragment("https://e.org/p", "tag:x")  # no fragment at all
    assert canonical_id(page, "tag:x", keep_fragment=True) == page
    assert canonical_id("https://arxiv.org/abs/2611.00001#x", "", keep_fragment=True) == (
        "arxiv:2611.00001"
    )


def feed(*entries: tuple[str, str]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Mon, 23 Nov 2026 01:00:00 GMT</pubDate><description>b</description></item>"
        for title, link in entries
    )
    return (
        '<rss version="2.0"><channel><title>t</title><link>https://e.org/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def test_a_forum_feed_without_guids_keeps_its_posts_apart() -> None:
    items = rss.parse(
        feed(("Post 1", "https://f.org/thread#post-1"), ("Post 2", "https://f.org/thread#post-2")),
        source(),
        "news",
    )
    assert [i.id for i in items] == ["https://f.org/thread#post-1", "https://f.org/thread#post-2"]


def test_entries_of_one_page_with_their_own_ids_stay_apart() -> None:
    """A release-notes page whose Atom entries share the link and differ only by <id>: the
    newer release must not overwrite the older (field case 04's kind, without fragments)."""
    entries = "".join(
        f"<entry><title>Release {v}</title><id>tag:docs.example.org,2026:release-{v}</id>"
        '<link href="https://docs.example.org/release-notes"/>'
        f"<updated>2026-11-2{n}T01:00:00Z</updated><summary>notes</summary></entry>"
        for n, v in ((3, "2.4.0"), (2, "2.3.1"))
    )
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entries}</feed>'
    items = rss.parse(body.encode(), source(), "news")
    assert len({i.id for i in items}) == 2
    assert {i.url for i in items} == {"https://docs.example.org/release-notes"}
    assert items[0].id.startswith("https://docs.example.org/release-notes#tag")
    again = rss.parse(body.encode(), source(), "news")
    assert [i.id for i in again] == [i.id for i in items]  # stable from fetch to fetch


def test_a_lone_fragment_without_an_own_id_is_navigation() -> None:
    (item,) = rss.parse(
        feed(("Post", "https://e.org/post/?utm_source=rss#section-2")), source(), "n"
    )
    assert item.id == item.url == "https://e.org/post/"


# selection: one story, one item -----------------------------------------------------------
def config(tmp_path: Path) -> Config:
    return Config.model_validate(
        {
            "select": {"window_days": 3},
            "sections": [{"id": "news", "title": "뉴스", "max_items": 10, "sources": [
                {"id": "a", "type": "rss", "url": "a"}, {"id": "b", "type": "rss", "url": "b"}]}],
            "base_dir": tmp_path,
        }
    )  # fmt: skip


def item(ident: str, title: str, source_id: str, hours_ago: float = 2, url: str = "") -> Item:
    published = datetime(2026, 11, 23, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    return Item(ident, title, url or ident, source_id, "news", published)


def test_the_same_post_through_two_aggregators_is_one_item(tmp_path: Path) -> None:
    plain = item("https://e.org/post", "Scaling laws, again", "a", 3)
    tracked = item("https://www.e.org/post/?utm_source=rss#top", "Scaling laws", "b", 2)
    picked = select(config(tmp_path), [plain, tracked], DAY, set())
    assert len(picked.items("news")) == 1
    assert picked.rejected[0][1].startswith("same story as")


def test_an_identical_title_from_two_sources_the_same_day_is_one_item(tmp_path: Path) -> None:
    first = item("https://one.example/a", "Gemma 4 is out", "a", 2)
    second = item("https://two.example/b", "gemma 4  is OUT", "b", 9)
    picked = select(config(tmp_path), [first, second], DAY, set())
    assert picked.items("news") == [first]
    assert picked.rejected == [(second, "same story as https://one.example/a")]


def test_an_identical_title_is_not_enough_from_one_source_or_days_apart(tmp_path: Path) -> None:
    same_source = [
        item("https://e.org/1", "Weekly notes", "a", 2),
        item("https://e.org/2", "Weekly notes", "a", 3),
    ]
    apart = [
        item("https://x.org/1", "Release", "a", 1),
        item("https://y.org/2", "Release", "b", 40),
    ]
    for pair in (same_source, apart):
        picked = select(config(tmp_path), pair, DAY, set())
        assert len(picked.items("news")) == 2, picked.rejected


def test_release_notes_with_their_own_anchors_are_not_one_story(tmp_path: Path) -> None:
    notes = [
        item("https://d.org/notes#v2-4-0", "v2.4.0", "a", 2),
        item("https://d.org/notes#v2-3-1", "v2.3.1", "a", 3),
    ]
    picked = select(config(tmp_path), notes, DAY, set())
    assert len(picked.items("news")) == 2
    # An issue that showed the page itself (an older id without anchor) does not take them.
    again = select(config(tmp_path), notes, DAY, {"https://d.org/notes"})
    assert len(again.items("news")) == 2


def test_a_url_already_in_an_issue_is_taken_whatever_its_spelling(tmp_path: Path) -> None:
    post = item("https://e.org/post", "A post", "a", 2)
    picked = select(config(tmp_path), [post], DAY, {"http://www.e.org/post/?utm_source=x"})
    assert picked.rejected == [(post, "already in an issue")]
    assert keys(post) >= {"https://e.org/post", "//e.org/post"}


# arXiv ids of every era -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "paper"),
    [
        ("https://arxiv.org/abs/2604.12345", "2604.12345"),
        ("https://arxiv.org/abs/2604.12345v3", "2604.12345"),
        ("https://arxiv.org/pdf/1501.0001v2.pdf", "1501.0001"),
        ("http://export.arxiv.org/abs/2401.01234", "2401.01234"),
        ("oai:arXiv.org:2401.01234v3", "2401.01234"),
        ("arXiv:2401.01234", "2401.01234"),
        ("https://arxiv.org/abs/cs/0701188", "cs/0701188"),
        ("oai:arXiv.org:cs/0701188v4", "cs/0701188"),
        ("https://arxiv.org/abs/math.GT/0309136v1", "math.GT/0309136"),
        ("http://arxiv.org/abs/solv-int/9901001v2", "solv-int/9901001"),
        ("arXiv:hep-th/9711200", "hep-th/9711200"),
        ("https://arxiv.org/abs/quant-ph/0112019", "quant-ph/0112019"),
        ("https://ARXIV.org/abs/2604.12345", "2604.12345"),
    ],
)
def test_arxiv_ids_of_both_eras(text: str, paper: str) -> None:
    assert arxiv_id(text) == paper
    assert canonical_id(text) == f"arxiv:{paper}"


@pytest.mark.parametrize(
    "text",
    [
        "https://arxiv.org/abs/x)\n### [x](javascript:1)",
        "https://arxiv.org/abs/2604.123456",
        "arXiv",
        "",
    ],
)
def test_what_is_no_arxiv_id(text: str) -> None:
    assert arxiv_id(text) is None


@pytest.mark.parametrize(
    ("description", "announce", "abstract"),
    [
        (
            "arXiv:2401.01234v3 Announce Type: replace Abstract: We revisit.",
            "replace",
            "We revisit.",
        ),
        (
            "arXiv:cs/0701188v4 Announce Type: replace-cross\nAbstract: Old.",
            "replace-cross",
            "Old.",
        ),
        ("arXiv:math.GT/0309136v2 Announce Type: cross Abstract: Knots.", "cross", "Knots."),
        (
            "An abstract that mentions Abstract: in passing.",
            "",
            "An abstract that mentions Abstract: in passing.",
        ),
    ],
)
def test_the_rss_arxiv_org_header_of_every_era(
    description: str, announce: str, abstract: str
) -> None:
    assert arxiv_header(" ".join(description.split())) == (announce, abstract)


def test_an_old_style_paper_in_rss_arxiv_org_is_a_paper_like_a_new_one() -> None:
    body = (
        b'<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        b' version="2.0"><channel><title>t</title><link>http://rss.arxiv.org/rss/cs.LG</link>'
        b"<description>d</description><item><title>Old</title>"
        b"<link>https://arxiv.org/abs/math.GT/0309136</link>"
        b"<description>arXiv:math.GT/0309136v2 Announce Type: cross Abstract: Knots.</description>"
        b'<guid isPermaLink="false">oai:arXiv.org:math.GT/0309136v2</guid><category>math.GT</category>'
        b"<dc:creator>A Knot, B Tie</dc:creator></item></channel></rss>"
    )
    (paper,) = rss.parse(body, source(), "arxiv")
    assert (paper.id, paper.url) == (
        "arxiv:math.GT/0309136",
        "https://arxiv.org/abs/math.GT/0309136",
    )
    assert (paper.announce_type, paper.summary, paper.authors) == (
        "cross",
        "Knots.",
        ("A Knot", "B Tie"),
    )
