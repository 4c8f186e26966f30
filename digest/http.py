"""The one HTTP client: polite, bounded, conditional.

Every fetcher goes through `HttpClient.get`, so User-Agent, timeouts, the body-size cap,
per-host spacing, conditional GET and retries are decided once, here.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import zlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

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


class _SchemeRedirect(Exception):
    """A redirect away from http(s): file:, ftp: and friends are never followed."""


class _BoundedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise _SchemeRedirect(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class HttpClient:
    """The client every fetcher shares, safe to use from many threads. Its rules: our
    User-Agent; a 20 s socket timeout and a 60 s deadline for the whole request; bodies over
    10 MB refused, before or after decompression; at most 5 redirects and only to http(s);
    one request at a time per host, spaced as POLITENESS says (arXiv's API terms: one every
    3 s); conditional GET; a wait for Reddit's X-Ratelimit-Reset when none are left; and 2
    retries of transient failures (timeouts, resets, HTTP 429, 500, 502, 503, 504), honouring
    Retry-After up to 60 s. Each rule is a field, so tests can change it."""

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
        TransientFetchError once the retries are spent, FetchError for any other failure
        (a status not worth retrying, such as 404, a body too large or broken, a redirect
        away from http(s), an unknown host)."""
        request_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        request_headers.update(headers or {})
        attempt = 0
        while True:
            try:
                return self._get_once(url, request_headers, data)
            except TransientFetchError as exc:
                if attempt >= self.retries:
                    raise
                attempt += 1
                time.sleep(getattr(exc, "retry_after", None) or self.backoff_s * attempt)

    def post(self, url: str, data: bytes, headers: dict[str, str] | None = None) -> Response:
        """POST `data` under the same rules as `get` (retries included)."""
        return self.get(url, headers=headers, data=data)

    def _get_once(self, url: str, headers: dict[str, str], data: bytes | None) -> Response:
        # Politeness is owed to the host, whatever the port or the case of the name.
        host = (urlsplit(url).hostname or "").lower()
        with self._host_lock(host) if self.serial_hosts else nullcontext():
            self._wait_for_turn(host)
            try:
                response = self._open(url, headers, data)
                self._note_rate_limit(host, response.headers)
                return response
            except FetchError as exc:
                self._note_rate_limit(host, exc.headers)
                raise
            finally:
                self._last_request[host] = time.monotonic()

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

    def _open(self, url: str, headers: dict[str, str], data: bytes | None = None) -> Response:
        if urlsplit(url).scheme.lower() not in ("http", "https", "file"):
            raise FetchError(f"{url}: not an http(s) url — fix the source's url", url=url)
        opener = urllib.request.build_opener(_BoundedRedirects())
        request = urllib.request.Request(url, headers=headers, data=data)
        deadline = time.monotonic() + self.total_timeout
        try:
            with opener.open(request, timeout=self.timeout) as raw:
                declared = raw.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise _too_large(url, self.max_bytes)  # refused before a byte is read
                body = _read_capped(raw, url, self.max_bytes, deadline)
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
                error = TransientFetchError(message, url=url, status=exc.code)
                error.retry_after = retry_after_seconds(exc.headers.get("Retry-After"))  # type: ignore[attr-defined]
                error.headers = error_headers
                raise error from None
            failure = FetchError(message, url=url, status=exc.code)
            failure.headers = error_headers
            failure.detail = _error_detail(exc)
            raise failure from None
        except _SchemeRedirect as exc:
            raise FetchError(
                f"{url}: redirected to {exc} — only http(s) is fetched; fix the source's url",
                url=url,
            ) from None
        except (TimeoutError, ConnectionError) as exc:
            raise TransientFetchError(f"{type(exc).__name__}: {exc}", url=url) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | ConnectionError):
                raise TransientFetchError(f"network error: {reason}", url=url) from None
            raise FetchError(f"cannot reach {url}: {reason}", url=url) from None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The start of an error answer's body (an API's reason), one line, for the message."""
    try:
        return " ".join(exc.read(500).decode("utf-8", "replace").split())[:200]
    except (OSError, ValueError):
        return ""


def _read_capped(raw: Any, url: str, limit: int, deadline: float) -> bytes:
    """Read the body in chunks: stop at the cap (never hold more) and at the deadline."""
    chunks: list[bytes] = []
    size = 0
    read = getattr(raw, "read1", None) or raw.read
    while True:
        if time.monotonic() > deadline:
            raise TransientFetchError(f"{url}: body still arriving at the deadline", url=url)
        chunk = read(CHUNK_BYTES)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large(url, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(url: str, limit: int) -> FetchError:
    return FetchError(
        f"{url}: body larger than {limit:,} bytes — check the url points at a feed", url=url
    )


def _decode(body: bytes, encoding: str, url: str, limit: int) -> bytes:
    """Undo gzip/deflate, with the size cap applied to what comes out: 1 MB of gzip can be 1 GB."""
    encoding = encoding.lower().strip()
    if encoding not in ("gzip", "deflate"):
        return body
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        decoded = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise FetchError(f"{url}: broken {encoding} body ({exc})", url=url) from None
    if len(decoded) > limit:
        raise _too_large(url, limit)
    if not decoder.eof:
        raise FetchError(f"{url}: broken {encoding} body (truncated)", url=url)
    return decoded


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
