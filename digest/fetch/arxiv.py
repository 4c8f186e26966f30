"""arXiv through the `arxiv` package (its API), newest submissions first.

`source.url` is the API endpoint (https://export.arxiv.org/api/query by default), so a mirror
or a local test server can stand in. The RSS form (https://rss.arxiv.org/rss/cs.LG) is a
plain `rss` source: the rss fetcher keeps its announce type.
"""

from __future__ import annotations

import arxiv
import requests

from digest.config import SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched
from digest.fetch.normalize import arxiv_id
from digest.http import HttpClient
from digest.models import Item
from digest.store import FetchState

# arXiv's API terms: no more than one request every three seconds, on one connection.
DELAY_SECONDS = 3.0
RETRIES = 2


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    if not source.query:
        raise FetchError(
            f"source {source.id!r} has no query — add e.g. query: 'cat:cs.LG OR cat:cs.AI'",
            url=source.url,
        )
    client = arxiv.Client(
        page_size=source.max_results, delay_seconds=DELAY_SECONDS, num_retries=RETRIES
    )
    client.query_url_format = source.url.split("?")[0] + "?{}"
    client._session.headers["User-Agent"] = http.user_agent
    search = arxiv.Search(
        query=source.query,
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
    return Fetched([_item(r, source, section_id) for r in results])


def _item(result: arxiv.Result, source: SourceConfig, section_id: str) -> Item:
    paper = arxiv_id(result.entry_id) or result.get_short_id().split("v")[0]
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
        },
    )
