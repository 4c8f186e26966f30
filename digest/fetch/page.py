"""The page reader: the title and description of one web page, for `digest review add`.

A hand-added item has no feed entry; its title and text come from the page's own metadata
(`og:title`, `<title>`, `og:description`, `description`). Reading goes through the one HTTP
client with a short timeout and no retries: the item is added anyway, with what the editor gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from digest.errors import FetchError
from digest.http import HttpClient

PAGE_TIMEOUT_S = 10.0  # `review add` waits this long for a page; the item is added anyway
MAX_DESCRIPTION = 2000


@dataclass
class Page:
    """What a page says of itself: title and description, whitespace collapsed ("" if none)."""

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
        if self._in_title:
            self.title.append(data)


def parse_page(html: str) -> Page:
    """The og:title (else twitter:title, else <title>) and og:description (else description)
    of `html`; the description is cut to `MAX_DESCRIPTION` characters."""
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
    return Page(" ".join(title.split()), " ".join(description.split())[:MAX_DESCRIPTION])


def read_page(url: str, http: HttpClient | None = None) -> tuple[Page, str]:
    """The page's title and description, or an empty Page and why it could not be read (an
    unreachable page or one that is not HTML is no error: the editor's item is added anyway)."""
    client = http or HttpClient(timeout=PAGE_TIMEOUT_S, retries=0)
    try:
        response = client.get(url)
    except FetchError as exc:
        return Page(), f"could not read {url} ({exc}); added with the title you gave or the URL"
    kind = response.headers.get("content-type", "")
    if kind and "html" not in kind:
        return Page(), f"{url} is {kind.split(';')[0]}, not a web page; no description read"
    charset = re.search(r"charset=([\w-]+)", kind)
    try:
        text = response.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = response.body.decode("utf-8", errors="replace")
    return parse_page(text), ""
