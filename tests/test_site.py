"""The built website as a reader and a crawler meet it: every link resolves, the feed parses, the
sitemap lists every issue, keyword URLs survive Korean, and a new issue re-renders only the pages
it changes."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag

import feedparser
import pytest

from digest import issue as issues
from digest.config import Config
from digest.issue import Issue, IssueItem, Section
from digest.site import build_site
from digest.site.manifest import MANIFEST_NAME
from digest.site.model import keyword_slug
from digest.site.slug import MAX_SLUG_BYTES, slugify

SITE_URL = "https://example.github.io/neural-briefing/"
KEYWORDS = [
    ["강화학습", "Gemma", "C++"],
    ["강화학습", "gemma", "c", "A/B 테스트"],
    ["확산 모델", "GPU", "C#"],
]


def make_config(tmp_path: Path, site_url: str = SITE_URL) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "google", "title": "구글 블로그", "sources": [{"id": "g", "type": "rss", "url": "x"}]},
                {"id": "arxiv", "title": "arXiv", "sources": [{"id": "a", "type": "rss", "url": "x"}]},
            ],
            "site": {"url": site_url},
            "base_dir": tmp_path,
        }
    )  # fmt: skip


def item(n: int, k: int, note: str = "") -> IssueItem:
    return IssueItem(
        id=f"https://example.org/{n}/{k}",
        title=f"Paper {n}.{k}: 강화학습으로 배우는 로봇",
        url=f"https://example.org/{n}/{k}",
        source_id="a",
        key_sentence="We propose a **new** method.",
        summary=f"{n}호의 {k}번째 소식: 강화학습이 로봇 팔을 움직임.",
        significance="데이터가 적어도 됨.",
        glossary_note=note,
    )


def write_issue(tmp_path: Path, number: int, status: str = "published") -> Issue:
    rl = "강화학습은 정답을 알려주는 대신, 행동을 해보고 받은 보상(reward)을 보며 더 좋은 행동을 스스로 찾아가게 하는 학습 방식임. 바둑 두는 알파고가 대표적임."
    issue = Issue(
        number,
        date(2026, 1 + (number - 1) % 12, min(28, number)),
        "뉴랄브리핑",
        status=status,
        sections=[
            Section("google", "구글 블로그", [item(number, 1, rl), item(number, 2)]),
            Section("arxiv", "arXiv", [item(number, 3, "역전파(backprop)는 오차를 거꾸로 전하는 방법임.")]),
        ],
        keywords=KEYWORDS[(number - 1) % len(KEYWORDS)],
    )  # fmt: skip
    (tmp_path / "issues" / issues.file_name(number)).unlink(missing_ok=True)  # publish the draft
    issues.save(issue, tmp_path / "issues")
    return issue


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for number in (1, 2, 3):
        write_issue(tmp_path, number)
    write_issue(tmp_path, 4, status="draft")
    build_site(make_config(tmp_path))
    return tmp_path / "site"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def parse_page(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_and_asset_resolves(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    checked = 0
    for page in pages:
        if page.name == "404.html":
            continue  # absolute links: served at any depth
        for link in parse_page(page).links:
            if re.match(r"^[a-z]+:", link):
                assert not link.startswith(("javascript:", "file:")), (page, link)
                continue
            assert not link.startswith("/"), f"{page}: {link} is not relative"
            url, fragment = urldefrag(link)
            target = (page.parent / unquote(url)).resolve() if url else page
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(site)} links to missing {link}"
            if fragment and target.suffix == ".html":
                assert unquote(fragment) in {unquote(i) for i in parse_page(target).ids}, (
                    f"{page.relative_to(site)}: no #{fragment} in {target.relative_to(site)}"
                )
            checked += 1
    assert checked > 100


def test_the_404_page_links_absolutely_so_it_works_at_any_depth(site: Path) -> None:
    links = parse_page(site / "404.html").links
    assert f"{SITE_URL}style.css" in links and f"{SITE_URL}index.html" in links


def test_feed_parses_with_full_content(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].title.startswith("제 0003호 뉴랄브리핑 (")
    assert len(feed.entries) == 3  # the draft is not in it
    content = feed.entries[0].content[0].value
    assert "Paper 3.1" in content and "[토막상식]" in content
    assert "We propose a **new** method." in content  # the quoted source is text, not Markdown
    assert feed.entries[0].link == f"{SITE_URL}issues/0003/"


def test_feed_without_a_site_url_still_parses(tmp_path: Path) -> None:
    write_issue(tmp_path, 1)
    build_site(make_config(tmp_path, site_url=""))
    feed = feedparser.parse((tmp_path / "site/feed.xml").read_bytes())
    assert not feed.bozo and feed.entries[0].id.startswith("urn:uuid:")
    assert not (tmp_path / "site/sitemap.xml").exists()  # a sitemap needs absolute URLs
    assert "Sitemap:" not in (tmp_path / "site/robots.txt").read_text()


def test_sitemap_lists_every_published_issue_and_robots_points_to_it(site: Path) -> None:
    sitemap = (site / "sitemap.xml").read_text()
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    for number in (1, 2, 3):
        assert f"{SITE_URL}issues/{number:04d}/" in locations
    assert f"{SITE_URL}issues/0004/" not in locations
    assert all(" " not in loc and loc.isascii() for loc in locations)  # Korean is percent-encoded
    assert f"Sitemap: {SITE_URL}sitemap.xml" in (site / "robots.txt").read_text()


def test_only_published_issues_unless_drafts(tmp_path: Path, site: Path) -> None:
    assert not (site / "issues/0004").exists()
    assert "제 0004호" not in (site / "archive/index.html").read_text()
    build_site(make_config(tmp_path), include_drafts=True)
    assert (site / "issues/0004/index.html").is_file()


def test_issue_page_meta_keywords_anchors_and_pager(site: Path) -> None:
    page = (site / "issues/0002/index.html").read_text()
    assert '<html lang="ko">' in page
    assert (
        '<meta property="og:title" content="제 0002호 뉴랄브리핑 (2026년 2월 2일 월요일)">' in page
    )
    assert f'<meta property="og:url" content="{SITE_URL}issues/0002/">' in page
    assert '<meta name="description" content="제 0002호' in page
    assert 'id="google-1"' in page and 'id="arxiv-1"' in page
    assert 'rel="prev" href="../../issues/0001/index.html"' in page
    assert 'rel="next" href="../../issues/0003/index.html"' in page
    assert (
        'href="../../keywords/%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5/index.html">강화학습</a>' in page
    )
    assert "<script" not in page  # nothing here needs JavaScript to read


def test_korean_keywords_get_unique_stable_pages(site: Path) -> None:
    folders = {p.name for p in (site / "keywords").iterdir() if p.is_dir()}
    assert "강화학습" in folders and "확산-모델" in folders
    assert "gemma" in folders  # Gemma and gemma are one keyword
    assert "c" in folders and len([f for f in folders if f.startswith("c--")]) == 2  # C++, C#
    page = (site / "keywords/강화학습/index.html").read_text()
    assert "제 0001호" in page and "제 0002호" in page and "제 0003호" not in page
    assert "Gemma" in (site / "keywords/gemma/index.html").read_text()  # the spelling used first


@pytest.mark.parametrize(
    "keyword", ["강화학습", "C++", "C#", "A/B 테스트", "++", "—", "학습 데이터"]
)
def test_slugs_are_non_empty_and_stable(keyword: str) -> None:
    slug = slugify(keyword)
    assert slug and "/" not in slug and slug == slugify(keyword)
    assert slugify(keyword.upper()) == slug


def test_slugs_never_collide() -> None:
    names = ["C", "C++", "C#", "c-", "A B", "A-B", "a_b", "강화 학습", "강화-학습", "강화학습"]
    slugs = [slugify(n) for n in names]
    assert len(set(slugs)) == len(slugs)


def test_a_long_keyword_s_slug_fits_a_folder_name_and_stays_unique() -> None:
    """Security class 6: file names derived from data are bounded, with a stable hash."""
    long_korean, other = "강화학습" * 100, "강화학습" * 99 + "역전파"
    slugs = [slugify(long_korean), slugify(other), slugify("a" * 500)]
    assert all(len(s.encode("utf-8")) <= MAX_SLUG_BYTES for s in slugs)
    assert len(set(slugs)) == 3 and slugs[0] == slugify(long_korean)
    assert slugify("강화학습") == "강화학습"  # a short keyword is still its own slug


def test_glossary_in_ganada_order_with_where_each_appeared(site: Path) -> None:
    page = (site / "glossary/index.html").read_text()
    headwords = [h.strip() for h in re.findall(r'<dt id="g-[^"]*">([^<]+)', page)]
    assert headwords == ["강화학습", "역전파"]
    assert '<span lang="en" class="count">Reinforcement learning</span>' in page  # matched term
    assert page.count('href="../issues/0002/index.html#google-1"') == 1
    assert '<dt class="initial" id="i-ㄱ">ㄱ</dt>' in page


def test_a_model_written_note_waits_for_the_editor_before_the_glossary_page(
    tmp_path: Path,
) -> None:
    from digest.site.model import glossary

    issue = write_issue(tmp_path, 1)
    proposed = issue.sections[1].items[0]
    proposed.glossary_generated = True  # 생성 토막상식: the model wrote it, nobody accepted it
    assert [e.headword for e in glossary([issue])] == ["강화학습"]
    proposed.glossary_generated = False  # `digest review accept`
    assert [e.headword for e in glossary([issue])] == ["강화학습", "역전파"]


def test_archive_by_year_and_month_with_counts(site: Path) -> None:
    page = (site / "archive/index.html").read_text()
    assert '<h2>2026년 <span class="count">3개 호</span></h2>' in page
    assert page.index('id="y2026-3"') < page.index('id="y2026-1"')  # newest first
    assert "3개 소식" in page


def test_a_page_per_section_lists_its_items_across_issues(site: Path) -> None:
    page = (site / "sections/google/index.html").read_text()
    assert "Paper 3.1" in page and "Paper 1.2" in page and "Paper 1.3" not in page
    assert 'href="../../issues/0001/index.html#google-2"' in page
    assert "구글 블로그" in (site / "sections/index.html").read_text()


# incremental ---------------------------------------------------------------------------------
def test_one_new_issue_re_renders_only_the_pages_it_changes(tmp_path: Path, site: Path) -> None:
    config = make_config(tmp_path)
    old_first = (site / "issues/0001/index.html").stat()
    write_issue(tmp_path, 4)  # the draft is published
    result = build_site(config)
    assert result.issues == 4
    changed = {
        "issues/0004/index.html", "issues/0003/index.html", "index.html", "archive/index.html",
        "glossary/index.html", "sections/google/index.html", "sections/arxiv/index.html",
        "sections/index.html", "feed.xml", "sitemap.xml", "keywords/index.html", "search-index-0000.js",
    }  # fmt: skip
    keyword_pages = {f"keywords/{keyword_slug(k)}/index.html" for k in KEYWORDS[0]}  # issue 4's
    assert result.rendered == len(changed | keyword_pages)
    assert (site / "issues/0001/index.html").stat().st_ino == old_first.st_ino  # kept, not copied
    assert 'rel="next"' in (site / "issues/0003/index.html").read_text()
    again = build_site(config)
    assert again.rendered == 0 and again.pages == result.pages


def test_full_and_template_changes_render_everything(tmp_path: Path, site: Path) -> None:
    config = make_config(tmp_path)
    assert build_site(config, full=True).rendered == build_site(config, full=True).pages
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "404.html.j2").write_text("없음")
    assert build_site(config).rendered == build_site(config, full=True).pages


def test_an_edited_issue_and_a_removed_one_are_picked_up(tmp_path: Path, site: Path) -> None:
    config = make_config(tmp_path)
    path = tmp_path / "issues/0002.md"
    path.write_text(path.read_text().replace("Paper 2.1", "손으로 고친 제목"))
    build_site(config)
    assert "손으로 고친 제목" in (site / "issues/0002/index.html").read_text()
    (tmp_path / "issues/0003.md").unlink()
    build_site(config)
    assert not (site / "issues/0003").exists()
    assert not (site / "keywords/c--").exists() and not (site / "keywords/확산-모델").exists()


def test_incremental_build_never_changes_the_live_site_in_place(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging shares inodes with the live site; a crash mid-build must leave it untouched."""
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    write_issue(tmp_path, 4)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("digest.site.build.Manifest.write", crash)
    with pytest.raises(OSError):
        build_site(make_config(tmp_path))
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]


def test_a_damaged_manifest_means_a_full_build(tmp_path: Path, site: Path) -> None:
    (site / MANIFEST_NAME).write_text("{not json")
    result = build_site(make_config(tmp_path))
    assert result.rendered == result.pages


def test_serve_watcher_rebuilds_a_saved_edit_within_a_second(tmp_path: Path, site: Path) -> None:
    from digest.cli.common import AppState
    from digest.cli.site import _rebuild_on_change

    app = AppState(config_path=None, verbosity=-1, _config=make_config(tmp_path))
    stop = threading.Event()
    watcher = threading.Thread(target=_rebuild_on_change, args=(app, False, stop), daemon=True)
    watcher.start()
    try:
        time.sleep(0.3)  # let it take its first snapshot
        path = tmp_path / "issues/0001.md"
        path.write_text(path.read_text().replace("Paper 1.1", "방금 저장한 제목"))
        saved = time.monotonic()
        page = site / "issues/0001/index.html"
        while "방금 저장한 제목" not in _read_if_there(page):
            assert time.monotonic() - saved < 1.0, "the edit was not re-rendered within 1 s"
            time.sleep(0.02)
    finally:
        stop.set()
        watcher.join(timeout=2)
    assert not watcher.is_alive()


def test_hard_links_are_used_when_the_filesystem_has_them(tmp_path: Path, site: Path) -> None:
    write_issue(tmp_path, 4)
    build_site(make_config(tmp_path))
    assert os.stat(site / "issues/0002/index.html").st_nlink == 1  # the old tree is gone


@pytest.mark.parametrize("cp", ["none", "failing"])
def test_without_a_working_cp_the_tree_is_linked_in_python(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch, cp: str
) -> None:
    import subprocess
    import sys

    from digest.site import build as site_build

    def start(source: Path, target: Path) -> subprocess.Popen[bytes] | None:
        if cp == "none":
            return None
        (target / "half-copied").mkdir()  # what a cp that gave up may leave behind
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])

    monkeypatch.setattr(site_build, "_start_linking", start)
    kept = (site / "issues/0001/index.html").stat().st_ino
    write_issue(tmp_path, 4)
    result = build_site(make_config(tmp_path))
    assert 0 < result.rendered < result.pages
    assert (site / "issues/0001/index.html").stat().st_ino == kept  # linked, not rendered
    assert (site / "issues/0004/index.html").is_file() and (site / "search.js").is_file()
    assert not (site / "half-copied").exists()


def test_a_template_error_while_cp_links_leaves_no_staging_behind(
    tmp_path: Path, site: Path
) -> None:
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    write_issue(tmp_path, 4)
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "issue.html.j2").write_text("{{ no_such_name }}")
    with pytest.raises(Exception, match="no_such_name"):
        build_site(make_config(tmp_path))
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 is Linux's")
def test_the_site_is_never_absent_while_builds_swap(tmp_path: Path, site: Path) -> None:
    """A reader polling the home page all through five rebuilds always finds it (Linux)."""
    import threading

    missing: list[float] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            if not (site / "index.html").is_file():
                missing.append(time.monotonic())

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for number in range(4, 9):
            write_issue(tmp_path, number)
            build_site(make_config(tmp_path))
    finally:
        done.set()
        reader.join()
    assert missing == []
    assert "0008" in (site / "index.html").read_text()


def test_a_crash_between_the_fallback_renames_is_repaired(tmp_path: Path, site: Path) -> None:
    site.rename(tmp_path / ".site.old-4242")  # killed after retiring the old site
    write_issue(tmp_path, 4)
    build_site(make_config(tmp_path))
    assert (site / "issues/0001/index.html").is_file() and (site / "issues/0004").is_dir()
    assert not list(tmp_path.glob(".site.old-*"))


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    from digest.site.build import exchange

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("b")
    if exchange(tmp_path / "a", tmp_path / "b"):
        assert (tmp_path / "a" / "x").read_text() == "b"
        assert (tmp_path / "b" / "x").read_text() == "a"
    if sys.platform == "linux":
        with pytest.raises(FileNotFoundError):
            exchange(tmp_path / "a", tmp_path / "missing")


def _read_if_there(page: Path) -> str:
    try:
        return page.read_text()
    except FileNotFoundError:  # between the two renames of the swap
        return ""


def test_parsed_issues_are_cached_and_a_broken_cache_is_ignored(tmp_path: Path, site: Path) -> None:
    shard = tmp_path / ".digest/cache/issues/0.pickle"
    assert shard.is_file()
    shard.write_bytes(b"not a pickle")
    path = tmp_path / "issues/0001.md"
    path.write_text(path.read_text().replace("Paper 1.1", "캐시가 깨져도 다시 읽음"))
    build_site(make_config(tmp_path))
    assert "캐시가 깨져도 다시 읽음" in (site / "issues/0001/index.html").read_text()


def test_the_unsubscribe_page_holds_whoever_sends_the_email(tmp_path: Path) -> None:
    """Without `unsubscribe_url` the email's link is a mail to the editor when digest sends,
    a service's own link when a mailing service does: the page promises neither."""
    write_issue(tmp_path, 1)
    config = make_config(tmp_path)
    email = config.email.model_copy(update={"from_": "뉴랄브리핑 <editor@example.org>"})
    build_site(config.model_copy(update={"email": email}))
    page = (tmp_path / "site" / "unsubscribe" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    assert "링크를 누르세요" in text and "채워져 있으면 그대로 보내 주세요" in text
    assert "누르면 편집자에게 보낼 메일이 채워진 채로 열립니다" not in text
    assert "mailto:editor@example.org?subject=unsubscribe" in page  # the way that always works
    assert "메일로 보낸 요청은 편집자가 읽고" in text
