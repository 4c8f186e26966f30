"""The one HTTP client, against a real local server: validators, 304, gzip, caps, retries."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
from feeds_helpers import fast_client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from digest import __version__
from digest.errors import FetchError, TransientFetchError
from digest.http import MAX_RETRY_AFTER_S, retry_after_seconds

BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
ETAG = '"v1-abc"'
LAST_MODIFIED = "Wed, 29 Apr 2026 16:00:00 GMT"


def _conditional(request: Request) -> Response:
    """A feed server that honours If-None-Match and If-Modified-Since, like a good CDN."""
    if request.headers.get("If-None-Match") == ETAG or (
        request.headers.get("If-Modified-Since") == LAST_MODIFIED
    ):
        return Response(status=304, headers={"ETag": ETAG})
    return Response(BODY, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})


def test_200_returns_body_and_validators(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_handler(_conditional)
    response = fast_client().get(httpserver.url_for("/feed"))
    assert response.status == 200
    assert not response.not_modified
    assert response.body == BODY
    assert response.etag == ETAG
    assert response.last_modified == LAST_MODIFIED
    assert response.headers["etag"] == ETAG  # header names are lower-cased


def test_second_get_with_etag_is_not_modified(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_handler(_conditional)
    client = fast_client()
    first = client.get(httpserver.url_for("/feed"))
    second = client.get(httpserver.url_for("/feed"), etag=first.etag)
    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.etag == ETAG
    sent = httpserver.log[1][0]
    assert sent.headers["If-None-Match"] == ETAG
    assert "If-Modified-Since" not in sent.headers


def test_get_with_last_modified_only_is_not_modified(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed", headers={"If-Modified-Since": LAST_MODIFIED}
    ).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_data(BODY)
    response = fast_client().get(httpserver.url_for("/feed"), last_modified=LAST_MODIFIED)
    assert response.not_modified
    assert response.last_modified is None  # the 304 did not repeat it


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        gzip.compress(BODY), headers={"Content-Encoding": "gzip"}
    )
    response = fast_client().get(httpserver.url_for("/feed"))
    assert response.body == BODY
    assert "gzip" in httpserver.log[0][0].headers["Accept-Encoding"]


def test_body_over_max_bytes_names_the_size(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 2_000)
    with pytest.raises(FetchError, match=r"larger than 1,000 bytes") as error:
        fast_client(max_bytes=1_000).get(httpserver.url_for("/big"))
    assert error.value.url.endswith("/big")


def test_gzip_that_expands_past_max_bytes_is_refused(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 2_000_000)  # about 2 KB on the wire
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match=r"larger than 100,000 bytes"):
        fast_client(max_bytes=100_000).get(httpserver.url_for("/bomb"))


def test_truncated_gzip_is_a_fetch_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/cut").respond_with_data(
        gzip.compress(BODY * 50)[:40], headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match=r"broken gzip body"):
        fast_client().get(httpserver.url_for("/cut"))


def test_404_is_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(FetchError) as error:
        fast_client(retries=2).get(httpserver.url_for("/gone"))
    assert not isinstance(error.value, TransientFetchError)
    assert error.value.status == 404
    assert "HTTP 404" in str(error.value)
    assert len(httpserver.log) == 1


def test_503_twice_then_200_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_request("/flaky").respond_with_data(BODY)
    response = fast_client(retries=2).get(httpserver.url_for("/flaky"))
    assert response.status == 200
    assert response.body == BODY
    assert [r.status_code for _, r in httpserver.log] == [503, 503, 200]


def test_503_always_gives_up_after_the_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("busy", status=503)
    with pytest.raises(TransientFetchError) as error:
        fast_client(retries=2).get(httpserver.url_for("/down"))
    assert error.value.status == 503
    assert len(httpserver.log) == 3  # the first try and two retries


def test_retry_after_header_is_waited_for(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/slow").respond_with_data(
        "later", status=429, headers={"Retry-After": "0.3"}
    )
    httpserver.expect_request("/slow").respond_with_data(BODY)
    started = time.monotonic()
    response = fast_client(retries=1, backoff_s=0.0).get(httpserver.url_for("/slow"))
    assert response.body == BODY
    assert time.monotonic() - started >= 0.3


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("3600") == MAX_RETRY_AFTER_S == 60.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds("soon") is None
    in_30_s = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 27.0 <= (retry_after_seconds(in_30_s) or 0.0) <= 30.5
    next_year = format_datetime(datetime.now(UTC) + timedelta(days=365), usegmt=True)
    assert retry_after_seconds(next_year) == 60.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_user_agent_is_versioned(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(BODY)
    fast_client().get(httpserver.url_for("/feed"))
    agent = httpserver.log[0][0].headers["User-Agent"]
    assert agent.startswith(f"digest/{__version__} ")
    assert __version__ == "0.1.0"


def test_host_spacing_is_kept_between_two_gets(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(BODY)
    url = httpserver.url_for("/feed")
    host = urlsplit(url).hostname
    assert host
    client = fast_client(host_spacing={host: 0.3})
    started = time.monotonic()
    client.get(url)
    client.get(url)
    assert time.monotonic() - started >= 0.3
    assert len(httpserver.log) == 2


def test_host_spacing_ignores_port_and_case(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(BODY)
    url = httpserver.url_for("/feed")
    host = urlsplit(url).hostname
    assert host
    client = fast_client(host_spacing={host: 0.3})
    started = time.monotonic()
    client.get(url)
    client.get(url.replace(host, host.upper(), 1))
    assert time.monotonic() - started >= 0.3


def test_no_spacing_for_other_hosts(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(BODY)
    client = fast_client(host_spacing={"export.arxiv.org": 5.0})
    started = time.monotonic()
    client.get(httpserver.url_for("/feed"))
    client.get(httpserver.url_for("/feed"))
    assert time.monotonic() - started < 2.0


def test_redirect_is_followed_and_final_url_returned(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data(BODY)
    response = fast_client().get(httpserver.url_for("/old"))
    assert response.body == BODY
    assert response.url == httpserver.url_for("/new")


def test_refused_connection_is_transient_and_retried() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientFetchError):
        fast_client(retries=1).get(f"http://127.0.0.1:{port}/feed")


def test_timeout_is_a_transient_error(httpserver: HTTPServer) -> None:
    def stall(request: Request) -> Response:
        time.sleep(0.6)
        return Response(BODY)

    httpserver.expect_request("/stall").respond_with_handler(stall)
    started = time.monotonic()
    with pytest.raises(TransientFetchError):
        fast_client(timeout=0.2, retries=0).get(httpserver.url_for("/stall"))
    assert time.monotonic() - started < 0.6


def test_ratelimit_exhausted_waits_for_the_reset(httpserver: HTTPServer) -> None:
    headers = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Used": "100", "X-Ratelimit-Reset": "1"}
    httpserver.expect_request("/a").respond_with_data("ok", headers=headers)
    httpserver.expect_request("/b").respond_with_data("ok")
    client = fast_client()
    client.get(httpserver.url_for("/a"))
    started = time.monotonic()
    client.get(httpserver.url_for("/b"))
    assert time.monotonic() - started >= 0.9


def test_ratelimit_with_requests_left_does_not_wait(httpserver: HTTPServer) -> None:
    headers = {"X-Ratelimit-Remaining": "57", "X-Ratelimit-Reset": "30"}
    httpserver.expect_request("/a").respond_with_data("ok", headers=headers)
    client = fast_client()
    client.get(httpserver.url_for("/a"))
    started = time.monotonic()
    client.get(httpserver.url_for("/a"))
    assert time.monotonic() - started < 0.5


def test_a_body_that_trickles_past_the_deadline_fails(httpserver: HTTPServer) -> None:
    def trickle(request: Request) -> Response:
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(40):
                time.sleep(0.1)
                yield b"<!-- slow -->"

        return Response(chunks(), content_type="application/xml")

    httpserver.expect_request("/slow").respond_with_handler(trickle)
    client = fast_client(retries=0, total_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match="deadline"):
        client.get(httpserver.url_for("/slow"))
    assert time.monotonic() - started < 2.5


def test_non_http_scheme_is_refused() -> None:
    with pytest.raises(FetchError, match="not an http"):
        fast_client().get("ftp://127.0.0.1/feed.xml")


def test_post_sends_the_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/t", method="POST", data=b"a=1").respond_with_data("ok")
    assert fast_client().post(httpserver.url_for("/t"), b"a=1").body == b"ok"


# content encodings ---------------------------------------------------------------------------
@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_is_read_wrapped_or_raw(httpserver: HTTPServer, wbits: int) -> None:
    packer = zlib.compressobj(wbits=wbits)
    httpserver.expect_request("/feed").respond_with_data(
        packer.compress(BODY) + packer.flush(), headers={"Content-Encoding": "deflate"}
    )
    assert fast_client().get(httpserver.url_for("/feed")).body == BODY


def test_raw_deflate_is_capped_like_the_rest(httpserver: HTTPServer) -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    bomb = packer.compress(b"\0" * 2_000_000) + packer.flush()
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "deflate"}
    )
    with pytest.raises(FetchError, match=r"larger than 100,000 bytes"):
        fast_client(max_bytes=100_000).get(httpserver.url_for("/bomb"))


def test_an_encoding_not_asked_for_is_named(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(
        b"\x0b\x02", headers={"Content-Encoding": "br"}
    )
    with pytest.raises(FetchError, match="answered in 'br', an encoding that was not asked for"):
        fast_client().get(httpserver.url_for("/br"))


# answers cut short or never finished ---------------------------------------------------------
def _raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection-at-a-time TCP server that answers every request with `answer`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                with contextlib.suppress(OSError):
                    answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    finally:
        stop.set()
        listener.close()


@pytest.fixture
def cut_short() -> Iterator[str]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + BODY)

    yield from _raw_server(answer)


@pytest.fixture
def header_trickle() -> Iterator[str]:
    def answer(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 1000:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    yield from _raw_server(answer)


def test_a_body_cut_short_of_its_length_is_transient_and_retried(cut_short: str) -> None:
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match="IncompleteRead"):
        fast_client(retries=1).get(cut_short)
    assert time.monotonic() - started < 5


def test_headers_that_trickle_fail_at_the_deadline(header_trickle: str) -> None:
    started = time.monotonic()
    with pytest.raises(TransientFetchError, match=r"no complete answer within the 1 s deadline"):
        fast_client(timeout=0.5, total_timeout=1.0, retries=2).get(header_trickle)
    # Every try together: the retries do not start the clock again.
    assert time.monotonic() - started < 2.0


def test_the_deadline_covers_every_try_of_a_slow_server(httpserver: HTTPServer) -> None:
    def stall(request: Request) -> Response:
        time.sleep(0.4)
        return Response("busy", status=503)

    httpserver.expect_request("/busy").respond_with_handler(stall)
    with pytest.raises(TransientFetchError):
        fast_client(retries=5, total_timeout=1.0).get(httpserver.url_for("/busy"))
    assert len(httpserver.log) <= 3  # 0.4 s each: the second or third try spends the deadline


# credentials and redirects -------------------------------------------------------------------
def test_authorization_goes_along_a_redirect_within_the_origin(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data(BODY)
    fast_client().get(httpserver.url_for("/old"), headers={"Authorization": "bearer T"})
    assert httpserver.log[1][0].headers.get("Authorization") == "bearer T"


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "Proxy-Authorization"])
def test_credentials_are_dropped_when_a_redirect_leaves_the_origin(
    httpserver: HTTPServer, header: str
) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)  # another port: another origin
    other.start()
    try:
        other.expect_request("/new").respond_with_data(BODY)
        httpserver.expect_request("/old").respond_with_data(
            "", status=302, headers={"Location": other.url_for("/new")}
        )
        response = fast_client().get(httpserver.url_for("/old"), headers={header: "secret"})
        assert response.body == BODY
        assert httpserver.log[0][0].headers.get(header) == "secret"
        assert other.log[0][0].headers.get(header) is None
    finally:
        other.clear()
        other.stop()


def test_https_is_never_followed_down_to_http() -> None:
    from digest.http import _BoundedRedirects, _RefusedRedirect

    request = urllib.request.Request(
        "https://oauth.example.org/token", headers={"Authorization": "x"}
    )
    handler = _BoundedRedirects()
    with pytest.raises(_RefusedRedirect) as refused:
        handler.redirect_request(request, None, 302, "Found", {}, "http://oauth.example.org/token")
    assert "never followed down to http" in refused.value.why
    upgraded = handler.redirect_request(request, None, 302, "Found", {}, "https://other.example/t")
    assert upgraded is not None and not upgraded.has_header("Authorization")
    same = handler.redirect_request(request, None, 302, "Found", {}, "https://oauth.example.org/v2")
    assert same is not None and same.get_header("Authorization") == "x"


def test_a_redirect_away_from_http_names_the_target_without_its_secrets(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/x").respond_with_data(
        "", status=302, headers={"Location": "ftp://u:pw@127.0.0.1/feed?token=T"}
    )
    with pytest.raises(
        FetchError, match=r"redirected to ftp://\*\*\*@127.0.0.1/feed\?token=\*\*\*"
    ):
        fast_client().get(httpserver.url_for("/x"))


def test_errors_never_show_a_secret_of_the_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 2_000)
    with pytest.raises(FetchError) as error:
        fast_client(max_bytes=1_000).get(httpserver.url_for("/big") + "?token=SECRET&page=2")
    assert "SECRET" not in str(error.value) and "token=***&page=2" in str(error.value)
    assert "SECRET" not in error.value.url
