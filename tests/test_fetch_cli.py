"""`digest fetch --json`: every normalized item, one JSON object per line, on stdout alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from conftest import CliResult, Newsroom


def test_fetch_json_prints_one_item_per_line(
    newsroom: Newsroom, run_cli: Callable[..., CliResult]
) -> None:
    result = run_cli("--config", str(newsroom.config), "fetch", "--source", "reddit-ml", "--json")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines, "no items printed"
    items = [json.loads(line) for line in lines]
    assert all(i["source_id"] == "reddit-ml" and i["section_id"] == "reddit" for i in items)
    assert {"id", "title", "url", "authors", "published", "summary", "html", "reddit"} <= set(
        items[0]
    )
    for item in items:
        assert item["id"].startswith("reddit:")
        assert datetime.fromisoformat(item["published"]).tzinfo is not None
        assert isinstance(item["reddit"]["score"], int)
        assert isinstance(item["reddit"]["stickied"], bool)
    assert "fetched 1 sources" in result.err
    assert "fetched" not in result.out


def test_fetch_json_prints_what_sources_say_even_when_nothing_is_new(
    newsroom: Newsroom, run_cli: Callable[..., CliResult]
) -> None:
    first = run_cli("--config", str(newsroom.config), "fetch", "--json")
    assert first.code == 0, first.err
    sources = {json.loads(line)["source_id"] for line in first.out.splitlines()}
    assert sources == {"google-research", "aws-ml", "meta-ai-research", "arxiv-rss", "reddit-ml"}
    again = run_cli("--config", str(newsroom.config), "fetch", "--json")
    assert again.code == 3  # nothing new
    assert len(again.out.splitlines()) == len(first.out.splitlines())  # the source still said so


def test_unknown_source_is_a_usage_error(
    newsroom: Newsroom, run_cli: Callable[..., CliResult]
) -> None:
    result = run_cli("--config", str(newsroom.config), "fetch", "--source", "nope", "--json")
    assert result.code == 2
    assert "no source 'nope'" in result.err
    assert result.out == ""
