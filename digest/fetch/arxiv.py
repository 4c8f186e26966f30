"""arXiv through the `arxiv` package (its API), newest submissions first.

`source.url` is the API endpoint (https://export.arxiv.org/api/query by default), so a mirror
or a local test server can stand in. The RSS form (https://rss.arxiv.org/rss/cs.LG) is
`mode: rss` (or a plain `rss` source): the rss fetcher keeps its announce type.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import arxiv
import requests

from digest.config import SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched, rss
from digest.fetch.normalize import arxiv_id
from digest.http import HttpClient
from digest.models import Item
from digest.store import FetchState

# arXiv's API terms: no more than one request every three seconds, on one connection.
DELAY_SECONDS = 3.0
RETRIES = 2
_ONE_AT_A_TIME = threading.Lock()
_last_done: list[float | None] = [None]  # when the last arXiv source finished, any thread


class _Session(requests.Session):
    """The arxiv package passes its own User-Agent and no timeout on every request: ours win."""

    def __init__(self, user_agent: str, timeout: float) -> None:
        super().__init__()
        self.user_agent = user_agent
        self.timeout = timeout

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "user-agent": self.user_agent}
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(method, url, *args, **kwargs)
        if response.ok and b"<feed" not in response.content[:4096]:
            # The arxiv package would read an HTML error page as "no results": say what it is.
            raise FetchError(
                f"arXiv API answered HTTP {response.status_code} with something that is not an "
                "Atom feed — check the source's url points at export.arxiv.org/api/query",
                url=str(url),
            )
        return response


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    if source.mode == "rss":  # rss.arxiv.org/rss/<cats>: announce types come with the feed
        return rss.fetch(source, section_id, http, state)
    if not source.query:
        raise FetchError(
            f"source {source.id!r} has no query — add e.g. query: 'cat:cs.LG OR cat:cs.AI'",
            url=source.url,
        )
    with _ONE_AT_A_TIME:  # every arXiv source shares arXiv's one connection and its 3 s
        if _last_done[0] is not None:
            wait = DELAY_SECONDS - (time.monotonic() - _last_done[0])
            if wait > 0:
                time.sleep(wait)
        return _search(source, section_id, http)


def _search(source: SourceConfig, section_id: str, http: HttpClient) -> Fetched:
    client = arxiv.Client(
        page_size=source.max_results, delay_seconds=DELAY_SECONDS, num_retries=RETRIES
    )
    client.query_url_format = source.url.split("?")[0] + "?{}"
    client._session = _Session(http.user_agent, http.timeout)
    search = arxiv.Search(
        query=bounded_query(source.query, source.window_days, datetime.now(UTC)),
        max_results=source.max_results,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    try:
        results = list(client.results(search))
    except arxiv.HTTPError as exc:
        raise FetchError(f"arXiv API answered HTTP {exc.status}", url=source.url) from None
    except arxiv.UnexpectedEmptyPageError:
        results = []  # arXiv announces nothing on weekends: nothing new, not an error
    except requests.RequestException as exc:
        raise FetchError(f"cannot reach arXiv API: {exc}", url=source.url) from None
    finally:
        _last_done[0] = time.monotonic()
    categories = set(re.findall(r"cat:([\w.-]+)", source.query))
    # A malformed query comes back as one "error" entry, not as an HTTP error.
    papers = [r for r in results if "/api/errors" not in r.entry_id]
    return Fetched([_item(r, source, section_id, categories) for r in papers])


def bounded_query(query: str, window_days: int | None, now: datetime) -> str:
    """The query limited to papers submitted within the window: older ones cannot be news."""
    if not window_days:
        return query
    start = now - timedelta(days=window_days + 1)
    return f"({query}) AND submittedDate:[{start:%Y%m%d%H%M} TO {now:%Y%m%d%H%M}]"


def announce_type(result: arxiv.Result, categories: set[str]) -> str:
    """The API has no announce type: a later version is a replace, another primary a cross."""
    replaced = result.updated and result.updated - result.published > timedelta(days=1)
    crossed = categories and result.primary_category not in categories
    if replaced:
        return "replace-cross" if crossed else "replace"
    return "cross" if crossed else "new"


def _item(
    result: arxiv.Result, source: SourceConfig, section_id: str, categories: set[str]
) -> Item:
    # An old-style id keeps its archive: "solv-int/9901001v2" → "solv-int/9901001".
    paper = arxiv_id(result.entry_id) or re.sub(r"v\d+$", "", result.get_short_id())
    return Item(
        id=f"arxiv:{paper}",
        title=" ".join(result.title.split()),
        url=f"https://arxiv.org/abs/{paper}",
        source_id=source.id,
        section_id=section_id,
        published=result.published,
        authors=tuple(a.name for a in result.authors),
        summary=" ".join(result.summary.split()),
        extra={
            "arxiv_id": paper,
            "categories": list(result.categories),
            "primary_category": result.primary_category,
            "updated": result.updated.isoformat() if result.updated else None,
            "announce_type": announce_type(result, categories),
        },
    )
