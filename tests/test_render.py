"""The site: published issues only, nothing from a feed or a model injects markup, atomic swap."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest import issue as issues
from digest.config import Config
from digest.issue import Issue, IssueItem, Section
from digest.site import build_site


def make_config(tmp_path: Path) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {
                    "id": "arxiv",
                    "title": "arXiv",
                    "sources": [{"id": "a", "type": "rss", "url": "x"}],
                }
            ],
            "base_dir": tmp_path,
        }
    )


def hostile_item() -> IssueItem:
    return IssueItem(
        id="arxiv:2604.00001",
        title='<img src=x onerror="alert(1)"> Title',
        url="https://arxiv.org/abs/2604.00001",
        source_id="a",
        key_sentence="We **propose** <script>alert(2)</script> a method.",
        summary="요약 <iframe src=//evil></iframe> [link](javascript:alert(3))",
        glossary_note="토막상식 `code`",
    )


def publish(tmp_path: Path, number: int, status: str = "published") -> Issue:
    issue = Issue(
        number, date(2026, 11, 20 + number), "뉴랄브리핑", status=status,
        sections=[Section("arxiv", "arXiv", [hostile_item()])],
    )  # fmt: skip
    issues.save(issue, tmp_path / "issues")
    return issue


def test_only_published_issues_are_built(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    publish(tmp_path, 1)
    publish(tmp_path, 2, status="draft")
    result = build_site(config)
    assert result.issues == 1 and result.rendered == result.pages
    assert (tmp_path / "site/issues/0001/index.html").is_file()
    assert not (tmp_path / "site/issues/0002").exists()
    preview = build_site(config, include_drafts=True)
    assert preview.issues == 2 and (tmp_path / "site/issues/0002/index.html").is_file()


def test_feed_and_model_text_cannot_inject_markup(tmp_path: Path) -> None:
    publish(tmp_path, 1)
    build_site(make_config(tmp_path))
    page = (tmp_path / "site/issues/0001/index.html").read_text()
    for attack in ("<script", "<iframe", "<img src=x", 'href="javascript:'):
        assert attack not in page
    # the key sentence is the source's text: shown as written, not as Markdown
    assert "We **propose** &lt;script&gt;alert(2)&lt;/script&gt; a method." in page
    assert "<code>code</code>" in page  # what the summarizer wrote is Markdown


def test_pages_link_relatively_with_previous_and_next(tmp_path: Path) -> None:
    for number in (1, 2, 3):
        publish(tmp_path, number)
    build_site(make_config(tmp_path))
    middle = (tmp_path / "site/issues/0002/index.html").read_text()
    assert 'href="../../issues/0001/index.html"' in middle
    assert 'href="../../issues/0003/index.html"' in middle
    assert 'href="../../style.css"' in middle and "https://" not in middle.split("<main>")[0]
    assert '<html lang="ko">' in middle


def test_a_failed_build_leaves_the_old_site_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path)
    publish(tmp_path, 1)
    build_site(config)
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "site").rglob("*"))
    publish(tmp_path, 2)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("digest.site.build._copy_static", disk_full)
    with pytest.raises(OSError):
        build_site(config)
    after = sorted(p.relative_to(tmp_path) for p in (tmp_path / "site").rglob("*"))
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]


def test_user_templates_override_bundled_ones(tmp_path: Path) -> None:
    publish(tmp_path, 1)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html.j2").write_text("custom home {{ latest.title }}")
    build_site(make_config(tmp_path))
    assert (tmp_path / "site/index.html").read_text().startswith("custom home 제 0001호")
