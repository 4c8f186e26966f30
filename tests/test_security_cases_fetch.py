"""Issue 16's security cases of the fetch side, each as its README expects, against local servers.

Inputs are copied under tests/fixtures/security-cases/ (the cases' own server scripts are kept
there as *.py.txt for reference; the servers here are the same answers, made in the test).
Tests beyond each case: test_fetch_text.py (one line, caps), test_fetch_urls.py (URLs,
redaction), test_http.py (deadline, redirects).
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CliResult
from feeds_helpers import META, fast_client, feed
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digest.config import Config
from digest.fetch import fetch_all
from digest.fetch.normalize import TITLE_CHARS
from digest.fetch.page import read_page
from digest.store import Store

CASES = Path(__file__).resolve().parent / "fixtures" / "security-cases"
ENTRY = (
    "<entry><id>http://arxiv.org/abs/2611.00001v1</id><updated>2026-11-22T20:00:00Z</updated>"
    "<published>2026-11-22T20:00:00Z</published><title>{title}</title>"
    "<summary>We study reinforcement learning.</summary><author><name>Eve</name></author>"
    '<category term="cs.LG"/></entry>'
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """`room(case)`: a scratch copy of the case's inputs, the clock pinned as common.sh pins it."""

    def make(name: str) -> Path:
        work = tmp_path / name
        shutil.copytree(CASES / name, work)
        (work / "issues").mkdir(exist_ok=True)
        monkeypatch.chdir(work)
        monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
        return work

    return make


def with_port(work: Path, url: str) -> Path:
    """feeds.yaml from the case's feeds.yaml.in, its placeholder url made real."""
    text = (work / "feeds.yaml.in").read_text(encoding="utf-8")
    base = url.rstrip("/")
    for placeholder in ("http://127.0.0.1:PORT", "http://127.0.0.1:P1"):
        text = text.replace(placeholder, base)
    (work / "feeds.yaml").write_text(text, encoding="utf-8")
    return work / "feeds.yaml"


def test_01_a_permalink_with_newlines_cannot_write_an_item(
    room: Callable[[str], Path], run_cli: Callable[..., CliResult]
) -> None:
    work = room("01-reddit-permalink-xss")
    config = str(work / "feeds.yaml")
    result = run_cli("--config", config, "fetch", "--json")
    (item,) = [json.loads(line) for line in result.out.splitlines()]
    assert item["url"] == "https://www.reddit.com/comments/p1/"  # the post's own short form
    assert run_cli("--config", config, "draft").code == 0
    text = (work / "issues" / "0001.md").read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line.startswith("### ")] == [
        "### [\\[D\\] reinforcement learning thread](https://www.reddit.com/comments/p1/)"
    ]
    assert "javascript:" not in text


def test_02_an_api_id_that_is_no_arxiv_id_is_dropped(
    room: Callable[[str], Path], run_cli: Callable[..., CliResult], httpserver: HTTPServer
) -> None:
    work = room("02-arxiv-entry-id-xss")
    httpserver.expect_request("/api/query").respond_with_data(
        (work / "arxiv.xml").read_bytes(), content_type="application/atom+xml"
    )
    config = with_port(work, httpserver.url_for("/"))
    result = run_cli("--config", str(config), "fetch", "--json")
    assert result.code == 3, result.err  # a quiet day: the one entry was no paper
    assert result.out == ""


def test_02_an_api_id_with_a_line_break_after_a_real_id_keeps_only_the_paper(
    room: Callable[[str], Path], run_cli: Callable[..., CliResult], httpserver: HTTPServer
) -> None:
    work = room("02-arxiv-entry-id-xss")
    body = (work / "arxiv.xml").read_text(encoding="utf-8")
    body = body.replace("http://arxiv.org/abs/x)", "http://arxiv.org/abs/2611.00002v1)")
    httpserver.expect_request("/api/query").respond_with_data(body, content_type="text/xml")
    config = with_port(work, httpserver.url_for("/"))
    result = run_cli("--config", str(config), "fetch", "--json")
    (item,) = [json.loads(line) for line in result.out.splitlines()]
    assert (item["id"], item["url"]) == ("arxiv:2611.00002", "https://arxiv.org/abs/2611.00002")


def _arxiv_config(tmp_path: Path, url: str, good: str) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "arxiv", "title": "arXiv",
                 "sources": [{"id": "arxiv-api", "type": "arxiv", "url": url,
                              "query": "cat:cs.LG", "max_results": 5},
                             {"id": "good", "type": "rss", "url": good}]},
            ],
            "base_dir": tmp_path,
        }
    )  # fmt: skip


def test_06_a_gzip_bomb_on_the_api_route_is_a_named_source_failure(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    bomb = gzip.compress((HEAD + "<!--").encode() + b"\0" * 30_000_000 + b"--></feed>")
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb/query").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/atom+xml"
    )
    httpserver.expect_request("/good").respond_with_data(feed(META))
    config = _arxiv_config(tmp_path, httpserver.url_for("/bomb/query"), httpserver.url_for("/good"))
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store, fast_client(max_bytes=10_000_000))
    api, good = report.outcomes
    assert "larger than 10,000,000 bytes" in (api.error or "")
    assert api.error and api.error.startswith("arXiv API answer refused")
    assert good.new == 3 and report.failed == [api]  # counted as a failure: exit 4, not 3


def test_06_a_huge_title_on_the_api_route_is_capped(httpserver: HTTPServer, tmp_path: Path) -> None:
    title = "Reinforcement learning " + "long " * 200_000
    httpserver.expect_request("/bigtitle/query").respond_with_data(
        HEAD + ENTRY.format(title=title) + "</feed>", content_type="application/atom+xml"
    )
    httpserver.expect_request("/good").respond_with_data(feed(META))
    config = _arxiv_config(
        tmp_path, httpserver.url_for("/bigtitle/query"), httpserver.url_for("/good")
    )
    with Store(tmp_path / "state") as store:
        fetch_all(config, store, fast_client())
        (paper,) = store.items(["arxiv-api"])
    assert len(paper.title) <= TITLE_CHARS
    assert paper.title.startswith("Reinforcement learning long long")


def test_06_an_answer_at_one_byte_a_moment_fails_at_the_deadline(
    tmp_path: Path,
) -> None:
    body = (HEAD + ENTRY.format(title="Slow paper") + "</feed>").encode()

    def slow(request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            for i in range(len(body)):
                time.sleep(0.05)
                yield body[i : i + 1]

        return Response(drip(), content_type="application/atom+xml")

    server = HTTPServer(threaded=True)
    server.start()
    try:
        server.expect_request("/slow/query").respond_with_handler(slow)
        server.expect_request("/good").respond_with_data(feed(META))
        config = _arxiv_config(tmp_path, server.url_for("/slow/query"), server.url_for("/good"))
        started = time.monotonic()
        with Store(tmp_path / "state") as store:
            report = fetch_all(config, store, fast_client(retries=2, total_timeout=1.0))
        assert time.monotonic() - started < 4.0  # the deadline holds every try together
        assert "deadline" in (report.outcomes[0].error or "")
    finally:
        server.clear()
        server.stop()


def test_06_review_add_caps_a_page_title(httpserver: HTTPServer) -> None:
    giant = "Reinforcement " + "가" * 1_000_000
    page = f'<html><head><meta property="og:title" content="{giant}"></head></html>'
    httpserver.expect_request("/big.html").respond_with_data(page, content_type="text/html")
    found, warning = read_page(httpserver.url_for("/big.html"))
    assert warning == ""
    assert len(found.title) <= TITLE_CHARS and found.title.startswith("Reinforcement 가가")


class TrickleServer:
    """Sends its status line and then headers, one byte every `pause` seconds, forever."""

    def __init__(self, pause: float = 0.05) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.pause = pause
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            data = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 10_000
            for byte in data:
                if self.stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.pause)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    server = TrickleServer()
    yield server
    server.close()


def test_07_headers_that_trickle_fail_within_the_deadline(
    trickle: TrickleServer, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/good").respond_with_data(feed(META))
    config = Config.model_validate(
        {
            "sections": [{"id": "blogs", "title": "블로그", "sources": [
                {"id": "trickle", "type": "rss", "url": trickle.url},
                {"id": "good", "type": "rss", "url": httpserver.url_for("/good")}]}],
            "base_dir": tmp_path,
        }
    )  # fmt: skip
    started = time.monotonic()
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store, fast_client(timeout=0.5, total_timeout=1.0))
    assert time.monotonic() - started < 3.0
    bad, good = report.outcomes
    assert "no complete answer within the 1 s deadline" in (bad.error or "")
    assert good.new == 3


def test_10_reddit_credentials_do_not_follow_a_redirect_to_another_origin(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    seen: list[tuple[str, str | None]] = []

    def record(request: Request) -> Response:
        seen.append((request.path, request.headers.get("Authorization")))
        if request.path == "/token":
            return Response(json.dumps({"access_token": "TOKEN-123"}), content_type="text/json")
        return Response(json.dumps({"kind": "Listing", "data": {"children": []}}))

    try:
        other.expect_request("/token").respond_with_handler(record)
        other.expect_request("/r/x/top.json").respond_with_handler(record)
        for path in ("/token", "/r/x/top.json"):
            httpserver.expect_request(path).respond_with_data(
                "", status=302, headers={"Location": other.url_for(path)}
            )
        monkeypatch.setenv("DIGEST_REDDIT_CLIENT_ID", "my-client-id")
        monkeypatch.setenv("DIGEST_REDDIT_CLIENT_SECRET", "MY-CLIENT-SECRET")
        from feeds_helpers import source

        from digest.fetch import reddit

        src = source(
            httpserver.url_for("/r/x/top.json"),
            type="reddit",
            token_url=httpserver.url_for("/token"),
        )
        reddit.fetch(src, "reddit", fast_client(), None)
    finally:
        other.clear()
        other.stop()
    assert seen == [("/token", None), ("/r/x/top.json", None)]
    basic = base64.b64encode(b"my-client-id:MY-CLIENT-SECRET").decode()
    sent = httpserver.log[0][0].headers["Authorization"]
    assert sent == f"Basic {basic}"  # the first host, the one they were meant for, got them


def test_17_a_token_in_a_feed_url_is_never_shown_or_stored(
    room: Callable[[str], Path], run_cli: Callable[..., CliResult], httpserver: HTTPServer
) -> None:
    work = room("17-feed-url-token-in-logs")
    httpserver.expect_request("/feed.xml").respond_with_data(b" " * 11_000_000)
    config = str(with_port(work, httpserver.url_for("/")))
    assert "PRIVATE-FEED-TOKEN-123" in (work / "feeds.yaml").read_text()
    daily = run_cli("--config", config, "daily", "--no-send")
    assert "token=***" in daily.err and "PRIVATE-FEED-TOKEN-123" not in daily.err + daily.out
    status = run_cli("--config", config, "status")
    as_json = run_cli("--config", config, "status", "--json")
    assert "PRIVATE-FEED-TOKEN-123" not in status.err + status.out + as_json.out
    holders = [
        path.relative_to(work)
        for path in work.rglob("*")
        if path.is_file()
        and path.name not in ("feeds.yaml", "feeds.yaml.in", "README.txt")
        and b"PRIVATE-FEED-TOKEN-123" in path.read_bytes()
    ]
    assert holders == []
    with sqlite3.connect(work / ".digest" / "digest.db") as db:
        ((url, error),) = db.execute("SELECT url, last_error FROM fetch_state").fetchall()
    assert url.endswith("/feed.xml?token=***") and "token=***" in error
