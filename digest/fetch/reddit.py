"""Reddit's JSON listing (e.g. /r/MachineLearning/top.json?t=day), or its Atom feed.

Reddit wants a descriptive User-Agent (`<platform>:<app id>:<version> (by /u/<user>)`) and
blocks anonymous data-centre clients with 403/429: we then try the subreddit's Atom feed, and
when that is refused too we say so, with the fix, instead of a bare status code. With app
credentials in the environment we first ask for an app-only OAuth token (client-credentials
grant) and read the listing through oauth.reddit.com, as Reddit asks.

Fetch keeps every post, stickied, removed and low-scored ones included (flagged in
`RedditFields`: `stickied`, `removed`, `score`): `min_score` and the filters are selection's
job, so a changed threshold can judge them again.

Reddit's JSON (unless asked for `raw_json=1`) escapes `&`, `<` and `>` as `&amp;`, `&lt;` and
`&gt;` in every string, links included. The fetcher undoes exactly that, once, for every field it
reads: a title's `<think>` is text and a link's `?id=42&lang=en` is the address it points at.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from digest import __version__
from digest.config import Secrets, SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched, rss
from digest.fetch.normalize import (
    NAME_CHARS,
    SUMMARY_CHARS,
    canonical_url,
    clean_title,
    http_url,
    markdown_text,
    plain_text,
)
from digest.http import HttpClient
from digest.models import Item, RedditFields
from digest.store import FetchState

SELFTEXT_CHARS = SUMMARY_CHARS
POST_ID = re.compile(r"reddit\.com/r/[^/]+/comments/([a-z0-9]+)")
# What Reddit's legacy JSON escapes, and nothing else: "&copy=2" in a link stays as it is.
REDDIT_ESCAPES = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
# What is left of a post its author deleted or moderators removed.
GONE = {"[removed]": "removed by moderators", "[deleted]": "deleted by its author"}
GONE_TITLES = {"[deleted by user]", "[removed by reddit]"}
USER_AGENT = f"python:org.neuralbriefing.digest:{__version__} (by /u/neural-briefing)"
CLIENT_ID_ENV = "DIGEST_REDDIT_CLIENT_ID"
CLIENT_SECRET_ENV = "DIGEST_REDDIT_CLIENT_SECRET"
USER_AGENT_ENV = "DIGEST_REDDIT_USER_AGENT"
OAUTH_HOST = "oauth.reddit.com"


def user_agent(source: SourceConfig) -> str:
    """DIGEST_REDDIT_USER_AGENT, else the source's user_agent, else digest's own (Reddit asks
    for "<platform>:<app id>:<version> (by /u/<user>)")."""
    return Secrets.from_env().reddit_user_agent or source.user_agent or USER_AGENT


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    """Every post of the subreddit listing at `source.url` (through oauth.reddit.com with an
    app token when DIGEST_REDDIT_CLIENT_ID and _SECRET are set), or of its Atom feed when the
    JSON is refused anonymously (403/429) or `url` is the Atom feed itself. Never conditional:
    `state` is not used and no validators are returned. Raises FetchError naming the fix when
    Reddit refuses this client or the token request, TransientFetchError when the retries of
    a timeout or 50x are spent, FetchError when the answer is not a listing or a feed."""
    headers = {"Accept": "application/json", "User-Agent": user_agent(source)}
    url = source.url
    token = _token(source, http, headers["User-Agent"])
    if token:
        headers["Authorization"] = f"bearer {token}"
        url = _oauth_url(url)
    try:
        response = http.get(url, headers=headers)
    except FetchError as exc:
        atom = atom_url(url)
        if exc.status in (403, 429) and not token and atom:
            # Anonymous JSON refused: the subreddit's Atom feed is often still served.
            try:
                response = http.get(atom, headers={"User-Agent": headers["User-Agent"]})
            except FetchError:
                pass  # both refused: report the JSON refusal, which names the real fix
            else:
                items = rss.parse(response.body, source, section_id)
                return Fetched([_from_atom(item) for item in items])
        if exc.status in (403, 429):
            fix = (
                "check the app's credentials and the User-Agent"
                if token
                else f"set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} (a Reddit 'script' app), "
                "or use the subreddit's .rss feed"
            )
            raise FetchError(
                f"{exc} — Reddit refuses this client; {fix}", url=source.url, status=exc.status
            ) from None
        raise
    body = response.body.lstrip()
    if body.startswith(b"<"):  # the Atom fallback (/r/…/top.rss)
        return Fetched([_from_atom(item) for item in rss.parse(body, source, section_id)])
    return Fetched(parse(body, source, section_id))


def _token(source: SourceConfig, http: HttpClient, agent: str) -> str | None:
    """An app-only OAuth token when credentials are set in the environment, else None."""
    secrets = Secrets.from_env()
    client_id, secret = secrets.reddit_client_id, secrets.reddit_client_secret
    if not (client_id and secret):
        return None
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    try:
        response = http.post(
            source.token_url,
            urlencode({"grant_type": "client_credentials"}).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "User-Agent": agent,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        token = json.loads(response.body).get("access_token")
    except FetchError as exc:
        raise FetchError(
            f"Reddit OAuth token request failed ({exc}) — check {CLIENT_ID_ENV} and "
            f"{CLIENT_SECRET_ENV}",
            url=source.token_url,
            status=exc.status,
        ) from None
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise FetchError(
            f"Reddit OAuth answer has no access_token — check {CLIENT_ID_ENV} and "
            f"{CLIENT_SECRET_ENV}",
            url=source.token_url,
        )
    return token


def atom_url(url: str) -> str:
    """The Atom form of a JSON listing (/r/ML/top.json?t=day → /r/ML/top.rss?t=day), or ""."""
    parts = urlsplit(url)
    if not parts.path.endswith(".json"):
        return ""
    return urlunsplit(parts._replace(path=parts.path.removesuffix(".json") + ".rss"))


def _oauth_url(url: str) -> str:
    """Tokens are good on oauth.reddit.com only; a test server or mirror keeps its own host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in ("reddit.com", "www.reddit.com", "old.reddit.com"):
        return urlunsplit((parts.scheme, OAUTH_HOST, parts.path, parts.query, ""))
    return url


def _from_atom(item: Item) -> Item:
    """One post, one id, whichever form it came in: `reddit:<id>`, `u/name` as in JSON, and a
    removed or deleted post flagged as such."""
    post = POST_ID.search(item.url)
    # The feed's text of a removed post: "[removed] submitted by /u/[deleted] [link] [comments]".
    gone = GONE.get(item.summary.split(" ", 1)[0], "")
    return replace(
        item,
        id=f"reddit:{post.group(1)}" if post else item.id,
        authors=tuple(a.removeprefix("/") for a in item.authors if a not in ("/u/[deleted]",)),
        reddit=RedditFields(removed=gone) if gone else item.reddit,
    )


def parse(body: bytes, source: SourceConfig, section_id: str) -> list[Item]:
    """The posts (kind t3) of a Reddit JSON listing as items with id `reddit:<post id>`, the
    thread as url (https://www.reddit.com/… on one line, whatever the permalink says), score,
    comments, outbound link and why a post is gone (`removed`) in `reddit`, and the selftext
    (up to 2,000 characters) as summary; every string unescaped once, unless `source.url`
    asks for `raw_json=1`. Entries without an id or title are skipped. Raises FetchError when
    `body` is not a listing."""
    escaped = not _asks_raw_json(source.url)
    try:
        listing = json.loads(body)
        children = listing["data"]["children"]
        if not isinstance(children, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise FetchError("not a Reddit JSON listing", url=source.url) from None
    items = []
    for child in children:
        item = _item(child, source, section_id, escaped)
        if item is not None:
            items.append(item)
    return items


def _asks_raw_json(url: str) -> bool:
    """Whether the listing url asks Reddit not to escape (`raw_json=1`)."""
    return ("raw_json", "1") in parse_qsl(urlsplit(url).query)


def _item(child: Any, source: SourceConfig, section_id: str, escaped: bool) -> Item | None:
    """One post, or None when it lacks what a post needs (an id and a title)."""
    if not isinstance(child, dict) or child.get("kind") != "t3":
        return None
    post = child.get("data")
    if not isinstance(post, dict):
        return None

    def field(name: str) -> str:
        """A string field as Reddit meant it: unescaped once; "" when absent or not text."""
        value = post.get(name)
        if not isinstance(value, str):
            return ""
        return REDDIT_ESCAPES.sub(lambda m: _UNESCAPED[m.group(1)], value) if escaped else value

    ident = field("id")
    title = clean_title(field("title"))
    if not re.fullmatch(r"[a-z0-9]+", ident) or not title:
        return None
    url = _thread_url(field("permalink"), ident)
    link_out = canonical_url(field("url_overridden_by_dest") or field("url"), keep_fragment=True)
    author = plain_text(field("author"), NAME_CHARS)
    selftext = field("selftext")
    return Item(
        id=f"reddit:{ident}",
        title=title,
        url=url,
        source_id=source.id,
        section_id=section_id,
        published=_created(post.get("created_utc")),
        authors=(f"u/{author}",) if author and author not in GONE else (),
        # Markdown: its character references (&#x200B;, &lt;) read as the reader sees them.
        summary=(
            ""
            if gone_marker(selftext) in GONE.keys() | GONE_TITLES
            else plain_text(markdown_text(selftext), SELFTEXT_CHARS)
        ),
        reddit=RedditFields(
            score=_int(post.get("score")),
            comments=_int(post.get("num_comments")),
            link=link_out if link_out and link_out != url else "",
            flair=plain_text(field("link_flair_text"), NAME_CHARS),
            stickied=bool(post.get("stickied")),
            subreddit=plain_text(field("subreddit"), NAME_CHARS),
            removed=_gone(post, title, selftext),
        ),
    )


def _thread_url(permalink: str, ident: str) -> str:
    """The post's thread on www.reddit.com: its permalink when that is a clean path to this
    very post, else the short form (/comments/<id>/), which Reddit redirects to the thread."""
    if permalink.startswith("/") and not permalink.startswith("//"):
        url = http_url("https://www.reddit.com" + permalink)
        if url and f"/comments/{ident}/" in urlsplit(url).path + "/":
            return url
    return f"https://www.reddit.com/comments/{ident}/"


def _gone(post: dict[str, Any], title: str, selftext: str) -> str:
    """Why a post has nothing left to show ("" when it is live): removed by moderators or
    Reddit, or deleted by its author."""
    category = post.get("removed_by_category")
    if isinstance(category, str) and category:
        if category in ("deleted", "author"):
            return "deleted by its author"
        return f"removed ({category.replace('_', ' ')})"
    for text in (selftext, title):
        marker = gone_marker(text)
        if marker in GONE:
            return GONE[marker]
        if marker in GONE_TITLES:
            return "deleted by its author" if "deleted" in marker else "removed by Reddit"
    return ""


def gone_marker(text: str) -> str:
    """`text` as Reddit's placeholders for a vanished post compare: lower case, one space, no
    space inside the brackets ("[ Removed by Reddit ]" is "[removed by reddit]", which Reddit's
    own site writes for an admin removal)."""
    text = " ".join(text.split()).lower()
    return re.sub(r"\[\s*(.*?)\s*\]", r"[\1]", text)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _created(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
