"""RSS 1.0/2.0 and Atom through feedparser, over our HTTP client (conditional GET)."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import feedparser

from digest.config import SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched, latex
from digest.fetch.normalize import (
    SUMMARY_CHARS,
    TITLE_CHARS,
    arxiv_header,
    arxiv_id,
    canonical_id,
    canonical_url,
    from_struct_time,
    http_url,
    own_fragment,
    plain_text,
    sanitize_html,
    text_of,
)
from digest.http import HttpClient, redact_url
from digest.models import ArxivFields, Item
from digest.store import FetchState

__all__ = ["SUMMARY_CHARS", "fetch", "parse", "repair_encoding"]
XML_ENCODING = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding=[\"']([\w.:-]+)[\"']", re.I)


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    """Every entry of the RSS or Atom feed at `source.url`, by conditional GET with the
    validators in `state` when it was last fetched from this same url; a 304 returns no items
    and keeps the validators. Raises FetchError (TransientFetchError once the retries of a
    timeout, 429 or 50x are spent) when the feed cannot be fetched or is not a feed."""
    # The store keeps the url as shown (its secrets redacted): either form is this url.
    same_url = state is not None and state.url in (source.url, redact_url(source.url))
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
    sent it) as items: relative links resolved against `source.url`; a link's fragment kept
    when it names the entry (`normalize.own_fragment`); arXiv entries keyed by paper id with
    their announce type, categories and authors, their LaTeX read as text; title and summary
    as plain text (HTML read as HTML, text kept as text: a title's `<think>` stays), the
    summary up to 2,000 characters; sanitized HTML. Entries without a title or an http(s)
    link are skipped. Raises FetchError when `body` is not RSS or Atom at all."""
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
    addresses = [_address(entry, source.url) for entry in feed.entries]
    shared = _pages_with_fragments(link for link, _ in addresses)
    many = _pages_with_many_ids(addresses)
    items = []
    for entry, (link, guid) in zip(feed.entries, addresses, strict=True):
        item = _item(entry, link, guid, shared, source, section_id)
        if item and not item.id.startswith("arxiv:") and canonical_url(link) in many:
            item = replace(item, id=f"{item.id}#{quote(guid, safe='')}")
        if item:
            items.append(item)
    return items


def _address(entry: Any, base: str) -> tuple[str, str]:
    """The item's http(s) link (relative ones resolved against the feed) and its GUID."""
    guid = str(entry.get("id") or "")
    raw = str(entry.get("link") or "")
    link = http_url(urljoin(base, raw)) if raw and base.startswith("http") else http_url(raw)
    return link or http_url(guid), guid


def _pages_with_fragments(links: Any) -> set[str]:
    """Pages that several entries link with different fragments (#post-1, #post-2): there
    the fragment is what tells the entries apart, whatever their GUIDs say."""
    fragments: dict[str, set[str]] = defaultdict(set)
    for link in links:
        if link:
            fragments[canonical_url(link)].add(urlsplit(link).fragment)
    return {page for page, seen in fragments.items() if len(seen) > 1}


def _pages_with_many_ids(addresses: list[tuple[str, str]]) -> set[str]:
    """Pages that several entries link with no fragment to tell them apart but with their own
    ids (a release-notes page whose Atom entries are tag:…:v2.4.0 and tag:…:v2.3.1): there the
    entry's id is part of the item's, or the newer entry would overwrite the older one."""
    ids: dict[str, set[str]] = defaultdict(set)
    for link, guid in addresses:
        if link and guid and not urlsplit(link).fragment:
            ids[canonical_url(link)].add(guid)
    return {page for page, seen in ids.items() if len(seen) > 1}


def _body(entry: Any) -> tuple[str, str]:
    """The entry's fullest text and its content type: the body (<content>, content:encoded)
    when there is one, else the summary. WordPress descriptions are cut with "[...]"; the
    full body reads better."""
    for content in entry.get("content") or []:
        if content.get("value"):
            return str(content["value"]), str(content.get("type") or "text/html")
    detail = entry.get("summary_detail") or {}
    return str(entry.get("summary") or ""), str(detail.get("type") or "text/html")


def _item(
    entry: Any, link: str, guid: str, shared: set[str], source: SourceConfig, section_id: str
) -> Item | None:
    title = text_of(entry.get("title") or "", (entry.get("title_detail") or {}).get("type", ""))
    if not title or not link:
        return None  # an entry with no title or web address cannot be shown
    raw, raw_type = _body(entry)
    text = text_of(raw, raw_type)
    markup = sanitize_html(raw) if "html" in raw_type else html.escape(plain_text(raw))
    arxiv = None
    paper = arxiv_id(link) or arxiv_id(guid)
    keep_fragment = False
    if paper:
        announce, text = arxiv_header(text)
        if entry.get("arxiv_announce_type"):
            announce = str(entry["arxiv_announce_type"])
        tags = tuple(str(t.get("term")) for t in entry.get("tags", []) if t.get("term"))
        arxiv = ArxivFields(arxiv_id=paper, categories=tags, announce_type=announce)
        link = f"https://arxiv.org/abs/{paper}"  # the paper, not one version of it
        title = plain_text(latex.to_text(title), TITLE_CHARS)
        text = latex.to_text(text[: 4 * SUMMARY_CHARS])
    else:
        keep_fragment = own_fragment(link, guid, canonical_url(link) in shared)
    authors = tuple(
        a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name", "").strip()
    )
    announced = arxiv is not None and bool(arxiv.announce_type)
    if (not authors and entry.get("author")) or (announced and len(authors) == 1):
        # rss.arxiv.org puts every author in one comma-separated dc:creator.
        joined = ", ".join(authors) or entry["author"]
        authors = tuple(a.strip() for a in joined.split(",") if a.strip())
    if arxiv is not None:
        authors = tuple(latex.to_text(a) for a in authors)  # Schr\"odinger is Schrödinger
    return Item(
        id=canonical_id(link, guid, keep_fragment),
        title=plain_text(title, TITLE_CHARS),
        url=canonical_url(link, keep_fragment),
        source_id=source.id,
        section_id=section_id,
        published=from_struct_time(
            entry.get("published_parsed")
            # asked only when there is one: feedparser warns about its fallback otherwise
            or (entry.get("updated_parsed") if "updated" in entry else None)
        ),
        authors=authors,
        summary=plain_text(text, SUMMARY_CHARS),
        html=markup,
        arxiv=arxiv,
    )
