"""A new source type or summarizer backend is one module plus one registry line: proven here by
registering a fake of each and running the real pipeline through it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Newsroom

from digest import issue as issues
from digest.config import Config
from digest.fetch import FETCHERS, fetch_all
from digest.store import Store
from digest.summarize.generative import RETRIES

FAKE_SOURCE = """
from digest.fetch import Fetched
from digest.models import Item


def fetch(source, section_id, http, state):
    return Fetched([Item(id=f"{source.id}:1", title="A note from the fake source",
                         url="https://example.org/fake/1", source_id=source.id,
                         section_id=section_id, summary="Hello.")])
"""


def test_a_new_source_type_is_one_module_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_source_type.py").write_text(FAKE_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(FETCHERS, "fake", "fake_source_type")
    config = Config.model_validate(
        {
            "sections": [
                {"id": "s", "title": "S", "sources": [{"id": "f", "type": "fake", "url": "x"}]}
            ],
            "base_dir": tmp_path,
        }
    )
    with Store(tmp_path / "state") as store:
        report = fetch_all(config, store)
        assert [o.items for o in report.outcomes] == [1]
        assert store.item("f:1") is not None
    sys.modules.pop("fake_source_type", None)


def test_an_unknown_type_or_backend_names_what_exists(tmp_path: Path) -> None:
    section = {"id": "s", "title": "S", "sources": [{"id": "f", "type": "atom", "url": "x"}]}
    with pytest.raises(ValueError, match=r"use one of: 'rss', 'arxiv' or 'reddit'"):
        Config.model_validate({"sections": [section], "base_dir": tmp_path})
    section["sources"][0]["type"] = "rss"  # type: ignore[index]
    with pytest.raises(ValueError, match=r"unknown summarizer backend 'gpt'"):
        Config.model_validate(
            {"sections": [section], "summarizer": {"backend": "gpt"}, "base_dir": tmp_path}
        )


MIXED = (
    " Google Research의 {thing}를 소개하는 글임. 원문이 밝힌 내용을 짧게 정리함.\n"
    "- [의의] 이 글이 다룬 {thing}가 무엇을 바꾸는지 보여 줌."
)


def test_a_scripted_backend_drafts_a_whole_day(run_cli, newsroom: Newsroom, scripted) -> None:
    text = newsroom.config.read_text(encoding="utf-8")
    newsroom.config.write_text(text + "\nsummarizer:\n  backend: scripted\n", encoding="utf-8")
    # Enough for every item's first answer and its retries (an ungrounded word is retried).
    scripted.enqueue(*[MIXED.format(thing="research") for _ in range(40 * (1 + RETRIES))])
    made = run_cli("--config", str(newsroom.config), "daily", "--date", "2026-04-30", "--no-send")
    assert made.code == 0, made.err
    draft = issues.load(newsroom.issue(1))
    assert draft.items and all(item.model == "scripted:1" for item in draft.items)
    assert {p.completion.count("제목:") for p in scripted.PROMPTS} == {1}  # the tuned prompt
    titles = {item.title for item in draft.items}
    assert any(title in p.completion for p in scripted.PROMPTS for title in titles)
    # Every brief was checked: grounded ones kept, the rest named for the editor.
    for item in draft.items:
        assert item.summary and item.unreviewed
        assert item.needs_review == bool(item.review_reasons)


def test_the_scripted_backend_says_when_it_runs_out(tmp_path: Path, scripted) -> None:
    from digest.models import Item
    from digest.summarize import make_summarizer

    config = Config.model_validate(
        {
            "sections": [
                {"id": "s", "title": "S", "sources": [{"id": "f", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {"backend": "scripted"},
            "base_dir": tmp_path,
        }
    )
    item = Item("x", "T", "https://e.org/x", "f", "s", summary="text")
    with pytest.raises(AssertionError, match="0 answers left"):
        make_summarizer(config).summarize([item])
