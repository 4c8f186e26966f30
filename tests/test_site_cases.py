"""The field and security cases of the site, each run as its run.sh does (inputs in
tests/fixtures/cases/, README.txt there says the right outcome), and each kind tested beyond its
case: feed anchors and corrections (field 11), feed text is text (security 05), links planted in
site/ (security 08)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest

from digest import issue as issues
from digest.config import Config
from digest.issue import Correction, Issue, IssueItem, Section
from digest.site import build_site
from digest.site.pages import revised_at
from digest.templates import quoted_from_source, safe_url

CASES = Path(__file__).parent / "fixtures" / "cases"


def case(name: str, tmp_path: Path) -> Path:
    work = tmp_path / name
    shutil.copytree(CASES / name, work)
    (work / "issues").mkdir(exist_ok=True)
    return work


# field case 11: the feed's item anchors, and corrections ------------------------------------
def test_feed_anchors_resolve_to_the_issue_page(
    run_cli: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = case("11-feed-relative-anchor", tmp_path)
    monkeypatch.chdir(work)
    monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
    assert run_cli("-q", "daily", "--no-send").code == 0  # type: ignore[attr-defined]
    shutil.copy(work / "feed-day2.xml", work / "feed.xml")
    monkeypatch.setenv("DIGEST_NOW", "2026-05-01T07:00:00+09:00")
    assert run_cli("-q", "daily", "--no-send").code == 0  # type: ignore[attr-defined]
    # read as check_feed.py does: relative links resolved against xml:base / the feed address
    feed = feedparser.parse(
        (work / "site/feed.xml").read_bytes(),
        response_headers={"content-location": "https://news.example.org/feed.xml"},
    )
    anchors = {
        entry.link: re.findall(r'class="anchor" href="([^"]+)"', entry.content[0].value)
        for entry in feed.entries
    }
    assert anchors == {
        "https://news.example.org/issues/0002/": ["https://news.example.org/issues/0002/#blogs-1"],
        "https://news.example.org/issues/0001/": ["https://news.example.org/issues/0001/#blogs-1"],
    }


def _published(tmp_path: Path, number: int, corrections: list[Correction]) -> Issue:
    item = IssueItem(id=f"u{number}", title=f"Paper {number}", url=f"https://example.org/{number}",
                     source_id="a", summary="요약임.")  # fmt: skip
    issue = Issue(number, date(2026, 4, 28 + number), "뉴랄브리핑", "published",
                  [Section("arxiv", "arXiv", [item])], published_at=f"2026-04-{28 + number}T07:00:00+09:00",
                  corrections=corrections)  # fmt: skip
    (tmp_path / "issues" / issues.file_name(number)).unlink(missing_ok=True)  # as an edit does
    issues.save(issue, tmp_path / "issues")
    return issue


def _config(tmp_path: Path, url: str = "https://news.example.org/") -> Config:
    return Config.model_validate(
        {"sections": [{"id": "arxiv", "title": "arXiv", "sources": [{"id": "a", "type": "rss", "url": "x"}]}],
         "site": {"url": url}, "base_dir": tmp_path}
    )  # fmt: skip


def test_a_correction_reaches_feed_readers_and_the_issue_page(tmp_path: Path) -> None:
    _published(tmp_path, 1, [])
    _published(tmp_path, 2, [])
    config = _config(tmp_path)
    build_site(config)
    before = feedparser.parse((tmp_path / "site/feed.xml").read_bytes())
    first = {e.id: e.updated for e in before.entries}
    # the editor corrects issue 1 two days after it went out (review edit --published)
    fix = Correction(at="2026-05-02T09:30:00+09:00", what="1번 소식의 요약을 고침")
    _published(tmp_path, 1, [fix])
    build_site(config)
    after = feedparser.parse((tmp_path / "site/feed.xml").read_bytes())
    assert not after.bozo
    entry = next(e for e in after.entries if e.id.endswith("issues/0001/"))
    assert entry.updated == "2026-05-02T09:30:00+09:00" != first[entry.id]
    assert entry.published == "2026-04-29T07:00:00+09:00"  # publication time stays
    assert after.feed.updated == "2026-05-02T09:30:00+09:00"  # the feed changed then too
    assert "바로잡습니다" in entry.content[0].value and "요약을 고침" in entry.content[0].value
    page = (tmp_path / "site/issues/0001/index.html").read_text(encoding="utf-8")
    assert '<time datetime="2026-05-02T09:30:00+09:00">2026년 5월 2일 09:30</time>' in page
    untouched = next(e for e in after.entries if e.id.endswith("issues/0002/"))
    assert untouched.updated == untouched.published


def test_revised_at_ignores_hand_written_and_earlier_times() -> None:
    issue = Issue(1, date(2026, 4, 29), "뉴랄브리핑", "published",
                  published_at="2026-04-29T07:00:00+09:00",
                  corrections=[Correction("어제 저녁", "손으로 씀"),
                               Correction("2026-04-28T10:00:00+09:00", "발행 전 시각"),
                               Correction("2026-04-30T08:00:00", "시간대 없음")])  # fmt: skip
    assert revised_at(issue, "Asia/Seoul") == "2026-04-30T08:00:00+09:00"
    issue.published_at = "2026-04-29T07:00:00"  # no offset: the newsletter's timezone
    issue.corrections = []
    assert revised_at(issue, "Asia/Seoul") == "2026-04-29T07:00:00+09:00"


def test_anchors_resolve_in_a_feed_without_a_site_url(tmp_path: Path) -> None:
    _published(tmp_path, 1, [])
    build_site(_config(tmp_path, url=""))
    feed = (tmp_path / "site/feed.xml").read_text(encoding="utf-8")
    hrefs = re.findall(r"class=&#34;anchor&#34; href=&#34;([^&]+)&#34;", feed)
    # relative to the feed (the site root): the issue's own page
    assert hrefs == ["issues/0001/#arxiv-1"]
    assert urljoin("https://host/sub/feed.xml", hrefs[0]) == "https://host/sub/issues/0001/#arxiv-1"
    page = (tmp_path / "site/issues/0001/index.html").read_text(encoding="utf-8")
    assert 'class="anchor" href="#arxiv-1"' in page  # on the page itself, the page's anchor


# security case 05: text from a source is text ------------------------------------------------
def test_markdown_in_feed_and_page_text_stays_text(
    run_cli: Callable[..., object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    httpserver: object,
) -> None:
    work = case("05-feed-markdown-renders-as-markup", tmp_path)
    monkeypatch.chdir(work)
    monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
    httpserver.expect_request("/page.html").respond_with_data(  # type: ignore[attr-defined]
        (work / "page.html").read_text(), content_type="text/html"
    )
    assert run_cli("daily", "--no-send").code in (0, 3)  # type: ignore[attr-defined]
    added = run_cli("review", "add", httpserver.url_for("/page.html"), "--section", "blogs")  # type: ignore[attr-defined]
    assert added.code == 0, added.err  # type: ignore[attr-defined]
    assert run_cli("review", "approve", "--yes").code == 0  # type: ignore[attr-defined]
    assert run_cli("publish", "--no-send").code == 0  # type: ignore[attr-defined]
    page = (work / "site/issues/0001/index.html").read_text(encoding="utf-8")
    feed = (work / "site/feed.xml").read_text(encoding="utf-8")
    markup = re.compile(r'<img [^>]*>|<a href="https://(phish|autolink|tracker)[^"]*"')
    assert not markup.search(page) and not markup.search((work / "site/index.html").read_text())
    assert "tracker.example" not in re.sub(r"!\[\]\(https://tracker[^)]*\)", "", feed)
    assert "&lt;img" not in feed  # nothing in the feed's content is an image either
    # the text is still there, as the characters the source sent
    assert "![](https://tracker.example/pixel.gif?u=1)" in page or "pixel.gif" not in page
    assert "[details](https://phish.example/og)" in page


def _item(**fields: str) -> IssueItem:
    base = {"id": "u1", "title": "T", "url": "https://example.org/1", "source_id": "a"}
    return IssueItem(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "shown", "absent"),
    [
        # a copied summary (extractive) is the source's text
        ({"summary": "see [notice](https://phish.example/x) ![](https://t.example/p.gif)", "model": "extractive"},
         "see [notice](https://phish.example/x) ![](https://t.example/p.gif)", ["<a href=\"https://phish", "<img"]),
        # the same after a model's brief was rejected for it
        ({"summary": "**굵게** [x](https://phish.example/)", "model": "openai:m",
          "review_reasons": ["model brief rejected: English"], "needs_review": True},  # type: ignore[dict-item]
         "**굵게** [x](https://phish.example/)", ["<strong>굵게", "<a href=\"https://phish"]),
        # a model's 요약 is Markdown, but no image reaches the page
        ({"summary": "**굵게** ![](https://t.example/p.gif)", "model": "openai:m"},
         "<strong>굵게</strong>", ["<img"]),
        # links only to http(s)
        ({"significance": "[a](javascript:alert(1)) [b](data:text/html,x) [c](//evil.example/) [d](https://ok.example/)"},
         '<a href="https://ok.example/">d</a>', ['href="javascript', 'href="data', 'href="//evil']),
        # the editor's own line may show an image the editor chose
        ({"note": "![도표](https://editor.example/fig.png)"},
         '<img src="https://editor.example/fig.png" alt="도표"', []),
    ],
)  # fmt: skip
def test_who_wrote_a_field_decides_how_it_renders(
    tmp_path: Path, fields: dict[str, object], shown: str, absent: list[str]
) -> None:
    issue = Issue(1, date(2026, 4, 29), "뉴랄브리핑", "published",
                  [Section("arxiv", "arXiv", [_item(**fields)])])  # type: ignore[arg-type]  # fmt: skip
    issues.save(issue, tmp_path / "issues")
    build_site(_config(tmp_path))
    page = (tmp_path / "site/issues/0001/index.html").read_text(encoding="utf-8")
    body = page.split("<main>")[1]
    from html import unescape

    assert shown in body or shown in unescape(body)
    for bad in absent:
        assert bad not in body


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<script>", "JAVASCRIPT:x", "vbscript:x", "/relative",
     "//host/path", "https://", "https://exa mple.org/", "https://example.org/\nx", "ftp://example.org/",
     "mailto:a@example.org", ""],
)  # fmt: skip
def test_hrefs_are_http_only_whatever_the_file_says(tmp_path: Path, url: str) -> None:
    assert safe_url(url) == ""
    issue = Issue(1, date(2026, 4, 29), "뉴랄브리핑", "published",
                  [Section("arxiv", "arXiv", [_item(url=url, title="제목")])])  # fmt: skip
    issues.save(issue, tmp_path / "issues")
    build_site(_config(tmp_path))
    for page in ("issues/0001/index.html", "index.html", "feed.xml"):
        text = (tmp_path / "site" / page).read_text(encoding="utf-8")
        assert "javascript:" not in text.lower() and "data:text" not in text
    assert '<span class="item-title">제목</span>' in (tmp_path / "site/index.html").read_text()


def test_safe_url_keeps_real_links() -> None:
    for url in (
        "https://example.org/a?b=c#d",
        "http://example.org",
        "https://ko.wikipedia.org/wiki/%EA%B0%80",
    ):
        assert safe_url(url) == url
    assert quoted_from_source(_item(), "key_sentence")
    assert not quoted_from_source(_item(model="openai:x"), "summary")


# security case 08: a link planted in site/ ---------------------------------------------------
def test_a_planted_link_is_reported_not_obeyed(
    run_cli: Callable[..., object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = case("08-symlink-in-site-writes-outside", tmp_path)
    outside = tmp_path / "outside"
    (outside / "a").mkdir(parents=True)
    (outside / "b").mkdir()
    (outside / "a/index.html").write_text("victim A: must not change")
    (outside / "b/index.html").write_text("victim B: must not be deleted")
    monkeypatch.chdir(work)
    monkeypatch.setenv("DIGEST_NOW", "2026-11-23T07:00:00+09:00")
    assert run_cli("daily", "--no-send").code == 0  # type: ignore[attr-defined]
    # 1. a directory link where the next issue's page goes
    (work / "site/issues/0002").symlink_to(outside / "a")
    monkeypatch.setenv("DIGEST_NOW", "2026-11-24T07:00:00+09:00")
    second = run_cli("daily", "--no-send")
    assert second.code == 0, second.err  # type: ignore[attr-defined]
    assert (outside / "a/index.html").read_text() == "victim A: must not change"
    assert not (work / "site/issues/0002").is_symlink()
    assert "제 0002호" in (work / "site/issues/0002/index.html").read_text()
    # reported (a warning on stderr), not obeyed
    assert "symbolic link issues/0002 -> " in caplog.text
    # 2. a keyword page replaced by a link, then the keyword removed
    text = (work / "issues/0002.md").read_text()
    (work / "issues/0002.md").write_text(
        text.replace("title: 뉴랄브리핑\n", "title: 뉴랄브리핑\nkeywords:\n- zz\n", 1)
    )
    assert run_cli("build").code == 0  # type: ignore[attr-defined]
    shutil.rmtree(work / "site/keywords/zz")
    (work / "site/keywords/zz").symlink_to(outside / "b")
    (work / "issues/0002.md").write_text(text)
    assert run_cli("build").code == 0  # type: ignore[attr-defined]
    assert (outside / "b/index.html").read_text() == "victim B: must not be deleted"
    assert not os.path.lexists(work / "site/keywords/zz")
    assert run_cli("build", "--full").code == 0  # type: ignore[attr-defined]  # later builds work


def test_file_links_and_links_anywhere_in_the_site_are_dropped(tmp_path: Path) -> None:
    _published(tmp_path, 1, [])
    config = _config(tmp_path)
    build_site(config)
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    site = tmp_path / "site"
    (site / "feed.xml").unlink()
    (site / "feed.xml").symlink_to(secret)  # a page the build rewrites
    (site / "leak.txt").symlink_to(secret)  # a file no page owns
    (site / "issues/0001/index.html").unlink()
    (site / "issues/0001/index.html").symlink_to(secret)  # an unchanged page
    _published(tmp_path, 2, [])
    result = build_site(config)
    assert secret.read_text() == "private"
    assert sorted(result.ignored_links) == sorted(
        [f"feed.xml -> {secret}", f"leak.txt -> {secret}", f"issues/0001/index.html -> {secret}"]
    )
    assert not [p for p in site.rglob("*") if p.is_symlink()]
    assert "Paper 1" in (site / "issues/0001/index.html").read_text()  # rendered again
    assert "<feed" in (site / "feed.xml").read_text()


def test_recover_takes_the_newest_retired_site_by_age_not_by_name(tmp_path: Path) -> None:
    from digest.site.build import _recover

    site = tmp_path / "site"
    old, new = tmp_path / ".site.old-99999", tmp_path / ".site.old-100"  # "99999" > "100"
    for folder, when in ((old, 1_000), (new, 2_000)):
        folder.mkdir()
        (folder / "index.html").write_text(folder.name)
        os.utime(folder, (when, when))
    (tmp_path / ".site.old-5").symlink_to(tmp_path / "elsewhere")  # never a link
    (tmp_path / ".removing-1-site.old-7").mkdir()  # being deleted: not a candidate
    os.utime(tmp_path / ".removing-1-site.old-7", (9_000, 9_000))
    _recover(site)
    assert (site / "index.html").read_text() == ".site.old-100"


# smaller fixes ---------------------------------------------------------------------------------
def test_a_glossary_term_without_a_korean_name_does_not_claim_every_note() -> None:
    from digest.glossary import GlossaryTerm
    from digest.site.model import _term_named_in

    nameless = GlossaryTerm(term="Dropout", ko="", note="드롭아웃은 …")
    named = GlossaryTerm(term="Embedding", ko="임베딩", note="임베딩은 …")
    assert _term_named_in("임베딩은 단어를 벡터로 바꾼 것임.", (nameless, named)) is named
    assert _term_named_in("전혀 다른 설명임.", (nameless, named)) is None
    assert _term_named_in("dropout은 뉴런을 끄는 것임.", (nameless,)) is nameless


def test_meta_descriptions_are_cut_between_syllables_at_a_word() -> None:
    import unicodedata

    from digest.site.pages import DESCRIPTION_CHARS, description
    from digest.text import grapheme_count

    titles = [
        unicodedata.normalize("NFD", f"희소 어텐션으로 긴 문서를 읽는 {n}번째 방법")
        for n in range(12)
    ]
    items = [_item(title=t) for t in titles]
    issue = Issue(
        1, date(2026, 4, 29), "뉴랄브리핑", "published", [Section("arxiv", "arXiv", items)]
    )
    text = description("뉴랄브리핑", issue)
    assert text.endswith("…") and grapheme_count(text) <= DESCRIPTION_CHARS
    body = unicodedata.normalize("NFC", text[:-1])
    assert (
        body.split()[-1] in unicodedata.normalize("NFC", " ".join(titles)).split()
    )  # a whole word
    short = Issue(
        2, date(2026, 4, 30), "뉴랄브리핑", "published", [Section("a", "a", [_item(title="짧음")])]
    )
    assert description("뉴랄브리핑", short) == f"{short.title}: 짧음"
