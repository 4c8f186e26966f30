"""The page reader: the title and description of one web page, for `digest review add`.

A hand-added item has no feed entry; its title and text come from the page's own metadata
(`og:title`, `<title>`, `og:description`, `description`). Reading goes through the one HTTP
client with a short deadline for the whole request and no retries: the item is added anyway,
with what the editor gave. What the page says is held to the fetch boundary's rules: plain NFC
text on one line, the title within TITLE_CHARS (a 9 MB og:title is a title's length, no more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from digest.errors import FetchError
from digest.fetch.normalize import SUMMARY_CHARS, TITLE_CHARS, plain_text
from digest.http import HttpClient, redact_url

PAGE_TIMEOUT_S = 10.0  # `review add` waits this long for a page; the item is added anyway
MAX_DESCRIPTION = SUMMARY_CHARS
# What is read of a page: its metadata is in the head, and a page of this size has one.
MAX_PAGE_BYTES = 5 * 1024 * 1024


@dataclass
class Page:
    """What a page says of itself: title and description as one line of plain NFC text each,
    within TITLE_CHARS and MAX_DESCRIPTION ("" if none)."""

    title: str = ""
    description: str = ""


class _PageMeta(HTMLParser):
    """<title>, og:title, and the description meta tags of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name and "content" in values:
                self.meta.setdefault(name, values["content"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and sum(map(len, self.title)) < 4 * TITLE_CHARS:
            self.title.append(data)


def parse_page(html: str) -> Page:
    """The og:title (else twitter:title, else <title>) and og:description (else description)
    of `html`, entities decoded once, as plain one-line NFC text; the title cut to
    TITLE_CHARS, the description to `MAX_DESCRIPTION` characters."""
    parser = _PageMeta()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or "".join(parser.title)
    description = (
        meta.get("og:description")
        or meta.get("description")
        or meta.get("twitter:description")
        or ""
    )
    return Page(
        plain_text(title[: 4 * TITLE_CHARS], TITLE_CHARS),
        plain_text(description[: 4 * MAX_DESCRIPTION], MAX_DESCRIPTION),
    )


def read_page(url: str, http: HttpClient | None = None) -> tuple[Page, str]:
    """The page's title and description, or an empty Page and why it could not be read (an
    unreachable, slow or oversized page, or one that is not HTML, is no error: the editor's
    item is added anyway when they give its title). The reason names the url with its secrets
    redacted."""
    client = http or HttpClient(
        timeout=PAGE_TIMEOUT_S, total_timeout=PAGE_TIMEOUT_S, retries=0, max_bytes=MAX_PAGE_BYTES
    )
    shown = redact_url(url)
    try:
        response = client.get(url)
    except FetchError as exc:
        return Page(), f"could not read {shown} ({exc})"
    kind = plain_text(response.headers.get("content-type", ""), 100)
    if kind and "html" not in kind:
        return Page(), f"{shown} is {kind.split(';')[0]}, not a web page"
    charset = re.search(r"charset=([\w-]+)", kind)
    try:
        text = response.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = response.body.decode("utf-8", errors="replace")
    return parse_page(text), ""
