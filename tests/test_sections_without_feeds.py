"""Sections without feeds (issue 15, point 6): the reference issue's 트위터 and 기타소식 have no
source; the editor fills them with `digest review add URL --section ID`. They are allowed in
feeds.yaml, skipped by fetching, selection and drafting, shown in feeds.yaml's order once they
have an item, and never shown as an empty heading."""

from __future__ import annotations

import email
from pathlib import Path

import pytest
import yaml
from conftest import CliResult, Newsroom

from digest import issue as issues
from digest.config import load_config
from digest.errors import ConfigError

DAY = "2026-04-30"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta property="og:title" content="MNIST reborn: 12만 개짜리 숫자 데이터">
<meta name="description" content="The MNIST dataset is restored and expanded with 50,000 new
training samples, so a model can be tested on data it never saw.">
</head><body></body></html>"""


def _with_sections(room: Newsroom, **extra: list[dict]) -> None:
    """feeds.yaml with sourceless sections: `before=<section id>` names where each list goes."""
    settings = yaml.safe_load(room.config.read_text(encoding="utf-8"))
    for before, sections in extra.items():
        ids = [s["id"] for s in settings["sections"]]
        at = ids.index(before) if before in ids else len(ids)
        settings["sections"][at:at] = sections
    room.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def room(newsroom: Newsroom) -> Newsroom:
    """The sample newsroom with 트위터 between arXiv and 레딧 and 기타소식 at the end."""
    _with_sections(
        newsroom,
        reddit=[{"id": "twitter", "title": "트위터", "sources": []}],
        end=[{"id": "misc", "title": "기타소식", "max_items": 5, "sources": []}],
    )
    return newsroom


def test_config_loads_a_section_with_no_sources(room: Newsroom) -> None:
    config = load_config(room.config)
    assert config.section_ids == ["google", "aws", "meta", "arxiv", "twitter", "reddit", "misc"]
    assert config.section("twitter").sources == []
    assert "twitter" not in {section.id for section, _ in config.sources}


def test_a_config_without_any_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "title: 뉴랄브리핑\nsections:\n  - id: twitter\n    title: 트위터\n    sources: []\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "feeds.yaml:2: sections: no section has a source" in str(raised.value)


def test_a_section_without_sources_still_needs_a_title(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "sections:\n"
        "  - id: google\n    title: 구글 블로그\n"
        "    sources: [{id: g, type: rss, url: feeds/g.xml}]\n"
        "  - id: twitter\n    sources: []\n",
        encoding="utf-8",
    )
    result = run_cli("--config", str(path), "fetch")
    assert result.code == 2
    assert "feeds.yaml:5: sections.1.title: Field required — add title:" in result.err


def test_a_daily_run_skips_them_and_shows_no_empty_heading(run_cli, room: Newsroom) -> None:
    def digest(*args: str) -> CliResult:
        return run_cli("--config", str(room.config), *args)

    made = digest("daily", "--date", DAY, "--no-send")
    assert made.code == 0, made.err
    text = room.issue(1).read_text(encoding="utf-8")
    assert "section: twitter" not in text and "트위터" not in text and "기타소식" not in text
    published = issues.load(room.issue(1))
    assert published.items and {s.id for s in published.sections} <= {
        "google", "aws", "meta", "arxiv", "reddit"
    }  # fmt: skip
    page = (room.path / "site" / "issues" / "0001" / "index.html").read_text(encoding="utf-8")
    assert "트위터" not in page and "기타소식" not in page
    assert not (room.path / "site" / "sections" / "twitter").exists()
    explained = digest("draft", "--date", DAY, "--explain")  # 3: all of it is in the issue
    assert explained.code == 3, explained.err
    assert "트위터 [twitter] — no sources: `digest review add URL --section twitter`" in (
        explained.out
    )


def test_review_add_fills_one_and_it_shows_in_feeds_order(
    run_cli, room: Newsroom, tmp_path: Path
) -> None:
    def digest(*args: str) -> CliResult:
        return run_cli("--config", str(room.config), *args)

    assert digest("daily", "--date", DAY, "--no-send", "--no-publish").code == 0
    room.server.expect_request("/mnist").respond_with_data(  # type: ignore[attr-defined]
        PAGE, content_type="text/html; charset=utf-8"
    )
    url = room.server.url_for("/mnist")  # type: ignore[attr-defined]
    added = digest("review", "add", url, "--section", "twitter")
    assert added.code == 0, added.err
    draft = issues.load(room.issue(1))
    order = [s.id for s in draft.sections]
    assert order.index("arxiv") < order.index("twitter") < order.index("reddit")
    twitter = draft.section("twitter")
    assert twitter is not None and [i.title for i in twitter.items] == [
        "MNIST reborn: 12만 개짜리 숫자 데이터"
    ]
    assert "misc" not in order  # still empty: no heading
    listing = digest("review", "list")
    assert listing.code == 0 and "트위터" in listing.out

    # An empty heading written by hand stays in the file (it is the editor's) but is not shown.
    text = room.issue(1).read_text(encoding="utf-8")
    room.issue(1).write_text(
        text.replace("## 레딧\n", "## 기타소식\n<!-- section: misc -->\n\n## 레딧\n"),
        encoding="utf-8",
    )
    assert issues.load(room.issue(1)).section("misc") is not None

    published = digest("publish", "--force", "--no-send")  # unapproved on purpose: no review
    assert published.code == 0, published.err
    page = (room.path / "site" / "issues" / "0001" / "index.html").read_text(encoding="utf-8")
    assert (
        page.index("<h2>arXiv</h2>") < page.index("<h2>트위터</h2>") < page.index("<h2>레딧</h2>")
    )
    assert "MNIST reborn" in page and "기타소식" not in page
    sections_page = room.path / "site" / "sections" / "twitter" / "index.html"
    assert "MNIST reborn" in sections_page.read_text(encoding="utf-8")

    out = tmp_path / "outbox"
    sent = digest("send", "--dry-run", "--out", str(out))
    assert sent.code == 0, sent.err
    message = email.message_from_bytes(next((out / "0001").glob("*.eml")).read_bytes())
    parts = {part.get_content_type(): part for part in message.walk()}
    for kind in ("text/plain", "text/html"):
        body = parts[kind].get_payload(decode=True).decode("utf-8")
        assert body.index("arXiv") < body.index("트위터") < body.index("레딧"), kind
        assert "MNIST reborn" in body and "기타소식" not in body


def test_the_sample_feeds_yaml_section_works_uncommented(tmp_path: Path, run_cli) -> None:
    made = run_cli("init", str(tmp_path / "nl"))
    assert made.code == 0, made.err
    path = tmp_path / "nl" / "feeds.yaml"
    text = path.read_text(encoding="utf-8")
    sample = "  # - id: twitter\n  #   title: 트위터\n  #   sources: []\n"
    assert sample in text
    path.write_text(text.replace(sample, sample.replace("  # ", "  ")), encoding="utf-8")
    config = load_config(path)
    assert config.section_ids[-1] == "twitter" and config.section("twitter").sources == []
