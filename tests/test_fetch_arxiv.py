"""The arxiv fetcher (our HTTP client, feedparser) against a local stand-in for the API."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from feeds_helpers import ARXIV_API, ARXIV_API_LEGACY, FEEDS, fast_client, feed, source
from pytest_httpserver import HTTPServer

from digest import __version__
from digest.errors import FetchError
from digest.fetch import arxiv as arxiv_fetch
from digest.fetch import rss


def _api(httpserver: HTTPServer, body: bytes, status: int = 200) -> str:
    httpserver.expect_request("/api/query").respond_with_data(
        body, status=status, content_type="application/atom+xml"
    )
    return httpserver.url_for("/api/query")


def test_api_capture(httpserver: HTTPServer) -> None:
    url = _api(httpserver, feed(ARXIV_API))
    src = source(url, id="arxiv-cs", type="arxiv", query="cat:cs.LG", max_results=20)
    fetched = arxiv_fetch.fetch(src, "arxiv", fast_client(), None)
    items = fetched.items
    assert len(items) == 20
    assert [i.id for i in items[:3]] == ["arxiv:2604.26951", "arxiv:2604.26942", "arxiv:2604.26932"]
    first = items[0]
    assert first.url == "https://arxiv.org/abs/2604.26951"  # the paper, not v1
    assert first.source_id == "arxiv-cs"
    assert first.section_id == "arxiv"
    assert first.title == (
        "Turning the TIDE: Cross-Architecture Distillation for Diffusion Large Language Models"
    )
    assert first.authors == ("Gongbo Zhang", "Wen Wang", "Ye Tian", "Li Yuan")
    assert first.arxiv.arxiv_id == "2604.26951"
    assert first.arxiv.categories == (
        "cs.CL",
        "cs.AI",
        "cs.LG",
    )
    assert first.arxiv.primary_category == "cs.CL"
    assert items[2].arxiv.primary_category == "math.OC"
    assert first.published == datetime(2026, 4, 29, 17, 59, 1, tzinfo=UTC)
    assert first.arxiv.updated.isoformat() == "2026-04-29T17:59:01+00:00"
    assert first.summary.startswith("Diffusion large language models (dLLMs) offer parallel")
    assert all("v" not in i.url.rsplit("/", 1)[-1] for i in items)
    assert len({i.id for i in items}) == 20
    # Same ids as the rss fetcher gives for the same file: one paper, one item.
    assert [i.id for i in items] == [i.id for i in rss.parse(feed(ARXIV_API), src, "arxiv")]


def test_request_asks_for_the_query_newest_first_with_our_user_agent(
    httpserver: HTTPServer,
) -> None:
    url = _api(httpserver, feed(ARXIV_API))
    src = source(url, type="arxiv", query="cat:cs.LG", max_results=20)
    arxiv_fetch.fetch(src, "arxiv", fast_client(), None)
    assert len(httpserver.log) == 1
    request = httpserver.log[0][0]
    assert request.path == "/api/query"
    args = parse_qs(request.query_string.decode())
    assert args["search_query"] == ["cat:cs.LG"]
    assert args["max_results"] == ["20"]
    assert args["sortBy"] == ["submittedDate"]
    assert args["sortOrder"] == ["descending"]
    assert request.headers["User-Agent"].startswith(f"digest/{__version__} ")


def test_legacy_api_format(httpserver: HTTPServer) -> None:
    url = _api(httpserver, feed(ARXIV_API_LEGACY))
    src = source(url, type="arxiv", query="cat:cs.RO AND neural", max_results=2)
    items = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    assert [i.id for i in items] == ["arxiv:2510.14968", "arxiv:2510.14827"]
    assert items[0].arxiv.categories == (
        "cs.RO",
        "cs.AI",
        "cs.CV",
        "cs.LG",
        "cs.SY",
        "eess.SY",
    )
    assert "\n" not in items[0].summary


def test_old_style_id_keeps_its_archive(httpserver: HTTPServer) -> None:
    url = _api(httpserver, feed("edge/arxiv-api-old-style-id.xml"))
    src = source(url, type="arxiv", query="id:solv-int/9901001", max_results=1)
    (item,) = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    assert item.id == "arxiv:solv-int/9901001"
    assert item.url == "https://arxiv.org/abs/solv-int/9901001"
    assert item.title == "An integrable system, described across two lines"
    assert item.summary == "A short abstract that wraps."


def test_empty_result_is_no_items_and_no_error(httpserver: HTTPServer) -> None:
    url = _api(httpserver, feed("edge/arxiv-api-empty.xml"))
    src = source(url, type="arxiv", query="cat:cs.LG", max_results=20)
    fetched = arxiv_fetch.fetch(src, "arxiv", fast_client(), None)
    assert fetched.items == []
    assert not fetched.not_modified
    assert len(httpserver.log) == 1


def test_missing_query_names_the_fix(httpserver: HTTPServer) -> None:
    src = source(httpserver.url_for("/api/query"), id="arxiv-cs", type="arxiv")
    with pytest.raises(FetchError, match=r"source 'arxiv-cs' has no query — add e\.g\. query:"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(), None)
    assert httpserver.log == []


def test_http_500_is_a_fetch_error_after_the_retries(httpserver: HTTPServer) -> None:
    url = _api(httpserver, b"oops", status=500)
    src = source(url, type="arxiv", query="cat:cs.LG", max_results=20)
    with pytest.raises(FetchError, match="arXiv API answered HTTP 500") as error:
        arxiv_fetch.fetch(src, "arxiv", fast_client(retries=1), None)
    assert error.value.url == url
    assert len(httpserver.log) == 2  # the first try and one retry


def test_unreachable_api_is_a_fetch_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = source(f"http://127.0.0.1:{port}/api/query", type="arxiv", query="cat:cs.LG")
    with pytest.raises(FetchError, match="cannot reach arXiv API"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(retries=0), None)


def test_a_malformed_query_is_named_not_a_quiet_day(httpserver: HTTPServer) -> None:
    body = (FEEDS / "../hostile/arxiv-api-error-entry.xml").resolve().read_bytes()
    src = source(_api(httpserver, body), type="arxiv", query="cat:cs.LG AND (", max_results=5)
    with pytest.raises(FetchError, match=r"arXiv API says: .* fix the source.s query"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(), None)


def test_an_html_page_is_not_a_feed(httpserver: HTTPServer) -> None:
    src = source(_api(httpserver, b"<html><body>Oops</body></html>"), type="arxiv", query="x")
    with pytest.raises(FetchError, match="not an Atom feed"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(), None)


def test_the_api_route_keeps_the_clients_size_cap(httpserver: HTTPServer) -> None:
    src = source(_api(httpserver, feed(ARXIV_API)), type="arxiv", query="cat:cs.LG")
    with pytest.raises(FetchError, match="body larger than 1,000 bytes"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(max_bytes=1000), None)


def test_a_local_file_says_how_to_read_a_capture() -> None:
    src = source("file:///tmp/arxiv.xml", id="saved", type="arxiv", query="cat:cs.LG")
    with pytest.raises(FetchError, match="to read a saved capture, add `mode: rss`"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(), None)


def test_announce_type_from_the_api(httpserver: HTTPServer) -> None:
    url = _api(httpserver, feed(ARXIV_API))
    src = source(url, id="arxiv-cs", type="arxiv", query="cat:cs.LG", max_results=20)
    items = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    by_id = {i.id: i for i in items}
    # Primary cs.CL under a cs.LG query: a cross-list; math.OC likewise.
    assert by_id["arxiv:2604.26951"].announce_type == "cross"
    assert {i.announce_type for i in items} <= {"new", "cross", "replace", "replace-cross"}
    assert any(i.announce_type == "new" for i in items)


def test_query_is_bounded_by_the_window() -> None:
    now = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    assert arxiv_fetch.bounded_query("cat:cs.LG OR cat:cs.AI", 3, now) == (
        "(cat:cs.LG OR cat:cs.AI) AND submittedDate:[202611190630 TO 202611230630]"
    )
    assert arxiv_fetch.bounded_query("cat:cs.LG", None, now) == "cat:cs.LG"


def test_rss_mode_reads_rss_arxiv_org(httpserver: HTTPServer) -> None:
    from feeds_helpers import ARXIV_RSS

    httpserver.expect_request("/rss/cs.LG").respond_with_data(feed(ARXIV_RSS))
    src = source(httpserver.url_for("/rss/cs.LG"), type="arxiv", mode="rss")
    items = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    assert len(items) == 3
    assert all(i.announce_type for i in items)


def test_digest_now_pins_the_query_window(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
    url = _api(httpserver, feed("edge/arxiv-api-empty.xml"))
    src = source(url, type="arxiv", query="cat:cs.LG", window_days=2)
    arxiv_fetch.fetch(src, "arxiv", fast_client(), None)
    args = parse_qs(httpserver.log[0][0].query_string.decode())
    assert args["search_query"] == ["(cat:cs.LG) AND submittedDate:[202611192200 TO 202611222200]"]


def test_a_local_file_says_how_to_read_a_capture_even_without_a_query() -> None:
    src = source("file:///tmp/arxiv.xml", id="saved", type="arxiv")
    with pytest.raises(FetchError, match="to read a saved capture, add `mode: rss`"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(), None)


def test_a_saved_api_capture_reads_with_mode_rss(tmp_path: Path) -> None:
    capture = tmp_path / "arxiv.xml"
    capture.write_bytes(feed(ARXIV_API))
    src = source(capture.as_uri(), type="arxiv", mode="rss")
    items = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    assert len(items) == 20 and items[0].id == "arxiv:2604.26951"


def test_an_oversized_answer_is_refused_not_unreachable(httpserver: HTTPServer) -> None:
    src = source(_api(httpserver, feed(ARXIV_API)), type="arxiv", query="cat:cs.LG")
    with pytest.raises(FetchError, match=r"^arXiv API answer refused: .*larger than 1,000 bytes"):
        arxiv_fetch.fetch(src, "arxiv", fast_client(max_bytes=1000), None)
