"""Helpers for the fetch-side tests: fixture bytes, a source, a fast HTTP client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digest.config import SourceConfig
from digest.http import HttpClient

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"

META = "meta/engineering-fb-com-category-ai-research-feed-trimmed-2026-02-25.xml"
ARXIV_RSS = "arxiv-rss/rss-arxiv-org-cs.LG-trimmed-3-items-2026-04-27.xml"
ARXIV_API = "arxiv-api/arxiv-api-query-cat-cs.LG-OR-cs.AI-20-entries-2026-04-30.xml"
ARXIV_API_LEGACY = "arxiv-api/arxiv-api-query-cat-cs.RO-legacy-format-2025-10-17.xml"
REDDIT_JSON = "reddit/reddit-r-MachineLearning-hot-json-listing-2023-05-05.json"
REDDIT_ATOM = "reddit/reddit-r-LocalLLaMA-top-rss-week-atom-2026-07-13.xml"
GOOGLE = "written-by-us/google-research-blog.xml"
AWS = "written-by-us/aws-ml-blog.xml"


def feed(relative: str) -> bytes:
    """The bytes of a fixture under tests/fixtures/feeds/."""
    return (FEEDS / relative).read_bytes()


def source(url: str = "http://127.0.0.1/feed", **fields: Any) -> SourceConfig:
    return SourceConfig.model_validate({"id": "src", "type": "rss", "url": url, **fields})


def fast_client(**fields: Any) -> HttpClient:
    """Our client with tiny back-off and no host spacing, so retry tests take milliseconds."""
    return HttpClient(**{"backoff_s": 0.01, "host_spacing": {}, "timeout": 5.0, **fields})
