"""Helpers every fetcher uses to turn what a source says into our `Item` fields."""

from __future__ import annotations

import calendar
import html
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

TITLE_CHARS = 300  # a headline, not a page someone pasted into <title>
# Tags a feed's HTML may keep: text structure, links, images, code. Everything else goes.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3",
    "h4", "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|spm)$", re.I)
# arXiv identifiers of both eras (https://info.arxiv.org/help/arxiv_identifier.html): YYMM.NNNNN
# since 2007, archive(.SUBJECT)/YYMMNNN before (cs/0701188, math.GT/0309136, solv-int/9901001);
# the version (v2) is not part of the paper's id.
ARXIV_ID = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|arXiv:|oai:arXiv\.org:)"
    r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})"
)
# WordPress appends this to every description; it is not the author's text.
WORDPRESS_FOOTER = re.compile(
    r"\s*(Read More\.{3}|The post .{1,300}? appeared first on .{1,120}?\.(?=\s|$))"
)


def sanitize_html(raw: str) -> str:
    """A feed's HTML with only ALLOWED_TAGS and ALLOWED_ATTRIBUTES left (through nh3, the
    ammonia sanitizer), URLs limited to http, https and mailto, links given
    rel="noopener noreferrer"; scripts, styles and event handlers go."""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def html_to_text(raw: str) -> str:
    """Plain text of a feed's HTML fragment, with WordPress boilerplate removed."""
    text = nh3.clean(raw.replace("</p>", "</p> ").replace("<br", " <br"), tags=set())
    text = html.unescape(text)
    text = WORDPRESS_FOOTER.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def canonical_url(url: str) -> str:
    """The same page always gets the same string: no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not TRACKING_PARAMS.match(k)])
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def arxiv_id(text: str) -> str | None:
    """The arXiv id without version from a URL or an id string."""
    match = ARXIV_ID.search(text)
    return match.group(1) if match else None


def canonical_id(url: str, guid: str = "") -> str:
    """arXiv papers by id (so every route to a paper is one item); anything else by URL."""
    found = arxiv_id(url) or arxiv_id(guid)
    if found:
        return f"arxiv:{found}"
    if url.startswith(("http://", "https://")):
        return canonical_url(url)
    return guid or url


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time."""
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def http_url(url: str) -> str:
    """The url when it is absolute http(s), else "": javascript:, data: and friends go."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return ""
    return url if urlsplit(url).hostname else ""


def clean_title(title: str) -> str:
    """Plain text: markup goes even when a feed escaped it twice (&amp;lt;script&amp;gt;)."""
    for _ in range(3):  # bounded: each pass peels one level of escaping
        cleaned = html.unescape(nh3.clean(title, tags=set()))
        if cleaned == title:
            break
        title = cleaned
    title = re.sub(r"[\s\u200b-\u200d\ufeff]+", " ", title).strip()
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"
