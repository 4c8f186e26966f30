"""The fetch boundary's rules, once: what a source says becomes our `Item` fields here.

- **Text** is plain, NFC, on one line (`plain_text`): a fetcher unescapes what its format escaped,
  once (feedparser says whether a title is text or HTML; Reddit says `&amp;`), and from then on
  `<think>` is four characters of a title; only the renderers escape.
- **URLs** are parsed and written again (`http_url`): http(s) only, a real host, no control
  character or line break anywhere, the rest percent-encoded, within `URL_CHARS`.
- **Identity** (`canonical_url`, `canonical_id`, `url_key`): tracking parameters and navigation
  fragments (#top, #main) do not make a new article; a fragment the entry's own id says is
  its own (#v2-4-0 of a release-notes page) does.
- **Lengths** are capped per field (TITLE_CHARS and the rest).

`finish` applies all of them to an item; `fetch_all` passes every fetcher's items through it,
so a source type added later is held to the same rules.
"""

from __future__ import annotations

import calendar
import html
import ipaddress
import re
import string
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import nh3

from digest.models import ArxivFields, Item, RedditFields

TITLE_CHARS = 300  # a headline, not a page someone pasted into <title>
SUMMARY_CHARS = 2000  # enough for a brief; the full body stays in `html`
NAME_CHARS = 200  # an author, a flair, a category, a subreddit
MAX_AUTHORS = 100  # a physics collaboration lists thousands; a brief names a few
MAX_CATEGORIES = 30
HTML_CHARS = 200_000  # a long post's body; a 10 MB page is not news
URL_CHARS = 2048  # what browsers and servers commonly accept
ID_CHARS = URL_CHARS + 16
# Tags a feed's HTML may keep: text structure, links, images, code. Everything else goes.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3",
    "h4", "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|ref_url|spm|_hsenc|_hsmi"
    r"|mkt_tok|igshid|yclid|s_cid|cmpid)$",
    re.I,
)
# On code hosts `ref` is a branch or a tag, not where a reader came from.
REF_IS_CONTENT = re.compile(r"(^|\.)(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)$")
# Fragments that move the reader within a page (or count the visit) without naming a part of it.
NAVIGATION_FRAGMENT = re.compile(
    r"^(top|main|main-content|maincontent|content|site-content|page|comments?|respond|reply"
    r"|more(-\d+)?|disqus_thread|xtor=.*|at_.*|utm_.*|__.*|)$",
    re.I,
)
# arXiv identifiers of both eras (https://info.arxiv.org/help/arxiv_identifier.html): YYMM.NNNNN
# since 2007, archive(.SUBJECT)/YYMMNNN before (cs/0701188, math.GT/0309136, solv-int/9901001);
# the version (v2) is not part of the paper's id.
ARXIV_ID = re.compile(
    r"(?:(?i:arxiv)\.org/(?:abs|pdf|html)/|(?i:arxiv):|oai:arXiv\.org:)"
    r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2}(?:-[a-z]+)?)?/\d{7})(?!\d)"
)
# rss.arxiv.org's description opens with "arXiv:2604.12345v1 Announce Type: new Abstract: …"
# (or "arXiv:cs/0701188v4 …" for an old paper); the header is not the abstract.
ARXIV_HEADER = re.compile(r"^\s*arXiv:\S+\s+Announce\s+Type:\s*([\w-]+)\s*(?:Abstract:\s*)?", re.I)
# Where one block of HTML ends another begins: a space between their words.
_BLOCK_END = re.compile(
    r"</(p|div|pre|li|h[1-6]|blockquote|tr|td|th|table|ul|ol|dl|dt|dd|figure|figcaption"
    r"|section|article|header|footer)\s*>",
    re.I,
)
# WordPress appends this to every description; it is not the author's text.
WORDPRESS_FOOTER = re.compile(
    r"\s*(Read More\.{3}|The post .{1,300}? appeared first on .{1,120}?\.(?=\s|$))"
)
# Every character that can end a line (str.splitlines knows them all), every other control
# character, and every kind of space: one plain space in text, refused in a URL.
_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_NOT_IN_URL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Invisible characters that only hide or reorder text: zero-width space, word joiner, BOM,
# soft hyphen, and the bidirectional controls that can make a title read backwards.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200e\u200f\u2060\ufeff"))
_INVISIBLE.update(dict.fromkeys(range(0x202A, 0x202F)))  # LRE … RLO
_INVISIBLE.update(dict.fromkeys(range(0x2066, 0x206A)))  # LRI … PDI
_JOINERS = "\u200d\ufe0e\ufe0f"
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 §6.2.2: escapes compare case-insensitively, and an escaped character the path may
# hold as it is (unreserved, or a sub-delim servers treat alike: Wikipedia's "%28" and "(") is
# the same page written literally. "/" stays escaped: %2F is not a path separator.
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_LITERAL_IN_PATH = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@")
_PERCENT_HEX = re.compile(r"%[0-9a-f][0-9A-Fa-f]|%[0-9A-F][a-f]")
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_DEFAULT_PORT = {"http": 80, "https": 443}
_CHARACTER_REFERENCE = re.compile(r"&(#\d{1,7}|#[xX][\da-fA-F]{1,6}|[A-Za-z][A-Za-z\d]{1,31});")


# text ----------------------------------------------------------------------------------------
def plain_text(text: str, limit: int | None = None) -> str:
    """`text` as one line of NFC plain text: every line break, tab, control character and run
    of spaces becomes one space; invisible characters (zero-width space, BOM, bidirectional
    controls) go; a lone surrogate becomes U+FFFD. With `limit`, cut to at most that many
    characters, ending in "…", never between a letter and its combining mark."""
    text = _SURROGATE.sub("\ufffd", text).translate(_INVISIBLE)
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return shorten(text, limit) if limit is not None else text


def shorten(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters, else its start and "…" within the limit, cut
    before a combining mark or a joiner rather than after its base."""
    if len(text) <= limit:
        return text
    end = max(0, limit - 1)
    while end > 0 and (
        unicodedata.combining(text[end]) or text[end] in _JOINERS or text[end - 1] in _JOINERS
    ):
        end -= 1
    return text[:end].rstrip() + "…"


def clean_title(title: str) -> str:
    """A title that is already text (feedparser's text/plain, Reddit's title) as one line of
    NFC text within TITLE_CHARS. Nothing is unescaped or stripped: `Tensor<float, 3>` stays."""
    return plain_text(title, TITLE_CHARS)


def sanitize_html(raw: str) -> str:
    """A feed's HTML with only ALLOWED_TAGS and ALLOWED_ATTRIBUTES left (through nh3, the
    ammonia sanitizer), URLs limited to http, https and mailto, links given
    rel="noopener noreferrer"; scripts, styles and event handlers go. Line breaks become
    character references (&#10;), which mean the same in HTML and cannot end a line."""
    cleaned = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()
    return LINE_BREAKS.sub(lambda m: f"&#{ord(m.group())};", cleaned.replace("\r\n", "\n"))


def html_to_text(raw: str) -> str:
    """Plain text of an HTML fragment (tags dropped, entities decoded once), with WordPress
    boilerplate removed, as one line."""
    text = nh3.clean(_BLOCK_END.sub(r"\g<0> ", raw.replace("<br", " <br")), tags=set())
    text = html.unescape(text)
    text = WORDPRESS_FOOTER.sub("", text)
    return plain_text(text)


def text_of(value: str, kind: str) -> str:
    """Plain text of a feed field whose content type feedparser reports as `kind`: HTML (and
    XHTML) is read as HTML, anything else is already text and kept as it is."""
    return html_to_text(value) if "html" in (kind or "").lower() else plain_text(value)


def markdown_text(text: str) -> str:
    """Readable text of Markdown source (a Reddit selftext): character references such as
    &#x200B; and &lt; decoded, as Markdown renders them; the rest kept."""
    return _CHARACTER_REFERENCE.sub(lambda m: html.unescape(m.group()), text)


# URLs ----------------------------------------------------------------------------------------
def http_url(url: str) -> str:
    """`url` parsed and written again, or "" when it is not an absolute http(s) URL with a
    real host: a control character, line break (U+0085, U+2028 included) or backslash
    anywhere, a bad port or host, or more than URL_CHARS characters refuse it. Scheme and host
    are lower-cased (an IDN host in punycode), the default port and any user-info dropped,
    spaces and other characters a URL cannot hold percent-encoded."""
    url = url.strip(" \t\n\r\f\v")
    if not url or _NOT_IN_URL.search(url) or len(url) > 3 * URL_CHARS:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = _host(parts.netloc.rpartition("@")[2], parts.hostname or "")
    if scheme not in _DEFAULT_PORT or not host:
        return ""
    netloc = host if port in (None, _DEFAULT_PORT[scheme]) else f"{host}:{port}"
    try:
        path = _encode(parts.path, _SAFE_PATH) or "/"
        query = _encode(parts.query, _SAFE_QUERY)
        fragment = _encode(parts.fragment, _SAFE_QUERY)
    except UnicodeEncodeError:
        return ""
    clean = urlunsplit((scheme, netloc, path, query, fragment))
    return clean if len(clean) <= URL_CHARS else ""


def _host(netloc: str, hostname: str) -> str:
    """The host part, lower-case ASCII (IDN in punycode), or "" when it is not a host name or
    an IP address."""
    if netloc.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(hostname)}]"
        except ValueError:
            return ""
    if not hostname.isascii():
        try:
            hostname = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    hostname = hostname.lower().removesuffix(".")
    return hostname if _HOST.fullmatch(hostname) and len(hostname) <= 253 else ""


def _encode(part: str, safe: str) -> str:
    return quote(_LONE_PERCENT.sub("%25", part), safe=safe, encoding="utf-8", errors="strict")


def canonical_url(url: str, keep_fragment: bool = False) -> str:
    """The same page always gets the same string: `http_url`'s form without tracking
    parameters (utm_*, fbclid, and `ref` except on code hosts, where it is a branch) and
    without the fragment, unless `keep_fragment` says the fragment names the article itself
    (navigation fragments such as #top always go). Other parameters stay as written, blank
    ones (`?a=&b`) too. "" when `url` is not an http(s) URL."""
    clean = http_url(url)
    if not clean:
        return ""
    parts = urlsplit(clean)
    ref_is_content = bool(REF_IS_CONTENT.search(parts.hostname or ""))
    query = "&".join(
        piece for piece in parts.query.split("&") if piece and not _tracking(piece, ref_is_content)
    )
    fragment = parts.fragment
    if not keep_fragment or NAVIGATION_FRAGMENT.match(unquote_plus(fragment)):
        fragment = ""
    return urlunsplit((parts.scheme, parts.netloc, _plain_escapes(parts.path), query, fragment))


def _plain_escapes(path: str) -> str:
    def one(escape: re.Match[str]) -> str:
        char = chr(int(escape.group(1), 16))
        return char if char in _LITERAL_IN_PATH else "%" + escape.group(1).upper()

    return _ESCAPE.sub(one, path)


def _tracking(piece: str, ref_is_content: bool) -> bool:
    name = unquote_plus(piece.partition("=")[0])
    return bool(TRACKING_PARAMS.match(name)) and not (ref_is_content and name.lower() == "ref")


def own_fragment(link: str, guid: str, shared: bool = False) -> bool:
    """Whether the fragment of an entry's `link` is part of the entry's identity: when the
    entry's own id (`guid`) is something other than the page without the fragment (a tag: id
    for each release on one release-notes page, or the link with its fragment), or when other
    entries of the same feed link the same page with other fragments (`shared`)."""
    if not urlsplit(link).fragment:
        return False
    if shared:
        return True
    guid = guid.strip()
    if not guid:
        return False
    page = canonical_url(link)
    return (canonical_url(guid, keep_fragment=True) or guid) != page


def url_key(url: str, fragment: bool = True) -> str:
    """The form two addresses of one article share, for comparing (never for showing):
    `canonical_url` without scheme, "www." or a trailing slash, its parameters sorted; the
    fragment kept unless `fragment` is False. "" when `url` is not an http(s) URL."""
    clean = canonical_url(url, keep_fragment=fragment)
    if not clean:
        return ""
    parts = urlsplit(clean)
    host = parts.netloc.removeprefix("www.")
    path = _PERCENT_HEX.sub(lambda m: m.group().upper(), parts.path.rstrip("/") or "/")
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return urlunsplit(("", host, path, query, parts.fragment))


def arxiv_id(text: str) -> str | None:
    """The arXiv id without version (`2604.12345`, `cs/0701188`) from a URL or an id string."""
    match = ARXIV_ID.search(text)
    return match.group(1) if match else None


def arxiv_header(text: str) -> tuple[str, str]:
    """(announce type, abstract) of an rss.arxiv.org description; ("", text) without one."""
    match = ARXIV_HEADER.match(text)
    if not match:
        return "", text
    return match.group(1).lower(), text[match.end() :].strip()


def canonical_id(url: str, guid: str = "", keep_fragment: bool = False) -> str:
    """arXiv papers by id (so every route to a paper is one item); anything else by its
    canonical URL (with the fragment when `keep_fragment`); "" when `url` is neither, since
    an item without an http(s) address cannot be shown (the caller refuses it)."""
    found = arxiv_id(url) or arxiv_id(guid)
    if found:
        return f"arxiv:{found}"
    return canonical_url(url, keep_fragment)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# the boundary --------------------------------------------------------------------------------
def finish(item: Item) -> Item | None:
    """`item` as it may leave the fetch stage, or None when it cannot be shown: its url (and a
    Reddit post's link out) written again by `http_url`; its id one line within ID_CHARS;
    title, authors, summary and every per-source text field plain NFC text on one line within
    its cap; the HTML within HTML_CHARS and free of line breaks. Applying it twice changes
    nothing."""
    url = http_url(item.url)
    title = plain_text(item.title, TITLE_CHARS)
    ident = item.id if item.id == item.id.strip() else ""
    if not (url and title and ident) or len(ident) > ID_CHARS or _SPACES.search(ident):
        return None
    html_body = item.html
    if len(html_body) > HTML_CHARS or LINE_BREAKS.search(html_body):
        # Cut with room for the closing tags the sanitizer adds back, so a second pass keeps it.
        html_body = sanitize_html(html_body[: HTML_CHARS - 1000])
    authors = (plain_text(a, NAME_CHARS) for a in item.authors[:MAX_AUTHORS])
    return replace(
        item,
        id=unicodedata.normalize("NFC", ident),
        title=title,
        url=url,
        source_id=plain_text(item.source_id, NAME_CHARS),
        section_id=plain_text(item.section_id, NAME_CHARS),
        authors=tuple(a for a in authors if a),
        summary=plain_text(item.summary, SUMMARY_CHARS),
        html=html_body,
        arxiv=_arxiv(item.arxiv) if item.arxiv else None,
        reddit=_reddit(item.reddit) if item.reddit else None,
    )


def _arxiv(fields: ArxivFields) -> ArxivFields:
    categories = (plain_text(c, NAME_CHARS) for c in fields.categories[:MAX_CATEGORIES])
    return replace(
        fields,
        arxiv_id=plain_text(fields.arxiv_id, NAME_CHARS),
        categories=tuple(c for c in categories if c),
        primary_category=plain_text(fields.primary_category, NAME_CHARS),
        announce_type=plain_text(fields.announce_type, NAME_CHARS),
    )


def _reddit(fields: RedditFields) -> RedditFields:
    return replace(
        fields,
        link=http_url(fields.link) if fields.link else "",
        flair=plain_text(fields.flair, NAME_CHARS),
        subreddit=plain_text(fields.subreddit, NAME_CHARS),
        removed=plain_text(fields.removed, NAME_CHARS),
    )
