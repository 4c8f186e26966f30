"""What every model backend shares: prompt, parse, validate, retry, fall back, glossary.

A backend supplies only a `Generator` (text in, text out, batched). This module turns its
answers into `Brief`s: the 토막상식 comes from the curated glossary when a term fits (not shown
in the last 30 issues, nor twice in one run); a generator that `writes_notes` (a capable model,
never the embedded one) may propose one otherwise, kept and marked as generated. A brief that
fails validation is asked for again with sampling, up to `RETRIES` times (each try a different
sample), until one passes; the best try is kept. If none passes, what the editor gets
depends on the fault: a brief with only soft faults (a term or number not in the source, an
ending off) stays, marked 검토 필요 with each fault named; one that is not a brief at all
(empty, English, a loop, the prompt echoed) is replaced by the extractive brief, marked the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from digest.glossary import GlossaryTerm, pick_term
from digest.models import Brief, Item
from digest.summarize import Progress
from digest.summarize.extractive import ExtractiveSummarizer
from digest.summarize.prompt import Draft, Prompt, build, parse
from digest.summarize.usage import Meter, Usage, current
from digest.summarize.validate import Fault, note_problems, problems

log = logging.getLogger(__name__)

# Sampled tries after a brief fails validation. Measured on the evaluation split's first 40
# entries with the shipped adapter (docs/benchmarks.md): one retry left 6 of 40 briefs failing,
# three left 3, for 32 s more in all, and chrF did not fall (33.2 → 33.4).
RETRIES = 3

# Told how many prompts of one generate() call are answered so far.
Answered = Callable[[int], None]
# Told the tokens and time of prompt i of one generate() call, once it is answered.
Metered = Callable[[int, Usage], None]


class Generator(Protocol):
    """What a model backend supplies: text in, text out, `batch_size` prompts at a time.
    `model_id` names the model (and adapter) in the brief cache key."""

    model_id: str
    batch_size: int  # prompts per generate() call

    @property
    def completion(self) -> bool:
        """True: a completion prompt (tuned or few-shot); False: chat messages → JSON."""
        ...

    @property
    def tuned(self) -> bool:
        """True when a fine-tuned adapter is loaded: the short tuned prompt, no 토막상식."""
        ...

    @property
    def writes_notes(self) -> bool:
        """Whether the model may propose a 토막상식 when no curated term fits."""
        ...

    def generate(
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,
    ) -> list[str]:
        """One answer per prompt, in order. `attempt` 0 asks for the backend's best answer
        (greedy where it can); `attempt` n ≥ 1 is the nth retry of briefs that failed
        validation and asks for a different, sampled answer (seeded by n where the backend can
        seed, so a re-run writes the same).
        `on_answer(n)`, when given, is told how many of `prompts` are answered so far as rows
        finish, so a progress bar moves per item within a batch (optional for a backend:
        the summarizer reports each batch's end anyway). `on_usage(i, usage)`, when given, is
        told what answering prompt i cost (tokens, seconds), where the backend knows it."""
        ...


class ModelSummarizer:
    """A `Summarizer` around any `Generator`."""

    def __init__(
        self,
        generator: Generator,
        recent_terms: frozenset[str] = frozenset(),
        progress: Progress | None = None,
        style: str = "korean",
    ) -> None:
        self.generator = generator
        self.style = style
        self.model_id = generator.model_id
        self.recent_terms = recent_terms  # explained in the last 30 published issues
        self.progress = progress
        self.fallback = ExtractiveSummarizer()
        self.model_calls = 0  # prompts sent, retries included (tests and the bench read it)
        self.retried = 0  # retries asked for (a brief retried twice counts twice)
        self.rescued = 0  # briefs that failed validation and passed on a retry
        self.usage = Usage()  # what every call so far cost (the bench reads it)

    def summarize(self, items: list[Item]) -> list[Brief]:
        """One `Brief` per item, in order (see the module docstring). Each call's tokens and
        time go to `self.usage` and, inside a `usage.metered()` block, to its meter."""
        meter = current()
        started = time.monotonic()
        briefs = self._summarize(items, meter)
        if meter is not None and items:
            meter.briefs += len(items)
            meter.seconds += time.monotonic() - started
        return briefs

    def _summarize(self, items: list[Item], meter: Meter | None) -> list[Brief]:
        explained: set[str] = set(self.recent_terms)
        terms: list[GlossaryTerm | None] = []
        for item in items:
            term = pick_term(item.title, item.summary, exclude=explained)
            if term is not None:
                explained.add(term.term)
            terms.append(term)
        notes = self.generator.writes_notes
        tuned = self.generator.tuned
        prompts = [
            build(item, term, tuned=tuned, style=self.style, notes=notes)
            for item, term in zip(items, terms, strict=True)
        ]
        ids = [item.id for item in items]
        drafts = self._ask(prompts, list(range(len(items))), 0, done=0, ids=ids, meter=meter)
        faults = {i: problems(drafts[i], items[i], self.style) for i in drafts}
        asked = len(items)
        for attempt in range(1, RETRIES + 1):
            again = [i for i, found in faults.items() if found]
            if not again:
                break
            log.info("retry %d: %d of %d briefs failed validation", attempt, len(again), len(items))
            # Progress counts the retries on top of what was asked before: (asked + k, asked + n).
            retried = self._ask(prompts, again, attempt, done=asked, ids=ids, meter=meter)
            asked += len(again)
            for i in again:
                found = problems(retried[i], items[i], self.style)
                if _better(found, faults[i]):
                    drafts[i], faults[i] = retried[i], found
            self.retried += len(again)
            self.rescued += sum(not faults[i] for i in again)
        return [
            self._brief(items[i], drafts[i], terms[i], faults[i], explained)
            for i in range(len(items))
        ]

    def _ask(
        self,
        prompts: list[Prompt],
        which: list[int],
        attempt: int,
        done: int,
        ids: list[str],
        meter: Meter | None,
    ) -> dict[int, Draft]:
        """Ask for `which` prompts, `batch_size` at a time; progress is reported as
        (`done` + answered so far, `done` + len(which)), row by row when the backend says.
        What each answer cost is added to `self.usage` and to `meter` under its item's id
        (`ids`, by prompt index)."""
        drafts: dict[int, Draft] = {}
        size = max(1, self.generator.batch_size)
        total = done + len(which)
        for start in range(0, len(which), size):
            chunk = which[start : start + size]
            self.model_calls += len(chunk)
            answered = self._answered(done + start, total)

            def used(row: int, usage: Usage, chunk: list[int] = chunk) -> None:
                self.usage.add(usage)
                if meter is not None:
                    meter.record(ids[chunk[row]], self.model_id, usage)

            answers = self.generator.generate(
                [prompts[i] for i in chunk], attempt=attempt, on_answer=answered, on_usage=used
            )
            if len(answers) != len(chunk):  # a backend bug, not bad model output
                raise RuntimeError(f"{self.model_id}: {len(answers)} answers for {len(chunk)}")
            for i, text in zip(chunk, answers, strict=True):
                drafts[i] = parse(text, self.generator.completion)
            if self.progress:
                self.progress(done + start + len(chunk), total)
        return drafts

    def _answered(self, before: int, total: int) -> Answered | None:
        progress = self.progress
        if progress is None:
            return None
        return lambda n: progress(before + n, total)

    def _brief(
        self,
        item: Item,
        draft: Draft,
        term: GlossaryTerm | None,
        faults: list[Fault],
        explained: set[str],
    ) -> Brief:
        extractive = self.fallback.brief(item, set(explained))
        reasons = tuple(str(f) for f in faults)
        curated = term.display_note if term else ""
        if any(f.hard for f in faults):
            log.warning(
                "%s: model brief rejected (%s); using the extractive brief, marked 검토 필요",
                item.id,
                "; ".join(reasons),
            )
            return replace(
                extractive,
                glossary_note=curated,
                model=self.model_id,
                needs_review=True,
                review_reasons=("model brief rejected: " + "; ".join(reasons),),
            )
        if reasons:
            log.warning(
                "%s: model brief kept for the editor, marked 검토 필요: %s", item.id, reasons
            )
        generated = term is None and self.generator.writes_notes and bool(draft.glossary_note)
        if generated and note_problems(draft, item, self.style):
            log.info(
                "%s: dropped the model's 토막상식: %s",
                item.id,
                "; ".join(map(str, note_problems(draft, item, self.style))),
            )
            generated = False
        return Brief(
            key_sentence=extractive.key_sentence,
            summary=draft.summary,
            significance=draft.significance,
            glossary_note=curated or (draft.glossary_note if generated else ""),
            model=self.model_id,
            # A note no one curated is checked by the editor before it goes out.
            needs_review=generated or bool(reasons),
            glossary_generated=generated,
            review_reasons=reasons,
        )


def _better(new: list[Fault], old: list[Fault]) -> bool:
    """Whether a retry's faults beat the best try's so far: fewer hard faults, then fewer."""
    return (sum(f.hard for f in new), len(new)) < (sum(f.hard for f in old), len(old))
