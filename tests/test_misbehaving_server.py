"""A local server that misbehaves in every way a real one does, and the fetch stage that shrugs.

301 loops, 403, 429 with Retry-After, 500, redirects to other schemes, bodies that trickle,
servers that never answer: each source is reported by name with a one-line reason, the good
source beside them is fetched, and the draft is still built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CliResult
from feeds_helpers import META, fast_client, feed
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digest.config import Config
from digest.errors import TransientFetchError
from digest.fetch import fetch_all
from digest.store import Store


def _loop(request: Request) -> Response:
    return Response(status=301, headers={"Location": request.path})


def _trickle(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            time.sleep(0.1)
            yield b"<rss>"

    return Response(chunks(), content_type="application/xml")


def _silent(request: Request) -> Response:
    time.sleep(1.0)  # longer than the client's 0.4 s socket timeout
    return Response(feed(META))


@pytest.fixture
def rude_server() -> Iterator[HTTPServer]:
    """Its own threaded server: a handler that never answers must not hold up the others."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def serve_misbehaviour(server: HTTPServer) -> dict[str, str]:
    """Route → the words its failure report must contain."""
    server.expect_request("/loop").respond_with_handler(_loop)
    server.expect_request("/forbidden").respond_with_data("no", status=403)
    server.expect_request("/ratelimited").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    server.expect_request("/error").respond_with_data("oops", status=500)
    server.expect_request("/to-ftp").respond_with_data(
        "", status=302, headers={"Location": "ftp://127.0.0.1/feed"}
    )
    server.expect_request("/trickle").respond_with_handler(_trickle)
    server.expect_request("/silent").respond_with_handler(_silent)
    server.expect_request("/missing").respond_with_data("", status=404)
    server.expect_request("/good").respond_with_data(feed(META))
    return {
        "/loop": "HTTP 301",
        "/forbidden": "HTTP 403",
        "/ratelimited": "HTTP 429",
        "/error": "HTTP 500",
        "/to-ftp": "ftp",
        "/trickle": "deadline",
        "/silent": "timed out",
        "/missing": "HTTP 404",
    }


def test_every_misbehaviour_is_reported_and_the_good_feed_still_arrives(
    rude_server: HTTPServer, tmp_path: Path
) -> None:
    httpserver = rude_server
    expected = serve_misbehaviour(httpserver)
    sources: list[dict[str, Any]] = [
        {"id": path.strip("/"), "type": "rss", "url": httpserver.url_for(path)} for path in expected
    ]
    sources.append({"id": "good", "type": "rss", "url": httpserver.url_for("/good")})
    config = Config.model_validate(
        {"sections": [{"id": "news", "title": "뉴스", "sources": sources}], "base_dir": tmp_path}
    )
    client = fast_client(timeout=0.4, total_timeout=1.0, retries=1)
    started = time.monotonic()
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store, client)
    elapsed = time.monotonic() - started
    outcomes = {o.source_id: o for o in report.outcomes}
    assert outcomes["good"].error is None and outcomes["good"].new == 3
    for path, words in expected.items():
        error = outcomes[path.strip("/")].error or ""
        assert words in error, f"{path}: {error!r}"
        assert "\n" not in error
    # 429 was retried once, after the Retry-After second; 404 and 403 were not retried.
    hits = [entry[0].path for entry in httpserver.log]
    assert hits.count("/ratelimited") == 2
    assert hits.count("/forbidden") == hits.count("/missing") == 1
    assert elapsed < 20


def test_retry_after_is_honoured_between_tries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ratelimited").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    client = fast_client(retries=1)  # its own back-off is 0.01 s: the wait is the server's
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match="429"):
        client.get(httpserver.url_for("/ratelimited"))
    assert time.monotonic() - started >= 0.95
    assert len(httpserver.log) == 2


def test_the_issue_is_built_beside_broken_and_hostile_sources(
    httpserver: HTTPServer, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    """The CLI end to end: fetch reports each bad source on one line (exit 4), draft builds."""
    httpserver.expect_request("/loop").respond_with_handler(_loop)
    httpserver.expect_request("/forbidden").respond_with_data("no", status=403)
    httpserver.expect_request("/garbage").respond_with_data(b"\x00\xff garbage")
    hostile = Path(__file__).parent / "fixtures" / "hostile"
    httpserver.expect_request("/script").respond_with_data(
        (hostile / "script-in-body.xml").read_bytes()
    )
    httpserver.expect_request("/good").respond_with_data(feed(META))
    bad = ["loop", "forbidden", "garbage"]
    settings = {
        "select": {"window_days": None},
        "sections": [
            {"id": "news", "title": "뉴스", "max_items": 10,
             "sources": [{"id": b, "type": "rss", "url": httpserver.url_for(f"/{b}")} for b in bad]
             + [{"id": "script", "type": "rss", "url": httpserver.url_for("/script")},
                {"id": "good", "type": "rss", "url": httpserver.url_for("/good")}]},
        ],
    }  # fmt: skip
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    fetched = run_cli("--config", str(config), "fetch")
    assert fetched.code == 4, fetched.err
    for source_id in bad:
        lines = [line for line in fetched.err.splitlines() if line.startswith(f"✗ {source_id}:")]
        assert len(lines) == 1, fetched.err
    drafted = run_cli("--config", str(config), "draft", "--date", "2026-11-23")
    assert drafted.code == 0, drafted.err
    text = next((tmp_path / "issues").glob("*.md")).read_text(encoding="utf-8")
    assert "Body with scripts" in text
    assert text.count("\n## ") >= 1
    for danger in ("<script", "onerror", "javascript:"):
        assert danger not in text
