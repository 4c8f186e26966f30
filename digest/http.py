"""The one HTTP client: polite, bounded, conditional.

Every fetcher goes through `HttpClient.get`, so User-Agent, timeouts, the body-size cap,
per-host spacing, conditional GET and retries are decided once, here.
"""

from __future__ import annotations

import gzip
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
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


@dataclass(frozen=True)
class Response:
    url: str
    status: int  # 200, or 304 when the validators matched
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _BoundedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS


@dataclass
class HttpClient:
    user_agent: str = USER_AGENT
    timeout: float = TIMEOUT_S
    max_bytes: int = MAX_BODY_BYTES
    retries: int = RETRIES
    backoff_s: float = 1.0
    # Minimum seconds between two requests to one host. arXiv's terms ask for 3 s.
    host_spacing: dict[str, float] = field(default_factory=lambda: {"export.arxiv.org": 3.0})
    _last_request: dict[str, float] = field(default_factory=dict, repr=False)
    _host_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        request_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        request_headers.update(headers or {})
        attempt = 0
        while True:
            try:
                return self._get_once(url, request_headers)
            except TransientFetchError as exc:
                if attempt >= self.retries:
                    raise
                attempt += 1
                time.sleep(getattr(exc, "retry_after", None) or self.backoff_s * attempt)

    def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        host = urlsplit(url).netloc
        with self._host_lock(host):  # one connection per host at a time
            self._wait_for_turn(host)
            try:
                return self._open(url, headers)
            finally:
                self._last_request[host] = time.monotonic()

    def _host_lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _wait_for_turn(self, host: str) -> None:
        spacing = self.host_spacing.get(host, 0.0)
        last = self._last_request.get(host)
        if spacing and last is not None:
            delay = spacing - (time.monotonic() - last)
            if delay > 0:
                time.sleep(delay)

    def _open(self, url: str, headers: dict[str, str]) -> Response:
        opener = urllib.request.build_opener(_BoundedRedirects())
        request = urllib.request.Request(url, headers=headers)
        try:
            with opener.open(request, timeout=self.timeout) as raw:
                body = raw.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    raise FetchError(
                        f"{url}: body larger than {self.max_bytes // 1_000_000} MB — "
                        "check the url points at a feed",
                        url=url,
                    )
                body = _decode(body, raw.headers.get("Content-Encoding", ""), url)
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
                )
            message = f"HTTP {exc.code} {exc.reason}"
            if exc.code in RETRY_STATUSES:
                error = TransientFetchError(message, url=url, status=exc.code)
                error.retry_after = _retry_after(exc.headers.get("Retry-After"))  # type: ignore[attr-defined]
                raise error from None
            raise FetchError(message, url=url, status=exc.code) from None
        except (TimeoutError, ConnectionError) as exc:
            raise TransientFetchError(f"{type(exc).__name__}: {exc}", url=url) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError | ConnectionError):
                raise TransientFetchError(f"network error: {reason}", url=url) from None
            raise FetchError(f"cannot reach {url}: {reason}", url=url) from None


def _decode(body: bytes, encoding: str, url: str) -> bytes:
    encoding = encoding.lower().strip()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error) as exc:
        raise FetchError(f"{url}: broken {encoding} body ({exc})", url=url) from None
    return body


def _retry_after(value: str | None) -> float | None:
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
