"""A real browser reads the built sample: headless Chromium from Debian (no browser download),
driven by Playwright, opens the home page and an issue page from file:// and over HTTP, sees no
console errors; with UPDATE_SCREENSHOTS=1 it saves the screenshot the README shows
(docs/site-home.png).

CI installs it with: apt-get install -y chromium && pip install playwright
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.config import load_config
from digest.site import build_site

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium — install Debian's browser: apt-get install -y chromium",
)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="no playwright — pip install playwright (no browser download)"
)


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample built from scratch, as `make sample` does (not a leftover build)."""
    folder = tmp_path_factory.mktemp("browser") / "examples"
    shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns(".digest", "issues"))
    env = {
        **os.environ,
        "DIGEST_NOW": "2026-04-30T07:00:00+09:00",
        "DIGEST_SUMMARIZER_BACKEND": "extractive",
    }
    command = [sys.executable, "-m", "digest", "--config", str(folder / "feeds.yaml")]
    built = subprocess.run(
        [*command, "daily", "--date", "2026-04-30", "--no-send"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return load_config(folder / "feeds.yaml").site_path


@pytest.fixture(scope="module")
def server(sample_site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(sample_site.parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        # served from a sub-path, as GitHub Pages serves /user/repo/
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{sample_site.name}/"
        httpd.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def open_page(browser: object, url: str, errors: list[str]) -> object:
    page = browser.new_page(viewport={"width": 900, "height": 1100})  # type: ignore[attr-defined]
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("over", ["file", "http"])
def test_home_and_an_issue_page_render_without_errors(
    browser: object, sample_site: Path, server: str, over: str
) -> None:
    base = sample_site.as_uri() + "/" if over == "file" else server
    errors: list[str] = []
    home = open_page(browser, base + "index.html", errors)
    assert home.locator("h1").first.inner_text().startswith("제 0001호 뉴랄브리핑")  # type: ignore[attr-defined]
    # the stylesheet loaded: the page font is the Hangul system stack, not the default serif
    font = home.evaluate("getComputedStyle(document.body).fontFamily")  # type: ignore[attr-defined]
    assert "Noto Sans" in font
    if over == "http" and os.environ.get("UPDATE_SCREENSHOTS"):
        home.screenshot(path=str(ROOT / "docs" / "site-home.png"))  # type: ignore[attr-defined]
    home.click("text=지난 호")  # type: ignore[attr-defined]
    home.click("text=제 0001호 뉴랄브리핑")  # type: ignore[attr-defined]
    assert home.url.endswith("issues/0001/index.html")  # type: ignore[attr-defined]
    assert home.locator("li.item").count() > 5  # type: ignore[attr-defined]
    glossary = open_page(browser, base + "glossary/index.html", errors)
    assert glossary.locator("dl.glossary dt").count() > 3  # type: ignore[attr-defined]
    assert errors == []


def test_dark_mode_follows_the_system(browser: object, server: str) -> None:
    page = browser.new_page(color_scheme="dark")  # type: ignore[attr-defined]
    page.goto(server + "index.html")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 24, 26)"


# search --------------------------------------------------------------------------------------
QUERIES = Path(__file__).parent / "search_queries.yaml"
CORPUS = [
    ("Reinforcement learning for robot arms", "강화학습은 보상을 보며 행동을 배우는 방법임. 로봇 팔 제어에 쓰임."),
    ("RLHF aligns language models", "이번 논문은 강화학습을 언어 모델 정렬에 적용함. 사람 피드백으로 보상 모델을 만듦."),
    ("Supervised image classifiers", "지도학습으로 이미지 분류기를 훈련함. 라벨이 많이 필요함."),
    ("Cleaning pretraining data for LLMs", "대형 언어모델의 사전학습 데이터를 정제하는 방법을 제안함."),
    ("Efficient attention in Transformers", "트랜스포머 구조에서 어텐션 계산을 줄여 GPU 메모리를 아낌."),
    ("Faster diffusion sampling", "확산 모델로 고해상도 이미지를 생성함. 노이즈를 걷어내는 단계를 줄임."),
    ("Robust Korean speech recognition", "음성 인식 모델이 잡음 속에서도 한국어를 알아들음."),
    ("4-bit quantization on phones", "양자화로 모델 크기를 4비트까지 줄여 휴대폰에서 돌림."),
    ("Retrieval-augmented generation", "검색 증강 생성으로 언어 모델이 최신 문서를 참고하게 함."),
    ("Moving recommenders from GPU to CPU", "GPU에서 돌던 추천 시스템을 CPU로 옮겨 비용을 줄임."),
    ("Graph neural networks for molecules", "그래프 신경망으로 분자 구조를 예측함. 신약 개발에 도움."),
    ("Robots learn chores from one video", "로봇이 사람 시연 영상 하나로 집안일을 배움. 시뮬레이션 없이 학습함."),
]  # fmt: skip


@pytest.fixture(scope="module")
def search_page(browser: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from datetime import date

    from digest import issue as issues
    from digest.config import Config
    from digest.issue import Issue, IssueItem, Section

    folder = tmp_path_factory.mktemp("search")
    for number, (title, summary) in enumerate(CORPUS, 1):
        item = IssueItem(id=f"u{number}", title=title, url=f"https://example.org/{number}",
                         source_id="a", summary=summary)  # fmt: skip
        issue = Issue(number, date(2026, 1, number), "뉴랄브리핑", status="published",
                      sections=[Section("arxiv", "arXiv", [item])])  # fmt: skip
        issues.save(issue, folder / "issues")
    config = Config.model_validate(
        {"sections": [{"id": "arxiv", "title": "arXiv",
                       "sources": [{"id": "a", "type": "rss", "url": "x"}]}],
         "base_dir": folder}
    )  # fmt: skip
    from digest.site import search

    # Index files of 10 issues, not 100: the corpus is then searched across files the browser
    # merges, as a 1,000-issue site's is.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "CHUNK_ISSUES", 10)
        build_site(config)
    assert len(list((folder / "site").glob("search-index-*.js"))) == 2
    errors: list[str] = []
    page = open_page(browser, (folder / "site/search/index.html").as_uri(), errors)
    page.wait_for_function("window.digestSearch !== undefined")  # type: ignore[attr-defined]
    yield page
    assert errors == []


def test_korean_search_recall_and_precision_per_class(search_page: object) -> None:
    import yaml

    classes = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    assert sum(len(q) for q in classes.values()) >= 60
    report = {}
    for name, queries in classes.items():
        found = expected = relevant_found = 0
        misses = []
        for query, wanted in queries.items():
            got = set(search_page.evaluate("q => window.digestSearch(q)", query))  # type: ignore[attr-defined]
            found += len(got)
            expected += len(wanted)
            relevant_found += len(got & set(wanted))
            if got != set(wanted):
                misses.append((query, sorted(got), wanted))
        recall, precision = relevant_found / expected, relevant_found / max(found, 1)
        report[name] = (round(recall, 3), round(precision, 3))
        assert recall >= 0.95 and precision >= 0.90, (name, report[name], misses)
    print("search recall/precision per class:", report)


def test_a_word_with_a_particle_ranks_like_the_bare_word(search_page: object) -> None:
    # issue 1 has 강화학습은, issue 2 강화학습을: equal scores, so the newer comes first
    assert search_page.evaluate("window.digestSearch('강화학습')") == [2, 1]  # type: ignore[attr-defined]
    # a title match outranks a body match
    assert search_page.evaluate("window.digestSearch('GPU')")[0] == 10  # type: ignore[attr-defined]


def test_the_search_form_shows_linked_results(search_page: object) -> None:
    search_page.fill("input[name=q]", "학습이")  # type: ignore[attr-defined]
    search_page.click("button[type=submit]")  # type: ignore[attr-defined]
    results = search_page.locator("ol.results li a")  # type: ignore[attr-defined]
    assert results.count() == 5
    assert "issues/0001/index.html#arxiv-1" in (results.last.get_attribute("href") or "")
    if os.environ.get("UPDATE_SCREENSHOTS"):
        search_page.screenshot(path=str(ROOT / "docs" / "site-search.png"))  # type: ignore[attr-defined]
