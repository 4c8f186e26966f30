"""Reddit's JSON listing (e.g. /r/MachineLearning/top.json?t=day), or its Atom feed.

Reddit wants a descriptive User-Agent and blocks anonymous data-centre clients with 403/429:
we say so, with the fix, instead of a bare status code.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from digest.config import SourceConfig
from digest.errors import FetchError
from digest.fetch import Fetched, rss
from digest.http import HttpClient
from digest.models import Item
from digest.store import FetchState

SELFTEXT_CHARS = 2000


def fetch(
    source: SourceConfig, section_id: str, http: HttpClient, state: FetchState | None
) -> Fetched:
    try:
        response = http.get(source.url, headers={"Accept": "application/json"})
    except FetchError as exc:
        if exc.status in (403, 429):
            raise FetchError(
                f"{exc} — Reddit refuses anonymous clients from data centres; "
                "set DIGEST_REDDIT_CLIENT_ID and DIGEST_REDDIT_CLIENT_SECRET, "
                "or use the subreddit's .rss feed",
                url=source.url,
                status=exc.status,
            ) from None
        raise
    body = response.body.lstrip()
    if body.startswith(b"<"):  # the Atom fallback (/r/…/top.rss)
        return Fetched(rss.parse(body, source, section_id))
    return Fetched(parse(body, source, section_id))


def parse(body: bytes, source: SourceConfig, section_id: str) -> list[Item]:
    try:
        listing = json.loads(body)
        children = listing["data"]["children"]
    except (ValueError, KeyError, TypeError):
        raise FetchError("not a Reddit JSON listing", url=source.url) from None
    items = []
    for child in children:
        post: dict[str, Any] = child.get("data", {})
        if child.get("kind") != "t3" or post.get("stickied"):
            continue
        if int(post.get("score") or 0) < source.min_score:
            continue
        permalink = "https://www.reddit.com" + str(post.get("permalink", ""))
        link_out = str(post.get("url_overridden_by_dest") or post.get("url") or "")
        items.append(
            Item(
                id=f"reddit:{post['id']}",
                title=" ".join(str(post.get("title", "")).split()),
                url=permalink,
                source_id=source.id,
                section_id=section_id,
                published=datetime.fromtimestamp(float(post.get("created_utc", 0)), tz=UTC),
                authors=(f"u/{post['author']}",) if post.get("author") else (),
                # Reddit escapes &, < and > in its Markdown selftext.
                summary=" ".join(html.unescape(str(post.get("selftext", ""))).split())[
                    :SELFTEXT_CHARS
                ],
                extra={
                    "score": int(post.get("score") or 0),
                    "comments": int(post.get("num_comments") or 0),
                    "link": link_out if link_out and link_out != permalink else "",
                    "flair": post.get("link_flair_text") or "",
                },
            )
        )
    return items
