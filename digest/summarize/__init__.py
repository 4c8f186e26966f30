"""Summarizers: a `Summarizer` protocol and backends in a registry keyed by `summarizer.backend`.

Heavy backends are imported only when chosen, so `digest build` never loads torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from digest.config import Config
from digest.errors import ConfigError
from digest.models import Brief, Item
from digest.registry import BACKENDS
from digest.store import Store

# Reports progress of model backends: (items done, items asked for).
Progress = Callable[[int, int], None]


class Summarizer(Protocol):
    """What every backend is: `summarize(items)` returns one `Brief` per item, in order.
    `model_id` is part of the brief cache key."""

    model_id: str  # part of the cache key: a different model writes a different brief

    def summarize(self, items: list[Item]) -> list[Brief]: ...


def style(config: Config) -> str:
    """The brief style in force: `summarizer.style`, or for "auto" "mixed" with the embedded
    model and with a served model that has one of our adapters merged in (`openai` with
    `summarizer.adapter` set: the adapters write code-mixed Korean), "korean" otherwise."""
    chosen = config.summarizer.style
    if chosen != "auto":
        return chosen
    settings = config.summarizer
    embedded = settings.backend == "transformers" and is_embedded(config)
    served = settings.backend == "openai" and settings.adapter.strip() not in ("auto", "none")
    return "mixed" if embedded or served else "korean"


def is_embedded(config: Config) -> bool:
    """Whether `summarizer.model` names the embedded Gemma 3 270M (the default)."""
    from digest.summarize.adapters import EMBEDDED

    return config.summarizer.model.strip() in ("", EMBEDDED)


def cache_version(config: Config) -> str:
    """The prompt part of the brief cache key: `summarizer.prompt_version` and the style, so a
    change of either writes new briefs (the model and adapter are in the model id)."""
    return f"{config.summarizer.prompt_version}/{style(config)}"


def recent_terms(config: Config) -> frozenset[str]:
    """Glossary terms explained in the last 30 published issues: not explained again."""
    from digest.glossary import recently_explained
    from digest.issue import load_all

    return recently_explained(load_all(config.issues_path))


def make_summarizer(config: Config, progress: Progress | None = None) -> Summarizer:
    """The configured backend, its module imported only now (torch only for a model backend);
    `progress(done, total)` is called as items finish. Raises ConfigError for a backend this
    version does not have, and whatever the backend raises for its settings."""
    backend = config.summarizer.backend
    if backend not in BACKENDS:
        raise ConfigError(
            f"feeds.yaml: summarizer.backend {backend!r} is not available in this version — "
            f"use one of: {', '.join(sorted(BACKENDS))}"
        )
    made: Summarizer = importlib.import_module(BACKENDS[backend]).make(config, progress)
    return made


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
