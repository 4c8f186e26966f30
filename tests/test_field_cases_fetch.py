"""Issue 14's field cases of the fetch side, each with its right outcome, through the real CLI.

Each folder under tests/fixtures/field-cases/ is a copy of the case's inputs (feeds.yaml, the
feed or listing, subscribers.csv) and its README.txt; the test runs what the case's run.sh ran
and checks the README's right outcome. Tests beyond each case are in test_fetch_text.py and
test_fetch_identity.py.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult

CASES = Path(__file__).resolve().parent / "fixtures" / "field-cases"


@pytest.fixture
def case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> Callable[[str], Callable[..., CliResult]]:
    """`case(name)` copies the case's inputs to a scratch folder, pins the clock as its run.sh
    does, and returns a `digest` that runs there."""

    def open_case(name: str) -> Callable[..., CliResult]:
        work = tmp_path / name
        shutil.copytree(CASES / name, work)
        (work / "issues").mkdir(exist_ok=True)
        monkeypatch.chdir(work)
        monkeypatch.setenv("DIGEST_NOW", "2026-04-30T07:00:00+09:00")
        return lambda *args: run_cli("--config", str(work / "feeds.yaml"), *args)

    return open_case


def fetched(digest: Callable[..., CliResult]) -> list[dict[str, Any]]:
    result = digest("fetch", "--json")
    assert result.code in (0, 3), result.err
    return [json.loads(line) for line in result.out.splitlines()]


def explained(digest: Callable[..., CliResult]) -> dict[str, Any]:
    result = digest("draft", "--explain", "--json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def headings() -> list[str]:
    text = Path("issues/0001.md").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("### ")]


def test_01_literal_angle_brackets_in_titles_survive(case: Any) -> None:
    digest = case("01-angle-brackets-title")
    titles = {item["title"] for item in fetched(digest)}
    assert {
        "Why <think> tokens help small models reason",
        "Typed tensors: Tensor<float, 3> in our new library",
        "[D] Is the <think> block just a scratchpad?",
        "[R] Q&A: when does x < y hold for attention scores?",
    } == titles
    assert digest("draft").code == 0
    assert any("<think> tokens" in line for line in headings())
    assert digest("build", "--drafts").code == 0
    pages = "".join(p.read_text(encoding="utf-8") for p in Path("site").rglob("*.html"))
    assert "Why &lt;think&gt; tokens help" in pages  # the renderer escapes, once


def test_02_reddit_escaping_is_undone_for_the_link_too(case: Any) -> None:
    digest = case("02-reddit-escaped-url")
    by_source = {item["source_id"]: item for item in fetched(digest)}
    assert by_source["reddit-ml"]["reddit"]["link"] == "https://blog.example.org/post?id=42&lang=en"
    chosen = explained(digest)["chosen"]
    (blog,) = chosen["blogs"]
    assert "linked by reddit-ml (+1.5)" in blog["reasons"]
    assert blog["discussions"] == ["reddit:def456"]


def test_04_entries_that_differ_by_fragment_are_different_items(
    case: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = case("04-fragment-links")
    items = fetched(digest)
    assert [(i["id"], i["url"]) for i in items] == [
        ("https://docs.example.org/release-notes#v2-4-0",) * 2,
        ("https://docs.example.org/release-notes#v2-3-1",) * 2,
    ]
    assert [c["title"] for c in explained(digest)["chosen"]["releases"]] == [
        "v2.4.0: FlashAttention kernels on by default",
        "v2.3.1: fix for mixed-precision optimizer state",
    ]
    assert digest("draft").code == 0
    assert len(headings()) == 2
    # Two days later a third release is added: it is news, the first two are not again.
    feed = Path("feed.xml")
    new = (
        "<entry><title>v2.5.0: paged KV cache for inference</title>"
        "<id>tag:docs.example.org,2026:release-2.5.0</id>"
        '<link href="https://docs.example.org/release-notes#v2-5-0"/>'
        "<updated>2026-05-01T10:00:00Z</updated><summary>Pages.</summary></entry>\n"
    )
    feed.write_text(feed.read_text().replace("<entry>", new + "<entry>", 1))
    monkeypatch.setenv("DIGEST_NOW", "2026-05-02T07:00:00+09:00")
    fetched(digest)
    later = explained(digest)
    assert [c["title"] for c in later["chosen"]["releases"]] == [
        "v2.5.0: paged KV cache for inference"
    ]
    assert {r["reason"] for r in later["rejected"]} == {"already in an issue"}


def test_06_old_style_arxiv_ids_are_papers_like_new_ones(case: Any) -> None:
    digest = case("06-arxiv-old-style-id")
    items = {item["id"]: item for item in fetched(digest)}
    assert set(items) == {"arxiv:2401.01234", "arxiv:cs/0701188"}
    old = items["arxiv:cs/0701188"]
    assert old["url"] == "https://arxiv.org/abs/cs/0701188"
    assert old["arxiv"]["announce_type"] == "replace"
    assert old["arxiv"]["categories"] == ["cs.LG"]
    assert old["summary"].startswith("We revisit an early kernel method")
    assert old["authors"] == ["Cy Example", "Di Example"]
    for candidate in explained(digest)["chosen"]["arxiv"]:
        assert "arXiv replace (-0.5)" in candidate["reasons"]


def test_07_nfd_hangul_matches_interests_like_nfc(case: Any) -> None:
    digest = case("07-nfd-hangul")
    raw = Path("feed.xml").read_text(encoding="utf-8")
    assert not unicodedata.is_normalized("NFC", raw)  # the input really holds NFD
    items = fetched(digest)
    assert all(unicodedata.is_normalized("NFC", i["title"] + i["summary"]) for i in items)
    chosen = explained(digest)["chosen"]["blogs"]
    assert len(chosen) == 2
    assert all(c["reasons"][0] == "interests: 강화학습 (+2)" for c in chosen)


def test_13_removed_and_deleted_reddit_posts_are_left_out_with_a_reason(case: Any) -> None:
    digest = case("13-reddit-removed-post")
    fetched(digest)
    data = explained(digest)
    assert [c["id"] for c in data["chosen"]["reddit"]] == ["reddit:ok0001"]
    reasons = {r["id"]: r["reason"] for r in data["rejected"]}
    assert reasons == {
        "reddit:rem001": "removed (moderator) on Reddit: nothing left to show",
        "reddit:del001": "deleted by its author on Reddit: nothing left to show",
    }
    text = digest("draft", "--explain")
    assert "nothing left to show" in text.out + text.err
    assert digest("draft").code == 0
    (heading,) = headings()
    assert "A careful study of learning-rate warmup" in heading
