"""fetch_all: every source into the store; one broken source is reported, never fatal."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from feeds_helpers import FEEDS, GOOGLE, META, fast_client, feed
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digest.config import Config, load_config
from digest.errors import ConfigError
from digest.fetch import SourceOutcome, fetch_all
from digest.store import Store

ETAG = '"meta-1"'


def _meta_with_etag(request: Request) -> Response:
    if request.headers.get("If-None-Match") == ETAG:
        return Response(status=304, headers={"ETag": ETAG})
    return Response(feed(META), headers={"ETag": ETAG}, content_type="application/rss+xml")


def _config(tmp_path: Path, sources: list[dict[str, Any]]) -> Config:
    return Config.model_validate(
        {
            "sections": [{"id": "news", "title": "뉴스", "sources": sources}],
            "base_dir": tmp_path,
        }
    )


@pytest.fixture
def three_sources(httpserver: HTTPServer, tmp_path: Path) -> Config:
    """A good feed with an ETag, a server error and a page of garbage."""
    httpserver.expect_request("/good").respond_with_handler(_meta_with_etag)
    httpserver.expect_request("/broken").respond_with_data("boom", status=500)
    httpserver.expect_request("/garbage").respond_with_data(b"\x00\x01 not xml \xff")
    return _config(
        tmp_path,
        [
            {"id": "good", "type": "rss", "url": httpserver.url_for("/good")},
            {"id": "broken", "type": "rss", "url": httpserver.url_for("/broken")},
            {"id": "garbage", "type": "rss", "url": httpserver.url_for("/garbage")},
        ],
    )


def test_one_broken_source_never_sinks_the_rest(
    three_sources: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_NOW", "2026-02-26T07:00:00+09:00")
    done: list[SourceOutcome] = []
    with Store(tmp_path / "state") as store:
        report = fetch_all(three_sources, store, fast_client(retries=1), on_done=done.append)
        assert [o.source_id for o in report.outcomes] == ["good", "broken", "garbage"]
        assert [o.source_id for o in done] == ["good", "broken", "garbage"]
        assert {o.source_id for o in report.failed} == {"broken", "garbage"}
        errors = {o.source_id: o.error or "" for o in report.failed}
        assert "HTTP 500" in errors["broken"]
        assert "not a feed" in errors["garbage"]
        good = report.outcomes[0]
        assert (good.items, good.new, good.error, good.not_modified) == (3, 3, None, False)
        assert report.new_items == 3

        stored = store.items(["good"])
        assert len(stored) == 3
        assert stored[0].source_id == "good" and stored[0].section_id == "news"
        assert store.items(["broken", "garbage"]) == []
        assert store.first_seen(stored[0].id) == datetime(
            2026, 2, 26, 7, tzinfo=ZoneInfo("Asia/Seoul")
        )

        state = store.fetch_state("good")
        assert state is not None
        assert (state.etag, state.last_status, state.failures) == (ETAG, "ok", 0)
        broken = store.fetch_state("broken")
        assert broken is not None
        assert (broken.last_status, broken.failures) == ("error", 1)
        assert "HTTP 500" in (broken.last_error or "")


def test_refetch_with_unchanged_etag_is_not_modified(
    three_sources: Config, tmp_path: Path, httpserver: HTTPServer
) -> None:
    with Store(tmp_path / "state") as store:
        fetch_all(three_sources, store, fast_client(retries=0))
        report = fetch_all(three_sources, store, fast_client(retries=0))
        good = report.outcomes[0]
        assert good.not_modified
        assert (good.items, good.new) == (0, 0)
        state = store.fetch_state("good")
        assert state is not None
        assert (state.last_status, state.etag) == ("not-modified", ETAG)
        assert len(store.items(["good"])) == 3  # nothing lost
        broken = store.fetch_state("broken")
        assert broken is not None and broken.failures == 2
    good_requests = [r for r, _ in httpserver.log if r.path == "/good"]
    assert [r.headers.get("If-None-Match") for r in good_requests] == [None, ETAG]


def test_only_fetches_one_source(
    three_sources: Config, tmp_path: Path, httpserver: HTTPServer
) -> None:
    with Store(tmp_path / "state") as store:
        report = fetch_all(three_sources, store, fast_client(), only="good")
        assert [o.source_id for o in report.outcomes] == ["good"]
        assert store.fetch_state("broken") is None
    assert [r.path for r, _ in httpserver.log] == ["/good"]


def test_unknown_only_is_a_config_error(three_sources: Config, tmp_path: Path) -> None:
    with Store(tmp_path / "state") as store, pytest.raises(ConfigError, match="no source 'nope'"):
        fetch_all(three_sources, store, fast_client(), only="nope")


def test_a_parser_bug_is_reported_not_raised(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def buggy(*args: object) -> None:
        raise KeyError("id")

    monkeypatch.setattr("digest.fetch.reddit.parse", buggy)
    httpserver.expect_request("/odd.json").respond_with_data(b'{"data": {"children": []}}')
    httpserver.expect_request("/good").respond_with_handler(_meta_with_etag)
    config = _config(
        tmp_path,
        [
            {"id": "odd", "type": "reddit", "url": httpserver.url_for("/odd.json")},
            {"id": "good", "type": "rss", "url": httpserver.url_for("/good")},
        ],
    )
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store, fast_client())
    odd, good = report.outcomes
    assert (odd.error or "").startswith("unexpected KeyError")
    assert good.new == 3


def test_url_without_scheme_is_a_file_beside_feeds_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newsroom = tmp_path / "newsroom"
    (newsroom / "feeds").mkdir(parents=True)
    shutil.copy(FEEDS / GOOGLE, newsroom / "feeds" / "google.xml")
    settings = {
        "sections": [
            {
                "id": "google",
                "title": "구글 블로그",
                "sources": [{"id": "google-research", "type": "rss", "url": "feeds/google.xml"}],
            }
        ],
        "state_dir": ".digest",
    }
    (newsroom / "feeds.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), "utf-8")
    monkeypatch.chdir(tmp_path)  # not the folder feeds.yaml is in
    config = load_config(newsroom / "feeds.yaml")
    ((_, src),) = config.sources
    assert config.source_url(src) == (newsroom / "feeds" / "google.xml").resolve().as_uri()
    with Store(config.state_path) as store:
        report = fetch_all(config, store, fast_client())
        assert report.failed == []
        assert report.new_items == 3
        assert store.items()[0].source_id == "google-research"
    assert (newsroom / ".digest" / "digest.db").is_file()
