"""RSS 1.0/2.0 and Atom through feedparser, over our HTTP client (conditional GET)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

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
    http_url,
    sanitize_html,
)
from digest.http import HttpClient
from digest.models import ArxivFields, Item
from digest.store import FetchState

SUMMARY_CHARS = 2000  # enough for a brief; the full body stays in `html`
XML_ENCODING = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding=[\"']([\w.:-]+)[\"']", re.I)


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    """Every entry of the RSS or Atom feed at `source.url`, by conditional GET with the
    validators in `state` when it was last fetched from this same url; a 304 returns no items
    and keeps the validators. Raises FetchError (TransientFetchError once the retries of a
    timeout, 429 or 50x are spent) when the feed cannot be fetched or is not a feed."""
    same_url = state is not None and state.url == source.url
    response = http.get(
        source.url,
        etag=state.etag if same_url and state else None,
        last_modified=state.last_modified if same_url and state else None,
    )
    if response.not_modified:
        # A 304 need not repeat the validators: keep the ones that earned it.
        return Fetched(
            [],
            response.etag or (state.etag if state else None),
            response.last_modified or (state.last_modified if state else None),
            True,
        )
    items = parse(response.body, source, section_id, response.headers.get("content-type", ""))
    return Fetched(items, response.etag, response.last_modified)


def repair_encoding(body: bytes) -> bytes:
    """Korean blogs still serve EUC-KR/CP949 without saying so, or while claiming UTF-8.

    Bytes that are valid in what they declare (UTF-8 when nothing is declared) pass untouched;
    otherwise CP949 (a superset of EUC-KR) is tried, and on success the feed is handed on as
    UTF-8 with a declaration that says so.
    """
    match = XML_ENCODING.match(body[:512])
    declared = match.group(2).decode("ascii").lower() if match else "utf-8"
    if body.startswith(b"\xef\xbb\xbf"):
        declared = "utf-8"  # a byte-order mark outranks the declaration
    try:
        body.decode(declared)
        return body
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        text = body.decode("cp949")
    except UnicodeDecodeError:
        return body  # not Korean either: feedparser's own guesses are the best left
    text = re.sub(r"^(\s*<\?xml[^>]*?encoding=[\"'])[\w.:-]+", r"\1utf-8", text, count=1)
    return text.encode("utf-8")


def parse(body: bytes, source: SourceConfig, section_id: str, content_type: str = "") -> list[Item]:
    """The entries of a feed's bytes (encoding repaired first, `content_type` as the server
    sent it) as items: relative links resolved against `source.url`, arXiv entries keyed by
    paper id with their announce type and categories, plain-text summary (up to 2,000
    characters) and sanitized HTML. Entries without a title or an http(s) link are skipped.
    Raises FetchError when `body` is not RSS or Atom at all."""
    headers = {"content-location": source.url}
    if content_type:
        headers["content-type"] = content_type
    feed = feedparser.parse(repair_encoding(body), response_headers=headers)
    # No version means feedparser found no RSS or Atom root (an HTML page, JSON, garbage); a
    # recognised feed with a harmless bozo flag (a wrong declared charset) is still a feed.
    if not feed.entries and not feed.get("version"):
        reason = feed.get("bozo_exception")
        detail = f" ({type(reason).__name__}: {reason})" if reason else ""
        raise FetchError(
            f"not a feed{detail} — check the url points at an RSS or Atom feed", url=source.url
        )
    return [item for entry in feed.entries if (item := _item(entry, source, section_id))]


def _address(entry: Any, base: str) -> tuple[str, str]:
    """The item's http(s) link (relative ones resolved against the feed) and its GUID."""
    guid = str(entry.get("id") or "")
    raw = str(entry.get("link") or "")
    link = http_url(urljoin(base, raw)) if raw and base.startswith("http") else http_url(raw)
    if not link and raw.startswith("file:") and base.startswith("file:"):
        link = raw  # the bundled sample reads files beside feeds.yaml
    return link or http_url(guid), guid


def _item(entry: Any, source: SourceConfig, section_id: str) -> Item | None:
    link, guid = _address(entry, source.url)
    title = clean_title(entry.get("title") or "")
    if not title or not link:
        return None  # an entry with no title or web address cannot be shown
    body = ""
    if entry.get("content"):
        body = entry.content[0].get("value", "")
    summary_html = entry.get("summary") or body
    # WordPress descriptions are cut with "[...]": the full body reads better when there is one.
    text = html_to_text(body or summary_html)
    arxiv = None
    paper = arxiv_id(link) or arxiv_id(guid)
    if paper:
        announce = ""
        # rss.arxiv.org: "arXiv:2604.12345v1 Announce Type: new Abstract: …"
        if "announce type:" in text.lower():
            head, _, rest = text.partition("Abstract:")
            said = head.lower().split("announce type:")[-1].strip()
            announce = said.split()[0] if said else ""
            text = rest.strip() or text
        if entry.get("arxiv_announce_type"):
            announce = str(entry["arxiv_announce_type"])
        tags = tuple(str(t.get("term")) for t in entry.get("tags", []) if t.get("term"))
        arxiv = ArxivFields(arxiv_id=paper, categories=tags, announce_type=announce)
        link = f"https://arxiv.org/abs/{paper}"  # the paper, not one version of it
    authors = tuple(
        a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name", "").strip()
    )
    announced = arxiv is not None and bool(arxiv.announce_type)
    if (not authors and entry.get("author")) or (announced and len(authors) == 1):
        # rss.arxiv.org puts every author in one comma-separated dc:creator.
        joined = ", ".join(authors) or entry["author"]
        authors = tuple(a.strip() for a in joined.split(",") if a.strip())
    return Item(
        id=canonical_id(link, guid),
        title=title,
        url=canonical_url(link) if link.startswith(("http://", "https://")) else link,
        source_id=source.id,
        section_id=section_id,
        published=from_struct_time(
            entry.get("published_parsed")
            # asked only when there is one: feedparser warns about its fallback otherwise
            or (entry.get("updated_parsed") if "updated" in entry else None)
        ),
        authors=authors,
        summary=text[:SUMMARY_CHARS],
        html=sanitize_html(body or summary_html),
        arxiv=arxiv,
    )
