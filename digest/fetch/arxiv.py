"""arXiv through its API (https://info.arxiv.org/help/api/), newest submissions first.

The request goes through the one HTTP client (`digest.http`): its User-Agent, size caps before and
after decompression, whole-request deadline, retries and politeness table (arXiv's terms ask for
one request every three seconds, on one connection: `http.POLITENESS`). The answer is the API's
Atom feed, read with feedparser, the parser the `arxiv` package itself uses; owning these few
lines instead of patching that package's private session keeps every network rule in one place.

`source.url` is the API endpoint (https://export.arxiv.org/api/query by default), so a mirror
or a local test server can stand in. The RSS form (https://rss.arxiv.org/rss/cs.LG) is
`mode: rss` (or a plain `rss` source): the rss fetcher keeps its announce type.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import feedparser

from digest import clock
from digest.config import SourceConfig
from digest.errors import FetchError, TransientFetchError
from digest.fetch import Fetched, latex, rss
from digest.fetch.normalize import SUMMARY_CHARS, TITLE_CHARS, arxiv_id, plain_text
from digest.http import HttpClient
from digest.models import ArxivFields, Item
from digest.store import FetchState


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    """The papers `source.query` finds, newest first, within the source's window (which ends
    at `clock.now`, so DIGEST_NOW pins the query too).

    Raises FetchError when the url is a local file (saying how to read a saved capture), the
    query is missing, the API cannot be reached (TransientFetchError's reason), or it answers
    an error (HTTP, an answer over the client's caps or past its deadline, an error entry for
    a malformed query, a page that is not an Atom feed). An empty answer (arXiv announces
    nothing on weekends) is no items, not an error."""
    if source.mode == "rss":  # rss.arxiv.org/rss/<cats>: announce types come with the feed
        return rss.fetch(source, section_id, http, state)
    if source.url.startswith("file:"):
        raise FetchError(
            f"source {source.id!r}: the arXiv API is a web service, not a file — to read a saved "
            "capture, add `mode: rss` to the source (or make it `type: rss`): it reads API "
            "captures and rss.arxiv.org files alike",
            url=source.url,
        )
    if not source.query:
        raise FetchError(
            f"source {source.id!r} has no query — add e.g. query: 'cat:cs.LG OR cat:cs.AI'",
            url=source.url,
        )
    url = query_url(source, clock.now("UTC"))
    try:
        response = http.get(url)
    except FetchError as exc:
        if exc.status:
            raise FetchError(f"arXiv API answered HTTP {exc.status}", url=source.url) from None
        if isinstance(exc, TransientFetchError):
            raise FetchError(f"cannot reach arXiv API: {exc}", url=source.url) from None
        raise FetchError(f"arXiv API answer refused: {exc}", url=source.url) from None
    return Fetched(parse(response.body, source, section_id))


def query_url(source: SourceConfig, now: datetime) -> str:
    """The API request for `source` at time `now`: its query bounded by the window, newest
    submissions first, at most `max_results`."""
    params = {
        "search_query": bounded_query(source.query, source.window_days, now),
        "start": 0,
        "max_results": source.max_results,
        "sortBy": "submittedDate",
        "sortOrder": "descending",
    }
    return f"{source.url.split('?')[0]}?{urlencode(params)}"


def parse(body: bytes, source: SourceConfig, section_id: str) -> list[Item]:
    """Items of an API answer (current or legacy format): entries whose <id> holds no arXiv
    id are left out; title, summary and authors are plain text with their LaTeX read, within
    the boundary's caps. Raises FetchError for an error entry (a malformed query comes back
    as one, with HTTP 200) or a body that is not an Atom feed."""
    if b"<feed" not in body[:4096]:
        raise FetchError(
            "arXiv API answered with something that is not an Atom feed — check the source's "
            "url points at export.arxiv.org/api/query",
            url=source.url,
        )
    parsed: Any = feedparser.parse(body)
    categories = set(re.findall(r"cat:([\w.-]+)", source.query))
    items = []
    for entry in parsed.entries:
        if "/api/errors" in str(entry.get("id", "")):
            raise FetchError(
                f"arXiv API says: {' '.join(str(entry.get('summary', '')).split())} — fix the "
                "source's query",
                url=source.url,
            )
        item = _item(entry, source, section_id, categories)
        if item is not None:
            items.append(item)
    return items


def bounded_query(query: str, window_days: int | None, now: datetime) -> str:
    """The query limited to papers submitted within the window: older ones cannot be news."""
    if not window_days:
        return query
    start = now - timedelta(days=window_days + 1)
    return f"({query}) AND submittedDate:[{start:%Y%m%d%H%M} TO {now:%Y%m%d%H%M}]"


def announce_type(
    published: datetime | None, updated: datetime | None, primary: str, categories: set[str]
) -> str:
    """The API has no announce type: a later version is a replace, another primary a cross."""
    replaced = bool(published and updated and updated - published > timedelta(days=1))
    crossed = bool(categories) and primary not in categories
    if replaced:
        return "replace-cross" if crossed else "replace"
    return "cross" if crossed else "new"


def _item(entry: Any, source: SourceConfig, section_id: str, categories: set[str]) -> Item | None:
    # An old-style id keeps its archive: "solv-int/9901001v2" → "solv-int/9901001".
    paper = arxiv_id(str(entry.get("id", "")))
    if not paper:
        return None
    published = _time(entry.get("published_parsed"))
    updated = _time(entry.get("updated_parsed"))
    tags = [str(t.get("term", "")) for t in entry.get("tags") or [] if t.get("term")]
    primary = str((entry.get("arxiv_primary_category") or {}).get("term") or "")
    # The API's title and summary are Atom text: plain, with LaTeX in them. Long ones are cut
    # before the LaTeX is read, so a hostile mirror's megabyte costs no more than a real one.
    title = plain_text(str(entry.get("title", ""))[: 4 * TITLE_CHARS])
    summary = plain_text(str(entry.get("summary", ""))[: 4 * SUMMARY_CHARS])
    names = (
        plain_text(latex.to_text(str(a.get("name") or ""))) for a in entry.get("authors") or []
    )
    return Item(
        id=f"arxiv:{paper}",
        title=plain_text(latex.to_text(title), TITLE_CHARS),
        url=f"https://arxiv.org/abs/{paper}",
        source_id=source.id,
        section_id=section_id,
        published=published,
        authors=tuple(name for name in names if name),
        summary=plain_text(latex.to_text(summary), SUMMARY_CHARS),
        arxiv=ArxivFields(
            arxiv_id=paper,
            categories=tuple(tags),
            primary_category=primary,
            announce_type=announce_type(published, updated, primary, categories),
            updated=updated,
        ),
    )


def _time(parsed: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time."""
    return datetime(*parsed[:6]).replace(tzinfo=UTC) if parsed else None
