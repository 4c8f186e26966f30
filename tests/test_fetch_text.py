"""Text at the fetch boundary, on every route: unescaped once, NFC, one line, within its cap,
and arXiv's LaTeX read as text (issue 14 kinds 1, 5, 11; issue 16 classes 1 and 6)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import astuple

import pytest
from feeds_helpers import fast_client, source
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from digest.fetch import arxiv as arxiv_fetch
from digest.fetch import latex, reddit, rss
from digest.fetch.normalize import (
    HTML_CHARS,
    NAME_CHARS,
    SUMMARY_CHARS,
    TITLE_CHARS,
    finish,
    html_to_text,
    plain_text,
    sanitize_html,
)
from digest.fetch.page import parse_page
from digest.models import ArxivFields, Item, RedditFields

# Every character str.splitlines() ends a line at.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def rss_feed(*items: str) -> bytes:
    body = "".join(items)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://e.org/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def rss_item(title: str, link: str = "https://e.org/a", description: str = "A body.") -> str:
    return f"<item><title>{title}</title><link>{link}</link><description>{description}</description></item>"


def atom_feed(entry: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>t</title><id>urn:f</id><updated>2026-11-23T00:00:00Z</updated>{entry}</feed>"
    ).encode()


def listing(**post: object) -> bytes:
    data = {"id": "p1", "title": "t", "permalink": "/r/ML/comments/p1/x/", **post}
    return json.dumps(
        {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": data}]}}
    ).encode()


def one_rss(title: str, **kwargs: str) -> Item:
    (item,) = rss.parse(rss_feed(rss_item(title, **kwargs)), source(), "news")
    return item


def one_reddit(listing_url: str = "http://127.0.0.1/r/ML/top.json", **post: object) -> Item:
    (item,) = reddit.parse(listing(**post), source(listing_url, type="reddit"), "reddit")
    return item


def lines_in(item: Item) -> list[str]:
    """Every text field of an item (per-source fields included) that holds a line break."""

    def texts(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, tuple | list):
            return [t for part in value for t in texts(part)]
        return []

    return [t for t in texts(astuple(item)) if len(t.splitlines()) > 1 or (t and t[-1] in BREAKS)]


# kind 1: escaped once ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("xml", "title"),
    [
        ("Why &lt;think&gt; tokens help", "Why <think> tokens help"),
        ("Tensor&lt;float, 3&gt; in C++", "Tensor<float, 3> in C++"),
        ("When does x &lt; y hold?", "When does x < y hold?"),
        ("Q&amp;A with the team", "Q&A with the team"),
        ("<![CDATA[Vectors <T> and maps]]>", "Vectors <T> and maps"),
        # feedparser reads these as HTML (a closing tag, an entity): once, as HTML.
        ("&lt;b&gt;Bold&lt;/b&gt; news", "Bold news"),
        ("AT&amp;amp;T buys a lab", "AT&T buys a lab"),
        ("&amp;lt;b&amp;gt;Doubly escaped&amp;lt;/b&amp;gt;", "<b>Doubly escaped</b>"),
    ],
)
def test_rss_titles_are_unescaped_exactly_once(xml: str, title: str) -> None:
    assert one_rss(xml).title == title


def test_atom_text_and_html_titles_follow_their_declared_type() -> None:
    entry = (
        '<entry><title type="text">a &lt;b&gt; c</title><link href="https://e.org/1"/>'
        '<id>urn:1</id><summary type="text">x &lt; y and &lt;z&gt;</summary></entry>'
        '<entry><title type="html">&lt;i&gt;Atom&lt;/i&gt; entry</title><link href="https://e.org/2"/>'
        '<id>urn:2</id><summary type="html">&lt;p&gt;x &amp;lt; y&lt;/p&gt;</summary></entry>'
    )
    plain, marked = rss.parse(atom_feed(entry), source(), "news")
    assert (plain.title, plain.summary) == ("a <b> c", "x < y and <z>")
    assert plain.html == "x &lt; y and &lt;z&gt;"  # the text, as HTML
    assert (marked.title, marked.summary) == ("Atom entry", "x < y")


def test_reddit_undoes_its_escaping_once_in_every_field() -> None:
    item = one_reddit(
        title="[D] Is the &lt;think&gt; block &amp;amp; more?",
        selftext="a &amp;&amp; b &lt; c",
        url="https://blog.example.org/p?id=42&amp;lang=en&amp;copy=2",
        link_flair_text="Q&amp;A",
        author="x&amp;y",
        subreddit="M&amp;L",
    )
    assert item.title == "[D] Is the <think> block &amp; more?"  # the poster typed "&amp;"
    assert item.summary == "a && b < c"
    assert item.reddit is not None
    assert item.reddit.link == "https://blog.example.org/p?id=42&lang=en&copy=2"
    assert (item.reddit.flair, item.reddit.subreddit) == ("Q&A", "M&L")
    assert item.authors == ("u/x&y",)


def test_reddit_raw_json_is_not_unescaped_again() -> None:
    item = one_reddit(
        "http://127.0.0.1/r/ML/top.json?raw_json=1",
        title="Literally &amp; and &lt;",
        url="https://e.org/?a=1&b=2",
    )
    assert item.title == "Literally &amp; and &lt;"
    assert item.reddit is not None and item.reddit.link == "https://e.org/?a=1&b=2"


def test_reddit_selftext_is_markdown_whose_references_read_as_shown() -> None:
    item = one_reddit(selftext="Para one.\n\n&amp;#x200B;\n\nx &amp;lt; y, AT&amp;T, &amp;copy")
    assert item.summary == "Para one. x < y, AT&T, &copy"


def test_page_reader_decodes_entities_once() -> None:
    page = parse_page(
        "<html><head><title>Tensor&lt;float&gt; &amp;amp; co</title>"
        '<meta name="description" content="a &amp;lt;b&amp;gt; b"></head></html>'
    )
    assert page.title == "Tensor<float> &amp; co"
    assert page.description == "a &lt;b&gt; b"


# kind 5: NFC ------------------------------------------------------------------------------
NFD = unicodedata.normalize("NFD", "강화학습과 트랜스포머")


def test_every_route_hands_on_nfc(httpserver: HTTPServer) -> None:
    assert not unicodedata.is_normalized("NFC", NFD)
    feed_item = one_rss(NFD, description=NFD)
    post = one_reddit(title=NFD, selftext=NFD, link_flair_text=NFD, author=NFD)
    page = parse_page(
        f'<meta property="og:title" content="{NFD}"><meta name="description" content="{NFD}">'
    )
    api = (
        f"<entry><id>http://arxiv.org/abs/2611.00001v1</id><title>{NFD}</title>"
        f"<summary>{NFD}</summary><author><name>{NFD}</name></author></entry>"
    )
    httpserver.expect_request("/api").respond_with_data(atom_feed(api))
    src = source(httpserver.url_for("/api"), type="arxiv", query="cat:cs.LG")
    (paper,) = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    texts = [feed_item.title, feed_item.summary, post.title, post.summary, post.authors[0]]
    texts += [page.title, page.description, paper.title, paper.summary, paper.authors[0]]
    assert post.reddit is not None
    texts.append(post.reddit.flair)
    assert all(unicodedata.is_normalized("NFC", t) and "강화학습" in t for t in texts), texts


def test_finish_makes_any_fetcher_s_item_nfc() -> None:
    item = Item(
        "https://e.org/a", NFD, "https://e.org/a", "s", "n", authors=(NFD,), summary=NFD,
        arxiv=ArxivFields("2611.00001", categories=(NFD,)), reddit=RedditFields(flair=NFD),
    )  # fmt: skip
    done = finish(item)
    assert done is not None and done.arxiv is not None and done.reddit is not None
    for text in (
        done.title,
        done.summary,
        done.authors[0],
        done.arxiv.categories[0],
        done.reddit.flair,
    ):
        assert unicodedata.is_normalized("NFC", text)


# issue 16 class 1: no field can end a line -----------------------------------------------
@pytest.mark.parametrize("brk", list(BREAKS))
def test_a_line_break_of_any_kind_in_any_rss_field_stays_inside_its_field(brk: str) -> None:
    char = f"&#{ord(brk)};" if brk not in "\n\r" else brk
    feed = rss_feed(
        f"<item><title>A{char}### [x](javascript:1)</title><link>https://e.org/a</link>"
        f"<description>one{char}two &lt;pre&gt;a{char}b&lt;/pre&gt;</description>"
        f"<author>x@e.org (Ann{char}Bee)</author><category>c{char}d</category></item>"
    )
    (item,) = rss.parse(feed, source(), "news")
    done = finish(item)
    assert done is not None and lines_in(done) == []
    # &#133; is "…" to an HTML reader (C1 references mean windows-1252): either way, one line.
    assert done.title in ("A ### [x](javascript:1)", "A…### [x](javascript:1)")


@pytest.mark.parametrize("brk", list(BREAKS))
def test_a_line_break_in_any_reddit_field_stays_inside_its_field(brk: str) -> None:
    item = one_reddit(
        title=f"T{brk}### x",
        selftext=f"s{brk}t",
        link_flair_text=f"f{brk}g",
        subreddit=f"M{brk}L",
        author=f"a{brk}b",
        permalink=f"/r/ML/comments/p1/x/{brk}### [x](javascript:1)",
        url=f"https://e.org/a{brk}b",
    )
    done = finish(item)
    assert done is not None and lines_in(done) == []
    assert done.url == "https://www.reddit.com/comments/p1/"
    assert done.reddit is not None and done.reddit.link == ""  # a broken link is no link


TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list(BREAKS)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(title=TEXT, summary=TEXT, author=TEXT, flair=TEXT, html=TEXT, category=TEXT)
def test_no_generated_value_survives_the_boundary_with_a_line_break(
    title: str, summary: str, author: str, flair: str, html: str, category: str
) -> None:
    item = Item(
        "reddit:x", "t " + title, "https://www.reddit.com/comments/x/", "s", "n",
        authors=(author,), summary=summary, html=sanitize_html(html),
        arxiv=ArxivFields("2611.00001", categories=(category,)),
        reddit=RedditFields(flair=flair, link="https://e.org/" + flair),
    )  # fmt: skip
    done = finish(item)
    assert done is not None and lines_in(done) == []
    assert finish(done) == done  # the boundary is idempotent
    assert all(unicodedata.is_normalized("NFC", t) for t in (done.title, done.summary))


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_plain_text_is_one_nfc_line(text: str) -> None:
    out = plain_text(text, 40)
    assert len(out.splitlines()) <= 1 and len(out) <= 40
    assert unicodedata.is_normalized("NFC", out)
    assert plain_text(out, 40) == out


# issue 16 class 6: every field within its cap ---------------------------------------------
def test_finish_caps_every_field() -> None:
    long = "word " * 100_000
    item = Item(
        "https://e.org/a", long, "https://e.org/a", "s", "n", authors=(long,) * 500,
        summary=long, html="<p>" + long + "</p>",
        arxiv=ArxivFields("2611.00001", categories=(long,) * 100, primary_category=long),
        reddit=RedditFields(flair=long, subreddit=long),
    )  # fmt: skip
    done = finish(item)
    assert done is not None and done.arxiv is not None and done.reddit is not None
    assert len(done.title) <= TITLE_CHARS and done.title.endswith("…")
    assert len(done.summary) <= SUMMARY_CHARS
    assert len(done.authors) <= 100 and all(len(a) <= NAME_CHARS for a in done.authors)
    assert len(done.html) <= HTML_CHARS + 100 and done.html.endswith("</p>")
    assert len(done.arxiv.categories) <= 30
    assert max(map(len, (*done.arxiv.categories, done.arxiv.primary_category))) <= NAME_CHARS
    assert max(len(done.reddit.flair), len(done.reddit.subreddit)) <= NAME_CHARS


def test_a_cut_never_separates_a_letter_from_its_mark() -> None:
    title = "a" * (TITLE_CHARS - 2) + "e\u0301\u0302" + "z" * 10  # é̂ has no precomposed form
    cut = plain_text(title, TITLE_CHARS)
    assert cut.endswith("a…") and len(cut) <= TITLE_CHARS


def test_reddit_and_page_titles_are_capped() -> None:
    assert len(one_reddit(title="x" * 10_000).title) == TITLE_CHARS
    page = parse_page(f"<title>{'y' * 10_000}</title>")
    assert len(page.title) == TITLE_CHARS


def test_html_is_sanitized_and_line_free_but_means_the_same() -> None:
    raw = "<pre>a\nb</pre><p>x\r\ny\u2028z</p><script>alert(1)</script>"
    clean = sanitize_html(raw)
    assert "\n" not in clean and "<script" not in clean
    assert clean == "<pre>a&#10;b</pre><p>x&#10;y&#8232;z</p>"
    assert html_to_text(clean) == "a b x y z"


# kind 11: LaTeX from arXiv ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"$\textit{Aria}$: a small model", "Aria: a small model"),
        (r"Regret of $O(\sqrt{T}\ln\ln T)$", "Regret of O(√T ln ln T)"),
        (r"$\ln\ln T$ bounds", "ln ln T bounds"),
        (r"$\mathcal{O}(n^2)$ attention", "O(n²) attention"),
        (r"$k$-means and $\alpha$-entmax", "k-means and α-entmax"),
        (r"error $10^{-3}$ at step $x_{t+1}$", "error 10⁻³ at step x_(t+1)"),
        (r"\emph{not} 50\% \& more", "not 50% & more"),
        (r"$\frac{a+b}{2} \leq \infty$", "(a+b)/2 ≤ ∞"),
        (r"Schr\"odinger, Erd\H{o}s and G\'{e}rard", "Schrödinger, Erdős and Gérard"),
        (r"\textbf{Bold} {GPT}-4 $\rightarrow$ \texttt{code}", "Bold GPT-4 → code"),
        (r"$\mathbb{R}^d$ and $\|x\|_2$", "R^d and ‖x‖₂"),
        (r"\unknown{kept} \alsoUnknown", "kept alsoUnknown"),
        ("costs $5 a month", "costs $5 a month"),
        ("Tensor<float, 3> needs no LaTeX", "Tensor<float, 3> needs no LaTeX"),
        ("{" * 5000 + r"\x", "x"),
        (r"\hat" * 5000, ""),
    ],
)
def test_latex_reads_as_text(tex: str, text: str) -> None:
    assert latex.to_text(tex).strip() == text


def test_arxiv_api_titles_summaries_and_authors_lose_their_latex(httpserver: HTTPServer) -> None:
    entry = (
        "<entry><id>http://arxiv.org/abs/2611.00001v2</id>"
        r"<title>$\textit{Aria}$: Regret $O(\sqrt{T}\ln\ln T)$</title>"
        r"<summary>We show $\ln\ln T$ regret for $\epsilon &gt; 0$.</summary>"
        r"<author><name>Erwin Schr\"odinger</name></author></entry>"
    )
    httpserver.expect_request("/api").respond_with_data(atom_feed(entry))
    src = source(httpserver.url_for("/api"), type="arxiv", query="cat:cs.LG")
    (paper,) = arxiv_fetch.fetch(src, "arxiv", fast_client(), None).items
    assert paper.title == "Aria: Regret O(√T ln ln T)"
    assert paper.summary == "We show ln ln T regret for ε > 0."
    assert paper.authors == ("Erwin Schrödinger",)


def test_rss_arxiv_org_entries_lose_their_latex_and_others_keep_their_dollars() -> None:
    feed = rss_feed(
        rss_item(
            r"$\ln\ln T$ regret",
            "https://arxiv.org/abs/2611.00003",
            r"arXiv:2611.00003v1 Announce Type: new Abstract: With $\alpha$ fixed.",
        ),
        rss_item(r"Save $5 with \emph{this}", "https://shop.example.org/deal"),
    )
    paper, deal = rss.parse(feed, source(), "news")
    assert (paper.title, paper.summary, paper.announce_type) == (
        "ln ln T regret", "With α fixed.", "new",
    )  # fmt: skip
    assert deal.title == r"Save $5 with \emph{this}"  # not arXiv: its text is its own
