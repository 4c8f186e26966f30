"""RSS 1.0/2.0 and Atom through feedparser, over our HTTP client (conditional GET)."""

from __future__ import annotations

from typing import Any

import feedparser

from digest.config import SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched
from digest.fetch.normalize import (
    arxiv_id,
    canonical_id,
    canonical_url,
    clean_title,
    from_struct_time,
    html_to_text,
    sanitize_html,
)
from digest.http import HttpClient
from digest.models import Item
from digest.store import FetchState

SUMMARY_CHARS = 2000  # enough for a brief; the full body stays in `html`


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    same_url = state is not None and state.url == source.url
    response = http.get(
        source.url,
        etag=state.etag if same_url and state else None,
        last_modified=state.last_modified if same_url and state else None,
    )
    if response.not_modified:
        return Fetched([], state.etag if state else None, response.last_modified, True)
    items = parse(response.body, source, section_id)
    return Fetched(items, response.etag, response.last_modified)


def parse(body: bytes, source: SourceConfig, section_id: str) -> list[Item]:
    feed = feedparser.parse(body)
    if not feed.entries:
        if feed.get("bozo"):
            reason = feed.get("bozo_exception") or "unreadable"
            raise FetchError(f"not a feed ({type(reason).__name__}: {reason})", url=source.url)
        if not feed.get("feed") and not feed.get("version"):
            raise FetchError("not an RSS or Atom feed", url=source.url)
    return [item for entry in feed.entries if (item := _item(entry, source, section_id))]


def _item(entry: Any, source: SourceConfig, section_id: str) -> Item | None:
    link = entry.get("link") or ""
    guid = entry.get("id") or ""
    title = clean_title(entry.get("title") or "")
    if not title or not (link or guid):
        return None  # an entry with no title or address cannot be shown
    body = ""
    if entry.get("content"):
        body = entry.content[0].get("value", "")
    summary_html = entry.get("summary") or body
    # WordPress descriptions are cut with "[...]": the full body reads better when there is one.
    text = html_to_text(body or summary_html)
    extra: dict[str, Any] = {}
    paper = arxiv_id(link) or arxiv_id(guid)
    if paper:
        extra["arxiv_id"] = paper
        # rss.arxiv.org: "arXiv:2604.12345v1 Announce Type: new Abstract: …"
        if "announce type:" in text.lower():
            head, _, rest = text.partition("Abstract:")
            announce = head.lower().split("announce type:")[-1].strip()
            extra["announce_type"] = announce.split()[0] if announce else ""
            text = rest.strip() or text
        if entry.get("arxiv_announce_type"):
            extra["announce_type"] = entry["arxiv_announce_type"]
        extra["categories"] = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        link = f"https://arxiv.org/abs/{paper}"  # the paper, not one version of it
    authors = tuple(
        a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name", "").strip()
    )
    if not authors and entry.get("author"):
        authors = tuple(a.strip() for a in entry["author"].split(",") if a.strip())
    return Item(
        id=canonical_id(link, guid),
        title=title,
        url=canonical_url(link) if link.startswith(("http://", "https://")) else link or guid,
        source_id=source.id,
        section_id=section_id,
        published=from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        authors=authors,
        summary=text[:SUMMARY_CHARS],
        html=sanitize_html(body or summary_html),
        extra=extra,
    )
