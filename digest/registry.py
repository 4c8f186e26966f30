"""The two registries: which module fetches each source `type:` and which makes each summarizer
`backend`. Names only, so feeds.yaml is validated against them without importing a fetcher or a
model stack, and no module imports back into config.

A new source type is one module in `digest/fetch/` with `fetch(source, section_id, http, state)
-> Fetched`, plus one line in FETCHERS; a new backend is one module with `make(config, progress)
-> Summarizer`, plus one line in BACKENDS (tests/test_registries.py does both with fakes).
"""

from __future__ import annotations

FETCHERS: dict[str, str] = {
    "rss": "digest.fetch.rss",
    "arxiv": "digest.fetch.arxiv",
    "reddit": "digest.fetch.reddit",
}

BACKENDS: dict[str, str] = {
    "extractive": "digest.summarize.extractive",
    "transformers": "digest.summarize.transformers",
    "openai": "digest.summarize.openai",
}
