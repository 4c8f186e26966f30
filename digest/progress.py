"""The progress protocol the stages report to, and the summarizer adapter that reports to it.

The pipeline (`daily`), `digest draft` and the model backends say what they are doing through
`Progress`; the CLI draws rich bars from it on a terminal and nothing elsewhere (cron, CI, pipes).
Commands share this module without importing the cron job.
"""

from __future__ import annotations

from typing import Protocol

from digest.config import Config
from digest.models import Brief, Item
from digest.summarize import Summarizer, make_summarizer


class Progress(Protocol):
    """What the pipeline tells a progress display; the CLI draws bars only on a terminal."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class NoProgress:
    """Progress that goes nowhere: for callers with no display."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


class ProgressSummarizer:
    """The configured summarizer, made only when there is something to summarize (a model
    backend is slow to load), and telling the progress display how far it got."""

    def __init__(self, config: Config, progress: Progress) -> None:
        self._config = config
        self._progress = progress
        self._inner: Summarizer | None = None
        self._done = 0
        self._total = 0

    def _summarizer(self) -> Summarizer:
        if self._inner is None:
            self._inner = make_summarizer(self._config, progress=self._on_batch)
        return self._inner

    def _on_batch(self, done: int, total: int) -> None:
        """Model backends report items as they are answered (`done` of `total`). A total that
        grows is the backend asking again for briefs that failed validation: a "retry" bar of
        its own, so the display neither sits at 100% nor stops its clock meanwhile."""
        if total > self._total:
            self._progress.stage("retry", total - self._total)
            self._done, self._total = self._total, total
        if done > self._done:
            self._progress.advance(done - self._done)
            self._done = done

    @property
    def model_id(self) -> str:
        return self._summarizer().model_id

    @model_id.setter
    def model_id(self, value: str) -> None:
        self._summarizer().model_id = value

    def summarize(self, items: list[Item]) -> list[Brief]:
        if not items:
            return []
        self._progress.stage("summarize", len(items))
        self._done, self._total = 0, len(items)
        briefs = self._summarizer().summarize(items)
        self._on_batch(len(items), len(items))  # backends without batches report nothing
        return briefs
