"""The 토막상식 term base: which concept in an item deserves a one-line explanation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    ko: str
    note: str
    aliases: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        names = sorted({self.term, *self.aliases}, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@cache
def load_glossary() -> tuple[GlossaryTerm, ...]:
    text = resources.files("digest").joinpath("data/glossary.yaml").read_text(encoding="utf-8")
    return tuple(
        GlossaryTerm(
            term=entry["term"],
            ko=entry["ko"],
            note=entry["note"],
            aliases=tuple(entry.get("aliases") or ()),
        )
        for entry in yaml.safe_load(text)
    )


def find_term(text: str, exclude: set[str] | frozenset[str] = frozenset()) -> GlossaryTerm | None:
    """The term mentioned earliest in `text`, skipping those already explained (`exclude`)."""
    best: tuple[int, GlossaryTerm] | None = None
    for term in load_glossary():
        if term.term in exclude:
            continue
        match = term.pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), term)
    return best[1] if best else None
