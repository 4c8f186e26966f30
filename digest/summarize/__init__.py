"""Summarizers: a `Summarizer` protocol and backends in a registry keyed by `summarizer.backend`.

Heavy backends are imported only when chosen, so `digest build` never loads torch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from digest.config import Config
from digest.errors import ConfigError
from digest.models import Brief, Item
from digest.store import Store


class Summarizer(Protocol):
    model_id: str  # part of the cache key: a different model writes a different brief

    def summarize(self, items: list[Item]) -> list[Brief]: ...


def _extractive(config: Config) -> Summarizer:
    from digest.summarize.extractive import ExtractiveSummarizer

    return ExtractiveSummarizer()


BACKENDS: dict[str, Callable[[Config], Summarizer]] = {"extractive": _extractive}


def make_summarizer(config: Config) -> Summarizer:
    backend = config.summarizer.backend
    if backend not in BACKENDS:
        raise ConfigError(
            f"feeds.yaml: summarizer.backend {backend!r} is not available in this version — "
            f"use one of: {', '.join(sorted(BACKENDS))}"
        )
    return BACKENDS[backend](config)


def summarize_cached(
    summarizer: Summarizer, items: list[Item], store: Store, prompt_version: str, at: datetime
) -> tuple[list[Brief], int]:
    """Briefs for `items` in order, from the cache where possible; returns (briefs, cache hits)."""
    cached = {
        item.id: store.cached_brief(item.content_hash, summarizer.model_id, prompt_version)
        for item in items
    }
    missing = [item for item in items if cached[item.id] is None]
    for item, brief in zip(missing, summarizer.summarize(missing), strict=True):
        store.cache_brief(item.content_hash, summarizer.model_id, prompt_version, brief, at)
        cached[item.id] = brief
    briefs = [cached[item.id] for item in items]
    return [b for b in briefs if b is not None], len(items) - len(missing)
