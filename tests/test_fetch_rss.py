"""The rss fetcher on recorded captures, hand-written samples and edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from feeds_helpers import (
    ARXIV_API,
    ARXIV_API_LEGACY,
    ARXIV_RSS,
    GOOGLE,
    META,
    REDDIT_ATOM,
    fast_client,
    feed,
    source,
)
from pytest_httpserver import HTTPServer

from digest.errors import FetchError
from digest.fetch import rss
from digest.fetch.normalize import html_to_text
from digest.models import Item
from digest.store import FetchState


def parse(relative: str) -> list[Item]:
    return rss.parse(feed(relative), source(), "news")


def test_meta_wordpress_capture() -> None:
    items = parse(META)
    assert [i.title for i in items] == [
        "RCCLX: Innovating GPU Communications on AMD Platforms",
        "Scaling LLM Inference: Innovations in Tensor Parallelism, Context Parallelism, and Expert Parallelism",
        "LLMs Are the Key to Mutation Testing and Better Compliance",
    ]
    first = items[0]
    url = "https://engineering.fb.com/2026/02/24/data-center-engineering/rrcclx-innovating-gpu-communications-amd-platforms-meta/"
    assert first.id == first.url == url
    assert first.source_id == "src"
    assert first.section_id == "news"
    assert first.published == datetime(2026, 2, 24, 21, 30, 54, tzinfo=UTC)
    assert all(i.published and i.published.utcoffset() == UTC.utcoffset(None) for i in items)
    assert items[2].published == datetime(2025, 9, 30, 16, 0, 8, tzinfo=UTC)
    assert first.authors == ()  # <dc:creator /> is empty
    assert first.summary.startswith(
        "We are open-sourcing the initial version of RCCLX – an enhanced version of RCCL"
    )
    assert len(first.summary) == rss.SUMMARY_CHARS
    for item in items:
        assert "<script" not in item.html
        assert "<iframe" not in item.html
        assert "style=" not in item.html
        assert 'target="_blank"' not in item.html
        assert "Read More" not in item.summary
        assert "appeared first on" not in item.summary
        # The whole body as text, not just the first SUMMARY_CHARS of it, loses the footer.
        assert "appeared first on" not in html_to_text(item.html)
    assert (
        '<a href="https://github.com/meta-pytorch/torchcomms/tree/main/comms/rcclx/develop" rel="noopener noreferrer">RCCLX</a>'
        in first.html
    )


def test_arxiv_rss_capture() -> None:
    items = parse(ARXIV_RSS)
    assert [i.id for i in items] == ["arxiv:2604.21952", "arxiv:2604.21953", "arxiv:2604.21956"]
    assert [i.url for i in items] == [
        "https://arxiv.org/abs/2604.21952",
        "https://arxiv.org/abs/2604.21953",
        "https://arxiv.org/abs/2604.21956",
    ]
    assert [i.announce_type for i in items] == ["new", "new", "new"]
    first = items[0]
    assert first.arxiv.arxiv_id == "2604.21952"
    assert first.arxiv.categories == (
        "cs.LG",
        "cs.AI",
        "cs.AR",
        "cs.NE",
        "cs.RO",
    )
    assert first.summary.startswith(
        "This work presents a multi-layered methodology for efficiently accelerating"
    )
    assert "Announce Type" not in first.summary
    assert "arXiv:2604" not in first.summary
    assert first.published == datetime(2026, 4, 27, 4, 0, tzinfo=UTC)  # 00:00 -0400
    # One dc:creator with every name, comma-separated: one author each.
    assert first.authors == (
        "Muhammad Shafique",
        "Abdul Basit",
        "Muhammad Abdullah Hanif",
        "Alberto Marchisio",
        "Rachmad Vidya Wicaksana Putra",
        "Minghao Shao",
    )
    assert items[1].authors == ("Blessed Madukoma", "Prasenjit Mitra")


def test_arxiv_rss_other_announce_types() -> None:
    items = parse("edge/arxiv-rss-announce-types.xml")
    assert [i.id for i in items] == ["arxiv:2604.30001", "arxiv:2501.00002", "arxiv:2502.00003"]
    assert [i.announce_type for i in items] == ["cross", "replace", "replace-cross"]
    assert [i.summary for i in items] == [
        "We study sparse attention for long documents.",
        "Version three of an analysis of adaptive optimisers.",
        "Robots that fold towels, revisited.",
    ]
    assert items[1].url == "https://arxiv.org/abs/2501.00002"  # not the v3
    assert items[0].authors == ("Ada Lovelace", "Alan Turing")
    assert items[1].authors == ("Grace Hopper",)
    assert items[2].authors == ("Edsger Dijkstra", "Barbara Liskov", "Donald Knuth")


def test_arxiv_api_capture_as_an_rss_source() -> None:
    items = parse(ARXIV_API)
    assert len(items) == 20
    assert all(i.id.startswith("arxiv:") for i in items)
    assert items[0].id == "arxiv:2604.26951"
    assert items[0].url == "https://arxiv.org/abs/2604.26951"  # no v1
    assert items[0].title == (
        "Turning the TIDE: Cross-Architecture Distillation for Diffusion Large Language Models"
    )
    assert items[0].authors == ("Gongbo Zhang", "Wen Wang", "Ye Tian", "Li Yuan")
    assert items[0].arxiv.categories == (
        "cs.CL",
        "cs.AI",
        "cs.LG",
    )
    assert items[0].published == datetime(2026, 4, 29, 17, 59, 1, tzinfo=UTC)
    assert items[0].arxiv is not None and items[0].announce_type == ""
    assert len({i.id for i in items}) == 20


def test_arxiv_api_legacy_format_as_an_rss_source() -> None:
    items = parse(ARXIV_API_LEGACY)
    assert [i.id for i in items] == ["arxiv:2510.14968", "arxiv:2510.14827"]
    assert items[0].summary.startswith("To tackle long-horizon tasks, recent hierarchical")
    assert "\n" not in items[0].summary  # hard-wrapped in the file


def test_arxiv_api_empty_result_is_no_items() -> None:
    assert parse("edge/arxiv-api-empty.xml") == []


def test_reddit_atom_capture() -> None:
    items = parse(REDDIT_ATOM)
    assert len(items) == 25
    first = items[0]
    assert first.title == "So... anyone copped one of these?"
    assert first.url == (
        "https://www.reddit.com/r/LocalLLaMA/comments/1up9x38/so_anyone_copped_one_of_these/"
    )
    assert first.published == datetime(2026, 7, 6, 20, 55, 8, tzinfo=UTC)
    assert first.summary.startswith("Been almost a year since mass hysteria erupted")
    assert "<img" in first.html  # the preview image stays, sanitized
    assert "<!--" not in first.html


def test_google_sample_drops_tracking_fragment_and_script() -> None:
    items = parse(GOOGLE)
    assert [i.id for i in items] == [
        "https://research.google/blog/scaling-mixture-of-experts-models-with-predictable-routing/",
        "https://research.google/blog/teaching-language-models-to-say-i-dont-know/",
        "https://research.google/blog/robots-that-learn-household-tasks-from-a-single-video/",
    ]
    assert [i.url for i in items] == [i.id for i in items]  # no utm_*, no #main
    assert items[1].title == 'Teaching language models to say "I don\'t know"'
    assert "<script" not in items[1].html
    assert "alert" not in items[1].html
    assert "alert" not in items[1].summary
    assert items[1].summary.endswith("while keeping 95% of its correct answers.")
    assert (
        'src="https://storage.googleapis.com/gweb-research2023-media/images/moe-routing.width-800.png"'
        in items[0].html
    )
    assert items[0].authors == ("Research Scientist, Google Research",)  # not split: not arXiv
    assert items[2].published == datetime(2026, 4, 27, 15, 0, tzinfo=UTC)


def test_wordpress_description_without_content() -> None:
    (item,) = parse("edge/wordpress-description-only.xml")
    assert item.summary == "Our new model reads charts. It is small […]"
    assert item.id == item.url == "https://blog.example.com/2026/04/charts/"


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x01\x02 garbage \xff\xfe\xfd",
        b'{"kind": "Listing", "data": {"children": []}}',
        b"",
        feed("edge/html-page.html"),
        feed("edge/xhtml-page.xhtml"),
    ],
    ids=["garbage", "json", "empty", "html", "xhtml"],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FetchError, match="not a feed") as error:
        rss.parse(body, source("http://127.0.0.1/feed"), "news")
    assert error.value.url == "http://127.0.0.1/feed"


def test_empty_feed_with_wrong_charset_is_a_feed() -> None:
    assert parse("edge/empty-feed-wrong-charset.xml") == []


def test_fetch_parses_and_returns_validators(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/meta").respond_with_data(
        feed(META),
        content_type="application/rss+xml",
        headers={"ETag": '"m1"', "Last-Modified": "Wed, 25 Feb 2026 22:59:19 GMT"},
    )
    fetched = rss.fetch(source(httpserver.url_for("/meta")), "news", fast_client(), None)
    assert len(fetched.items) == 3
    assert fetched.etag == '"m1"'
    assert fetched.last_modified == "Wed, 25 Feb 2026 22:59:19 GMT"
    assert not fetched.not_modified
    assert "If-None-Match" not in httpserver.log[0][0].headers


def test_conditional_get_304_is_not_modified(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/meta", headers={"If-None-Match": '"m1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/meta").respond_with_data(feed(META))
    url = httpserver.url_for("/meta")
    state = FetchState("src", url, etag='"m1"', last_modified="Wed, 25 Feb 2026 22:59:19 GMT")
    fetched = rss.fetch(source(url), "news", fast_client(), state)
    assert fetched.not_modified
    assert fetched.items == []
    # The 304 repeated neither validator: the ones we sent stay for next time.
    assert fetched.etag == '"m1"'
    assert fetched.last_modified == "Wed, 25 Feb 2026 22:59:19 GMT"
    sent = httpserver.log[0][0].headers
    assert sent["If-Modified-Since"] == "Wed, 25 Feb 2026 22:59:19 GMT"


def test_validators_of_another_url_are_not_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/meta").respond_with_data(feed(META))
    state = FetchState("src", "https://old.example.org/feed", etag='"m1"')
    fetched = rss.fetch(source(httpserver.url_for("/meta")), "news", fast_client(), state)
    assert len(fetched.items) == 3
    assert "If-None-Match" not in httpserver.log[0][0].headers
