"""The reddit fetcher: the JSON listing capture, the Atom fallback, and Reddit's refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from feeds_helpers import REDDIT_ATOM, REDDIT_JSON, fast_client, feed, source
from pytest_httpserver import HTTPServer

from digest.errors import FetchError
from digest.fetch import reddit
from digest.models import Item

# The capture holds 27 posts, two of them stickied (12wcr8i and 120f4oy).
STICKIED = {"reddit:12wcr8i", "reddit:120f4oy"}


def _fetch(
    httpserver: HTTPServer, body: bytes, min_score: int = 0, status: int = 200
) -> list[Item]:
    httpserver.expect_request("/r/MachineLearning/top.json").respond_with_data(
        body, status=status, content_type="application/json"
    )
    src = source(
        httpserver.url_for("/r/MachineLearning/top.json"),
        id="reddit-ml",
        type="reddit",
        min_score=min_score,
    )
    return reddit.fetch(src, "reddit", fast_client(backoff_s=0.0), None).items


def test_json_listing(httpserver: HTTPServer) -> None:
    items = _fetch(httpserver, feed(REDDIT_JSON))
    # Fetch keeps every post; stickied ones are flagged for selection to leave out.
    assert len(items) == 27
    assert {i.id for i in items if i.reddit.stickied} == STICKIED
    assert httpserver.log[0][0].headers["User-Agent"].startswith("python:org.neuralbriefing")
    assert httpserver.log[0][0].headers["Accept"] == "application/json"
    by_id = {i.id: i for i in items}
    moat = by_id["reddit:137rxgw"]
    assert moat.title.startswith('[D] Google "We Have No Moat, And Neither Does OpenAI"')
    assert moat.url == (
        "https://www.reddit.com/r/MachineLearning/comments/137rxgw/"
        "d_google_we_have_no_moat_and_neither_does_openai/"
    )
    assert moat.source_id == "reddit-ml"
    assert moat.section_id == "reddit"
    assert moat.authors == ("u/hardmaru",)
    assert moat.reddit.score == 489
    assert moat.reddit.comments == 77
    assert moat.reddit.link.startswith("https://www.semianalysis.com/p/google-we-have-no-moat")
    assert moat.published is not None and moat.published.tzinfo is UTC
    # A self post links nowhere else; a link post to arXiv keeps the paper's address.
    assert by_id["reddit:1373nhq"].reddit.link == ""
    assert by_id["reddit:137odqz"].reddit.link == "https://arxiv.org/abs/2304.10423"
    assert by_id["reddit:137odqz"].reddit.flair == "Research"


def test_selftext_entities_are_unescaped(httpserver: HTTPServer) -> None:
    items = {i.id: i for i in _fetch(httpserver, feed(REDDIT_JSON))}
    text = items["reddit:136kaiu"].summary
    assert "company descriptions & associated labels" in text
    assert "&amp;" not in text
    assert "\n" not in text


def test_min_score_is_left_to_selection(httpserver: HTTPServer) -> None:
    items = _fetch(httpserver, feed(REDDIT_JSON), min_score=100)
    assert len(items) == 27  # fetch keeps the low-scored posts too
    assert sorted((i.reddit.score, i.id) for i in items if i.reddit.score >= 100) == [
        (120, "reddit:1370xg9"),
        (144, "reddit:135u6z5"),
        (151, "reddit:135xbbo"),
        (369, "reddit:136exj2"),
        (382, "reddit:1373nhq"),
        (489, "reddit:137rxgw"),
    ]


def test_published_from_created_utc(httpserver: HTTPServer) -> None:
    items = _fetch(httpserver, feed(REDDIT_JSON))
    newest = max(i.published for i in items if i.published)
    assert newest == datetime(2023, 5, 4, 22, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("status", [403, 429])
def test_refusal_names_the_credentials_fix(httpserver: HTTPServer, status: int) -> None:
    with pytest.raises(FetchError) as error:
        _fetch(httpserver, b'{"message": "Blocked", "error": 403}', status=status)
    message = str(error.value)
    assert f"HTTP {status}" in message
    assert "DIGEST_REDDIT_CLIENT_ID" in message
    assert ".rss" in message
    assert error.value.status == status


def test_atom_fallback(httpserver: HTTPServer) -> None:
    items = _fetch(httpserver, feed(REDDIT_ATOM))
    assert len(items) == 25
    first = items[0]
    # The same id and author form as the JSON listing gives for the same post.
    assert first.id == "reddit:1up9x38"
    assert first.authors == ("u/entsnack",)
    assert first.url == (
        "https://www.reddit.com/r/LocalLLaMA/comments/1up9x38/so_anyone_copped_one_of_these/"
    )
    assert first.title == "So... anyone copped one of these?"
    assert all(i.id.startswith("reddit:") for i in items)
    assert len({i.id for i in items}) == 25


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b'{"kind": "Listing"}', b"[1, 2, 3]", b"\x00\xff\xfe"],
    ids=["text", "no-data", "list", "binary"],
)
def test_not_a_listing(httpserver: HTTPServer, body: bytes) -> None:
    with pytest.raises(FetchError, match="not a Reddit JSON listing"):
        _fetch(httpserver, body)


def test_oauth_token_from_env_credentials(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    monkeypatch.setenv("DIGEST_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("DIGEST_REDDIT_CLIENT_SECRET", "s3cret")
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        {"access_token": "tok-123", "token_type": "bearer", "expires_in": 86400}
    )
    httpserver.expect_request(
        "/r/MachineLearning/top.json", headers={"Authorization": "bearer tok-123"}
    ).respond_with_data(feed(REDDIT_JSON), content_type="application/json")
    src = source(
        httpserver.url_for("/r/MachineLearning/top.json"),
        id="reddit-ml",
        type="reddit",
        token_url=httpserver.url_for("/api/v1/access_token"),
        user_agent="linux:org.example.nb:2.0 (by /u/editor)",
    )
    items = reddit.fetch(src, "reddit", fast_client(), None).items
    assert len(items) == 27
    token_request = httpserver.log[0][0]
    assert token_request.form["grant_type"] == "client_credentials"
    expected = base64.b64encode(b"app-id:s3cret").decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert token_request.headers["User-Agent"] == "linux:org.example.nb:2.0 (by /u/editor)"
    assert httpserver.log[1][0].headers["User-Agent"] == "linux:org.example.nb:2.0 (by /u/editor)"


def test_rejected_credentials_say_which_variables(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("DIGEST_REDDIT_CLIENT_SECRET", "wrong")
    httpserver.expect_request("/token", method="POST").respond_with_data("no", status=401)
    src = source(
        httpserver.url_for("/r/x/top.json"),
        type="reddit",
        token_url=httpserver.url_for("/token"),
    )
    with pytest.raises(FetchError, match="DIGEST_REDDIT_CLIENT_ID and DIGEST_REDDIT_CLIENT_SECRET"):
        reddit.fetch(src, "reddit", fast_client(), None)


def test_oauth_reads_through_oauth_reddit_com() -> None:
    assert reddit._oauth_url("https://www.reddit.com/r/ML/top.json?t=day") == (
        "https://oauth.reddit.com/r/ML/top.json?t=day"
    )
    assert reddit._oauth_url("http://127.0.0.1:8080/r/ML") == "http://127.0.0.1:8080/r/ML"


def test_subreddit_key_makes_the_url() -> None:
    src = source("", type="reddit", subreddit="MachineLearning")
    assert src.url == "https://www.reddit.com/r/MachineLearning/top.json?t=day&limit=50"


def test_user_agent_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_REDDIT_USER_AGENT", "linux:x:1 (by /u/y)")
    assert reddit.user_agent(source(type="reddit", user_agent="a:b:c (by /u/d)")) == (
        "linux:x:1 (by /u/y)"
    )
    monkeypatch.delenv("DIGEST_REDDIT_USER_AGENT")
    assert reddit.user_agent(source(type="reddit")).endswith("(by /u/neural-briefing)")


def test_refused_json_falls_back_to_the_atom_feed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r/LocalLLaMA/top.json").respond_with_data("no", status=403)
    httpserver.expect_request("/r/LocalLLaMA/top.rss").respond_with_data(
        feed(REDDIT_ATOM), content_type="application/atom+xml"
    )
    src = source(httpserver.url_for("/r/LocalLLaMA/top.json"), type="reddit")
    items = reddit.fetch(src, "reddit", fast_client(), None).items
    assert len(items) == 25
    assert items[0].id == "reddit:1up9x38"
    assert [entry[0].path for entry in httpserver.log] == [
        "/r/LocalLLaMA/top.json",
        "/r/LocalLLaMA/top.rss",
    ]


def test_atom_url_of_a_listing() -> None:
    assert reddit.atom_url("https://www.reddit.com/r/ML/top.json?t=day") == (
        "https://www.reddit.com/r/ML/top.rss?t=day"
    )
    assert reddit.atom_url("https://www.reddit.com/r/ML/top.rss") == ""


def _listing(*posts: dict[str, object]) -> bytes:
    children = [
        {"kind": "t3", "data": {"permalink": f"/r/ML/comments/{p['id']}/x/", **p}} for p in posts
    ]
    return json.dumps({"kind": "Listing", "data": {"children": children}}).encode()


def test_removed_and_deleted_posts_are_kept_and_say_why(httpserver: HTTPServer) -> None:
    body = _listing(
        {"id": "a1", "title": "Mod removed", "selftext": "[removed]", "author": "[deleted]",
         "removed_by_category": "moderator"},
        {"id": "a2", "title": "Author deleted", "selftext": "[deleted]", "author": "[deleted]"},
        {"id": "a3", "title": "Link post removed", "url": "https://e.org/x", "selftext": "",
         "removed_by_category": "anti_evil_ops"},
        {"id": "a4", "title": "[deleted by user]", "selftext": ""},
        {"id": "a5", "title": "Live", "selftext": "Still here.", "author": "[deleted]"},
        {"id": "a6", "title": "Live", "selftext": "x", "removed_by_category": None},
        # What Reddit's site writes for an admin removal, with no category in the JSON.
        {"id": "a7", "title": "Admin removed", "selftext": "[ Removed by Reddit ]",
         "removed_by_category": None},
        {"id": "a8", "title": "Shouting", "selftext": "[Removed]"},
    )  # fmt: skip
    items = _fetch(httpserver, body)
    gone = {i.id: i.reddit.removed for i in items}
    assert gone == {
        "reddit:a1": "removed (moderator)",
        "reddit:a2": "deleted by its author",
        "reddit:a3": "removed (anti evil ops)",
        "reddit:a4": "deleted by its author",
        "reddit:a5": "",
        "reddit:a6": "",
        "reddit:a7": "removed by Reddit",
        "reddit:a8": "removed by moderators",
    }
    assert by_id_summary(items, "reddit:a7") == ""  # the placeholder is not a post's text
    by_id = {i.id: i for i in items}
    assert by_id["reddit:a1"].summary == "" and by_id["reddit:a1"].authors == ()
    assert by_id["reddit:a5"].authors == ()  # the account is gone, the post is not


def by_id_summary(items: list[Item], ident: str) -> str:
    return next(i.summary for i in items if i.id == ident)


def test_a_removed_post_in_the_atom_feed_says_so_too() -> None:
    from digest.models import Item as ItemType

    atom = ItemType(
        "https://www.reddit.com/r/ML/comments/zz9/x/", "Gone", "https://www.reddit.com/r/ML/comments/zz9/x/",
        "s", "reddit", summary="[removed] submitted by /u/[deleted] [link] [comments]",
        authors=("/u/[deleted]",),
    )  # fmt: skip
    post = reddit._from_atom(atom)
    assert post.id == "reddit:zz9" and post.authors == ()
    assert post.reddit is not None and post.reddit.removed == "removed by moderators"


def test_a_permalink_to_another_post_or_host_is_not_the_thread(httpserver: HTTPServer) -> None:
    body = _listing(
        {"id": "b1", "title": "t", "permalink": "/r/ML/comments/zzz/other/"},
        {"id": "b2", "title": "t", "permalink": "//evil.example/r/ML/comments/b2/"},
        {"id": "b3", "title": "t", "permalink": "/r/ML/comments/b3/x/\u2028### [x](javascript:1)"},
        {"id": "b4", "title": "t", "permalink": "/r/ML/comments/b4/a_title/"},
    )
    urls = [i.url for i in _fetch(httpserver, body)]
    assert urls == [
        "https://www.reddit.com/comments/b1/",
        "https://www.reddit.com/comments/b2/",
        "https://www.reddit.com/comments/b3/",
        "https://www.reddit.com/r/ML/comments/b4/a_title/",
    ]
