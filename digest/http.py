"""The one HTTP client: polite, bounded, conditional.

Every network route goes through `HttpClient.get` (feeds, Reddit and its token, the arXiv API,
the page reader, the OpenAI-compatible server), so User-Agent, timeouts, the whole-request
deadline, the body-size caps, per-host spacing, conditional GET, redirects and retries are
decided once, here. Credentials stay with their origin: a redirect to another scheme, host or
port drops Authorization and cookies, and https never follows a redirect down to http.

`redact_url` and `redact_text` are how a URL is shown or stored for display: a `?token=` of a
private feed or the user-info of a URL never reaches a message, a run record or the store.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import zlib
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from digest import __version__
from digest.errors import FetchError, TransientFetchError

USER_AGENT = f"digest/{__version__} (+https://github.com/neural-briefing/digest)"
TIMEOUT_S = 20.0
MAX_BODY_BYTES = 10 * 1024 * 1024  # a feed bigger than 10 MB is a mistake, not news
MAX_REDIRECTS = 5
RETRIES = 2  # after the first try; only for TransientFetchError
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 60.0
# A body that trickles in is a failure too: the socket timeout alone resets on every byte.
TOTAL_TIMEOUT_S = 60.0
CHUNK_BYTES = 64 * 1024
# Query parameters whose values are secrets (private feeds' ?token=, signed URLs' sig=, API
# keys): redacted wherever a URL is shown or stored for display.
SECRET_PARAM = re.compile(r"token|key|secret|passw|pwd|sig|auth|session|credential", re.I)
REDACTED = "***"
# Headers that carry a credential: they go to the origin they were meant for, and no further.
CREDENTIAL_HEADERS = ("Authorization", "Proxy-authorization", "Cookie")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Minimum seconds between two requests to one host, whatever the caller. arXiv's API terms:
# "make no more than one request every three seconds, and limit requests to a single connection"
# (https://info.arxiv.org/help/api/tou.html).
POLITENESS = {"export.arxiv.org": 3.0}


@dataclass(frozen=True)
class Response:
    """One answer: the final URL after redirects, the status (200, or 304 Not Modified), the
    body already un-gzipped and within the size cap, the ETag and Last-Modified validators,
    and every header with its name in lower case."""

    url: str
    status: int  # 200, or 304 when the validators matched
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _RefusedRedirect(Exception):
    """A redirect not followed: away from http(s) (file:, ftp:), or from https down to http."""

    def __init__(self, target: str, why: str) -> None:
        super().__init__(target)
        self.target = target
        self.why = why


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


class _BoundedRedirects(urllib.request.HTTPRedirectHandler):
    """At most MAX_REDIRECTS, only to http(s), never from https to http; a credential header
    is dropped when the redirect leaves the origin (scheme, host, port) it was sent to."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        old, new = _origin(req.full_url), _origin(newurl)
        if new[0] not in ("http", "https"):
            raise _RefusedRedirect(newurl, "only http(s) is fetched")
        if old[0] == "https" and new[0] == "http":
            raise _RefusedRedirect(newurl, "https is never followed down to http")
        follow = super().redirect_request(req, fp, code, msg, headers, newurl)
        if follow is not None and old != new:
            for name in CREDENTIAL_HEADERS:
                follow.remove_header(name)
        return follow


class _Watchdog:
    """The whole-request deadline. A server that trickles its status line and headers resets
    the socket timeout with every byte, so only a clock outside the read can stop it: at the
    deadline this shuts down every socket the request opened, and the blocked read returns."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def left(self) -> float:
        """Seconds to the deadline (a little, never nothing, so a connect can still fail)."""
        return max(0.05, self.deadline - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also under TLS: it wakes the reader without closing the
    # SSL object under its feet.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedHTTPConnection(http.client.HTTPConnection):
    """A connection whose socket the request's watchdog can shut, from the moment it exists
    (before a TLS handshake, which `HTTPSConnection.connect` does after this `connect`)."""

    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchdog = watchdog

    def connect(self) -> None:
        if isinstance(self.timeout, int | float):
            self.timeout = min(self.timeout, self.watchdog.left())
        super().connect()
        if self.sock is not None:
            self.watchdog.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection, _WatchedHTTPConnection):
    """HTTPS over a watched socket: HTTPSConnection.connect calls the watched connect first."""


class _WatchedHTTP(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: Any) -> Any:
        return self.do_open(partial(_WatchedHTTPConnection, watchdog=self.watchdog), req)


class _WatchedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        self.ssl_context = ssl.create_default_context()
        super().__init__(context=self.ssl_context)
        self.watchdog = watchdog

    def https_open(self, req: Any) -> Any:
        connection = partial(_WatchedHTTPSConnection, watchdog=self.watchdog)
        return self.do_open(connection, req, context=self.ssl_context)


@dataclass
class HttpClient:
    """The client every fetcher shares, safe to use from many threads. Its rules: our
    User-Agent; a 20 s socket timeout and a 60 s deadline for the whole request (connect,
    status line, headers and body, every try together; waits for politeness and Retry-After
    not counted), enforced by a watchdog that shuts the socket at the deadline; bodies over
    10 MB refused, before or after decompression; at most 5 redirects, only to http(s),
    never from https down to http, and credentials (Authorization, cookies) dropped when a
    redirect leaves their origin; one request at a time per host, spaced as POLITENESS says
    (arXiv's API terms: one every 3 s); conditional GET; a wait for Reddit's
    X-Ratelimit-Reset when none are left; and 2 retries of transient failures (timeouts,
    resets, bodies cut short, HTTP 429, 500, 502, 503, 504), honouring Retry-After up to 60 s.
    Every failure is a FetchError naming the URL with its secrets redacted. Each rule is a
    field, so tests can change it."""

    user_agent: str = USER_AGENT
    timeout: float = TIMEOUT_S
    max_bytes: int = MAX_BODY_BYTES
    retries: int = RETRIES
    backoff_s: float = 1.0
    # Whole-request deadline (connect + headers + body), whatever the server's pace.
    total_timeout: float = TOTAL_TIMEOUT_S
    # Minimum seconds between two requests to one host (POLITENESS by default).
    host_spacing: dict[str, float] = field(default_factory=lambda: dict(POLITENESS))
    _last_request: dict[str, float] = field(default_factory=dict, repr=False)
    # Hosts that said "no requests left until …" (X-Ratelimit-Remaining: 0 and -Reset).
    _not_before: dict[str, float] = field(default_factory=dict, repr=False)
    # One request at a time per host (feeds, arXiv's one connection); a model server that
    # serves several requests at once sets this False.
    serial_hosts: bool = True
    _host_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Response:
        """GET (or POST when `data` is given) with every rule of this module applied; `etag`
        and `last_modified` make it conditional (a 304 is returned, not raised). Raises
        TransientFetchError once the retries or the deadline are spent, FetchError for any
        other failure (a status not worth retrying, such as 404, a body too large or broken,
        a redirect away from http(s) or down from https, an unknown host)."""
        request_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        request_headers.update(headers or {})
        attempt = 0
        spent = [0.0]  # seconds spent talking to the server, every try together
        while True:
            try:
                return self._get_once(url, request_headers, data, spent)
            except TransientFetchError as exc:
                if attempt >= self.retries or spent[0] >= self.total_timeout:
                    raise
                attempt += 1
                time.sleep(getattr(exc, "retry_after", None) or self.backoff_s * attempt)

    def post(self, url: str, data: bytes, headers: dict[str, str] | None = None) -> Response:
        """POST `data` under the same rules as `get` (retries included)."""
        return self.get(url, headers=headers, data=data)

    def _get_once(
        self, url: str, headers: dict[str, str], data: bytes | None, spent: list[float]
    ) -> Response:
        # Politeness is owed to the host, whatever the port or the case of the name.
        host = (urlsplit(url).hostname or "").lower()
        with self._host_lock(host) if self.serial_hosts else nullcontext():
            self._wait_for_turn(host)
            started = time.monotonic()
            try:
                response = self._open(url, headers, data, self.total_timeout - spent[0])
                self._note_rate_limit(host, response.headers)
                return response
            except FetchError as exc:
                self._note_rate_limit(host, exc.headers)
                raise
            finally:
                self._last_request[host] = time.monotonic()
                spent[0] += self._last_request[host] - started

    def _host_lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _wait_for_turn(self, host: str) -> None:
        spacing = self.host_spacing.get(host, 0.0)
        last = self._last_request.get(host)
        delay = 0.0
        if spacing and last is not None:
            delay = spacing - (time.monotonic() - last)
        delay = max(delay, self._not_before.get(host, 0.0) - time.monotonic())
        if delay > 0:
            time.sleep(min(delay, MAX_RETRY_AFTER_S))

    def _note_rate_limit(self, host: str, headers: dict[str, str]) -> None:
        """Reddit's X-Ratelimit-Remaining/-Reset: with nothing left, wait for the reset."""
        try:
            remaining = float(headers.get("x-ratelimit-remaining", "") or "inf")
            reset = float(headers.get("x-ratelimit-reset", "") or 0)
        except ValueError:
            return  # a header we cannot read is no reason to fail the fetch
        if remaining < 1 and reset > 0:
            self._not_before[host] = time.monotonic() + min(reset, MAX_RETRY_AFTER_S)

    def _open(self, url: str, headers: dict[str, str], data: bytes | None, left: float) -> Response:
        """One try, within the `left` seconds of the deadline."""
        if urlsplit(url).scheme.lower() not in ("http", "https", "file"):
            shown = redact_url(url)
            raise FetchError(f"{shown}: not an http(s) url — fix the source's url", url=shown)
        watchdog = _Watchdog(max(0.0, left))
        try:
            with watchdog:
                response = self._exchange(url, headers, data, watchdog)
        except FetchError:
            if watchdog.fired:
                raise _past_deadline(url, self.total_timeout) from None
            raise
        if watchdog.fired:  # the shut socket read as a short answer: it is not one
            raise _past_deadline(url, self.total_timeout)
        return response

    def _exchange(
        self, url: str, headers: dict[str, str], data: bytes | None, watchdog: _Watchdog
    ) -> Response:
        """One request and its answer, every failure a FetchError that names it."""
        shown = redact_url(url)
        opener = urllib.request.build_opener(
            _BoundedRedirects(), _WatchedHTTP(watchdog), _WatchedHTTPS(watchdog)
        )
        request = urllib.request.Request(url, headers=headers, data=data)
        try:
            with opener.open(request, timeout=min(self.timeout, self.total_timeout)) as raw:
                declared = raw.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise _too_large(url, self.max_bytes)  # refused before a byte is read
                body = _read_capped(raw, url, self.max_bytes, watchdog.deadline)
                if declared.isdigit() and len(body) < int(declared) and not watchdog.fired:
                    # The connection closed before the promised length: read1 says so by
                    # returning nothing, not by raising.
                    raise http.client.IncompleteRead(body, int(declared) - len(body))
                body = _decode(body, raw.headers.get("Content-Encoding", ""), url, self.max_bytes)
                return Response(
                    url=raw.geturl(),
                    status=getattr(raw, "status", 200) or 200,
                    body=body,
                    etag=raw.headers.get("ETag"),
                    last_modified=raw.headers.get("Last-Modified"),
                    headers={k.lower(): v for k, v in raw.headers.items()},
                )
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return Response(
                    url=url,
                    status=304,
                    body=b"",
                    etag=exc.headers.get("ETag"),
                    last_modified=exc.headers.get("Last-Modified"),
                    headers={k.lower(): v for k, v in exc.headers.items()},
                )
            message = f"HTTP {exc.code} {exc.reason}"
            if exc.code in (301, 302, 303, 307, 308):
                message += f" (more than {MAX_REDIRECTS} redirects, or a loop)"
            error_headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
            if exc.code in RETRY_STATUSES:
                error = TransientFetchError(message, url=shown, status=exc.code)
                error.retry_after = retry_after_seconds(exc.headers.get("Retry-After"))  # type: ignore[attr-defined]
                error.headers = error_headers
                raise error from None
            failure = FetchError(message, url=shown, status=exc.code)
            failure.headers = error_headers
            failure.detail = _error_detail(exc)
            raise failure from None
        except _RefusedRedirect as exc:
            raise FetchError(
                f"{shown}: redirected to {redact_url(exc.target)} — {exc.why}; fix the "
                "source's url",
                url=shown,
            ) from None
        except (TimeoutError, ConnectionError, http.client.IncompleteRead) as exc:
            # A reset, a timeout, a body cut short of its Content-Length: worth another try.
            raise TransientFetchError(f"{type(exc).__name__}: {exc}", url=shown) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | ConnectionError):
                raise TransientFetchError(f"network error: {reason}", url=shown) from None
            raise FetchError(f"cannot reach {shown}: {reason}", url=shown) from None
        except http.client.HTTPException as exc:
            raise FetchError(
                f"{shown}: not an HTTP answer ({type(exc).__name__}: {exc})", url=shown
            ) from None
        except OSError as exc:  # what a socket shut or broken mid-answer raises
            raise TransientFetchError(f"network error: {exc}", url=shown) from None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The start of an error answer's body (an API's reason), one line, for the message."""
    try:
        return " ".join(exc.read(500).decode("utf-8", "replace").split())[:200]
    except (OSError, ValueError):
        return ""


def _past_deadline(url: str, seconds: float) -> TransientFetchError:
    shown = redact_url(url)
    return TransientFetchError(
        f"{shown}: no complete answer within the {seconds:g} s deadline (a server that answers "
        "too slowly, or trickles its headers or body)",
        url=shown,
    )


def _read_capped(raw: Any, url: str, limit: int, deadline: float) -> bytes:
    """Read the body in chunks: stop at the cap (never hold more) and at the deadline."""
    chunks: list[bytes] = []
    size = 0
    read = getattr(raw, "read1", None) or raw.read
    while True:
        if time.monotonic() > deadline:
            shown = redact_url(url)
            raise TransientFetchError(f"{shown}: body still arriving at the deadline", url=shown)
        chunk = read(CHUNK_BYTES)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large(url, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, limit: int) -> FetchError:
    shown = redact_url(url)
    return FetchError(
        f"{shown}: body larger than {limit:,} bytes — check the url points at a feed", url=shown
    )


def _decode(body: bytes, encoding: str, url: str, limit: int) -> bytes:
    """Undo gzip/deflate, with the size cap applied to what comes out: 1 MB of gzip can be 1 GB.
    "deflate" is zlib-wrapped by the RFC and raw in many servers: both are read. An encoding we
    did not ask for (br, zstd) is a FetchError that names it, not a page of noise."""
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return body
    shown = redact_url(url)
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(
            f"{shown}: answered in {encoding!r}, an encoding that was not asked for", url=shown
        )
    # "deflate" is zlib-wrapped by RFC 9110, raw from many servers: try both, in that order.
    wbits = [zlib.MAX_WBITS, -zlib.MAX_WBITS] if encoding == "deflate" else [16 + zlib.MAX_WBITS]
    for tried, bits in enumerate(wbits, start=1):
        decoder = zlib.decompressobj(bits)
        try:
            decoded = decoder.decompress(body, limit + 1)
        except zlib.error as exc:
            if tried < len(wbits):
                continue
            raise FetchError(f"{shown}: broken {encoding} body ({exc})", url=shown) from None
        if len(decoded) > limit:
            raise _too_large(url, limit)
        if not decoder.eof:
            raise FetchError(f"{shown}: broken {encoding} body (truncated)", url=shown)
        return decoded
    raise AssertionError("unreachable")  # pragma: no cover


def redact_url(url: str) -> str:
    """`url` fit to show or store for display: its user-info, and the values of query (and
    fragment) parameters whose names say secret (token, key, secret, password, sig, auth …),
    replaced by `***`. Anything else is kept as written, so the URL still says which feed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0] + (f"?{REDACTED}" if "?" in url else "")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query, fragment = _redact_params(parts.query), _redact_params(parts.fragment)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _redact_params(text: str) -> str:
    if "=" not in text:
        return text
    pieces = []
    for piece in text.split("&"):
        name, equals, _ = piece.partition("=")
        secret = equals and SECRET_PARAM.search(unquote_plus(name))
        pieces.append(f"{name}={REDACTED}" if secret else piece)
    return "&".join(pieces)


_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"'`]+")


def redact_text(text: str) -> str:
    """`text` (an error message, a summary line) with every URL in it redacted by
    `redact_url`; punctuation that ends a sentence stays outside the URL."""

    def one(match: re.Match[str]) -> str:
        found = match.group()
        core = found.rstrip(".,;:!?)]}")
        return redact_url(core) + found[len(core) :]

    return _URL_IN_TEXT.sub(one, text)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))
