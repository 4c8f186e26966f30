"""The brief corpus: hand-written briefs of real entries, the adapter's training data.

A corpus file is JSON Lines, one brief a line (fields in `CorpusLine`). The bundled corpus lives
in `digest/data/corpus/` (its README states the rules and where each line came from): the
code-mixed training lines, the Korean-style lines, and an evaluation split that no training run
reads. `check` holds every line to the corpus rules with the same primitives that validate a
model's brief, so "grounded" means one thing for the data and for the model.

    python -m digest.summarize.corpus check FILE…   # exit 1 and file:line: problem when broken
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.errors import DigestError
from digest.summarize import validate

if TYPE_CHECKING:
    from digest.config import Config

STYLES = ("mixed", "korean")
KINDS = ("arxiv", "blog", "reddit", "issue")
# Characters, from the corpus rules (digest/data/corpus/README.md).
SUMMARY_CHARS = (60, 220)
SIGNIFICANCE_CHARS = (30, 140)
NOTE_CHARS = (40, 150)
SOURCE_CHARS = 700  # the same cut as prompt.source_text: a brief draws on what the model reads
# Hangul share of letters: the mixed rules ask 30–80 %; the Korean style ≥ 50 %.
HANGUL_SHARE = {"mixed": (0.30, 0.80), "korean": (0.50, 1.0)}
HYPE_WORDS = ("혁신적", "획기적", "놀라운", "놀랍", "엄청난", "압도적")
POLITE_ENDINGS = re.compile(r"(?:합니다|습니다|해요|세요|어요|아요)[.!?]?$")
_LATEX = re.compile(r"\$|\\[a-zA-Z]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")

BUNDLED = "data/corpus"
TRAIN_FILES = {"mixed": ("briefs-mixed.jsonl",), "korean": ("briefs-ko.jsonl",)}
EVAL_FILES = {"mixed": ("briefs-mixed-eval.jsonl",), "korean": ()}


class CorpusError(DigestError):
    """A corpus file cannot be read: names the file, the line and the fix."""


@dataclass(frozen=True)
class CorpusLine:
    """One hand-written brief: the entry as the model reads it, and what an editor wrote."""

    id: str  # arXiv id, or a canonical URL for posts
    title: str
    source: str  # exactly the text the model reads (prompt.source_text of the entry)
    summary: str  # 요약
    significance: str  # 의의
    glossary_note: str = ""  # 토막상식 (Korean style only)
    kind: str = "arxiv"
    categories: tuple[str, ...] = ()
    url: str = ""
    origin: str = ""  # where the entry's text came from (a pool file, a capture, an issue)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CorpusLine:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "extra"}
        known["categories"] = tuple(data.get("categories") or ())
        extra = {k: v for k, v in data.items() if k not in cls.__dataclass_fields__}
        return cls(**known, extra=extra)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"] = list(self.categories)
        data.pop("extra")
        return {k: v for k, v in data.items() if v not in ("", [])}


def source_text(text: str) -> str:
    """What a model reads of an entry's text: whitespace collapsed, cut near `SOURCE_CHARS` at a
    sentence end (the same rule as `prompt.source_text`)."""
    from digest.summarize.prompt import cut_source

    return cut_source(text)


def read(path: Path) -> list[CorpusLine]:
    """Every line of one corpus file, in order.

    Raises CorpusError naming `path:line` for a line that is not a JSON object with the
    required fields (id, title, source, summary, significance)."""
    lines: list[CorpusLine] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read the corpus file ({exc}) — check the path") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not JSON ({exc.msg}) — one object a line") from exc
        missing = [
            k for k in ("id", "title", "source", "summary", "significance") if not data.get(k)
        ]
        if not isinstance(data, dict) or missing:
            raise CorpusError(f"{path}:{number}: missing {', '.join(missing)} — see the README")
        lines.append(CorpusLine.from_json(data))
    return lines


def bundled_path(name: str) -> Path:
    """A file of the bundled corpus (`digest/data/corpus/NAME`)."""
    return Path(str(resources.files("digest").joinpath(f"{BUNDLED}/{name}")))


def bundled(style: str, split: str = "train") -> list[CorpusLine]:
    """The bundled corpus of `style` ("mixed" or "korean"): its training lines (`split="train"`)
    or its evaluation split (`split="eval"`), which no training run reads."""
    names = (TRAIN_FILES if split == "train" else EVAL_FILES)[style]
    return [line for name in names for line in read(bundled_path(name))]


def describe(name: str, lines: list[CorpusLine], data: bytes) -> dict[str, Any]:
    """What a training record says of one corpus: name, line count, sha256 of its bytes."""
    return {"name": name, "lines": len(lines), "sha256": hashlib.sha256(data).hexdigest()}


def training_set(
    paths: list[Path], style: str, config: Config | None = None
) -> tuple[list[CorpusLine], list[dict[str, Any]]]:
    """The lines `digest train` learns from, and a description of each corpus (for the model
    card): the files in `paths`, or the bundled training split of `style` when none are given;
    with `config`, also the editor's published briefs (`from_issues`), minus any entry the
    corpus already has (same id or same title).

    Raises CorpusError for an unreadable file or one with a broken line."""
    described: list[dict[str, Any]] = []
    lines: list[CorpusLine] = []
    files = paths or [bundled_path(name) for name in TRAIN_FILES[style]]
    for path in files:
        found = read(path)
        name = f"digest/{BUNDLED}/{path.name}" if not paths else str(path)
        described.append(describe(name, found, path.read_bytes()))
        lines.extend(found)
    if config is not None:
        seen = {line.id for line in lines} | {_title_key(line.title) for line in lines}
        mine = [
            line
            for line in from_issues(config, style)
            if line.id not in seen and _title_key(line.title) not in seen
        ]
        payload = "".join(json.dumps(m.to_json(), ensure_ascii=False) + "\n" for m in mine)
        described.append(describe("published issues (reviewed briefs)", mine, payload.encode()))
        lines.extend(mine)
    return lines, described


def from_issues(config: Config, style: str = "mixed") -> list[CorpusLine]:
    """The editor's own briefs as training lines: every item of a published issue that a person
    reviewed (no 미검토 flag) and that is not 검토 필요, with the source text the store kept for
    it, whose 요약 and 의의 pass the corpus rules of `style`. Items the store no longer knows
    are skipped: their source text is gone, and a brief without its source teaches invention."""
    from digest.issue import load_all, published
    from digest.store import Store
    from digest.summarize.prompt import source_text as item_source

    found: list[CorpusLine] = []
    with Store(config.state_path) as store:
        for issue in published(load_all(config.issues_path)):
            for entry in issue.items:
                if entry.unreviewed or entry.needs_review:
                    continue
                if not (entry.summary and entry.significance):
                    continue
                item = store.item(entry.id)
                if item is None or not item.summary:
                    continue
                line = CorpusLine(
                    id=entry.id,
                    title=" ".join(entry.title.split()),
                    source=item_source(item),
                    summary=entry.summary,
                    significance=entry.significance,
                    kind="issue",
                    url=entry.url,
                    origin=f"issue {issue.number:04d} ({issue.date.isoformat()})",
                )
                if not check(line, style):
                    found.append(line)
    return found


def _title_key(title: str) -> str:
    return "title:" + " ".join(title.casefold().split())


def check(line: CorpusLine, style: str = "mixed") -> list[str]:
    """Every way `line` breaks the corpus rules; empty when it may be trained on."""
    found: list[str] = []
    if style not in STYLES:
        return [f"style {style!r} is not one of {', '.join(STYLES)}"]
    if line.kind not in KINDS:
        found.append(f"kind {line.kind!r} is not one of {', '.join(KINDS)}")
    if line.source != source_text(line.source):
        found.append("source is not normalized or is over the cut (use corpus.source_text)")
    grounding = f"{line.title} {line.source}"
    fields = [("summary", "요약", SUMMARY_CHARS), ("significance", "의의", SIGNIFICANCE_CHARS)]
    if style == "korean" and line.glossary_note:
        fields.append(("glossary_note", "토막상식", NOTE_CHARS))
    for name, label, (low, high) in fields:
        text: str = getattr(line, name)
        found.extend(_field(text, label, low, high, grounding, style))
    if line.summary == line.significance:
        found.append("요약 and 의의 are the same")
    return found


def _field(text: str, label: str, low: int, high: int, grounding: str, style: str) -> list[str]:
    found: list[str] = []
    if not low <= len(text) <= high:
        found.append(f"{label} is {len(text)} characters (want {low}–{high})")
    share = validate.hangul_share(text)
    lo, hi = HANGUL_SHARE[style]
    if not lo <= share <= hi:
        found.append(f"{label} is {share:.0%} Hangul (want {lo:.0%}–{hi:.0%})")
    for sentence in validate.sentences(text):
        if not validate.eumseumche(sentence) or POLITE_ENDINGS.search(sentence):
            found.append(f"{label}: sentence does not end in 음슴체: …{sentence[-12:]!r}")
    found.extend(f"{label}: hype word {w!r}" for w in HYPE_WORDS if w in text)
    if _LATEX.search(text):
        found.append(f"{label}: LaTeX — describe the math in words")
    known = {n.replace(",", "") for n in _DIGITS.findall(grounding)}
    for number in _DIGITS.findall(text):
        if number.replace(",", "") not in known:
            found.append(f"{label}: number {number!r} is not in the title or source")
    found.extend(f"{label}: converted scale {n!r}" for n in validate.scaled_numbers(text))
    # Korean-style lines gloss terms as 한국어(English) and explain concepts the source does
    # not name; only the mixed style promises that every English run is copied.
    for run in validate.english_runs(text) if style == "mixed" else ():
        if not validate.grounded_run(run, grounding):
            found.append(f"{label}: English {run!r} is not in the title or source")
    return found


def check_files(paths: Iterable[Path], style: str = "mixed") -> Iterator[str]:
    """`file:line: problem` for every broken line of `paths`, and ids that appear twice."""
    seen: dict[str, str] = {}
    for path in paths:
        for number, line in enumerate(read(path), start=1):
            where = f"{path}:{number}"
            if line.id in seen:
                yield f"{where}: id {line.id} already at {seen[line.id]}"
            seen.setdefault(line.id, where)
            for problem in check(line, style):
                yield f"{where}: {line.id}: {problem}"


def main(argv: list[str] | None = None) -> int:
    """`check [--style mixed|korean] FILE…`: print every problem; exit 1 when there is one."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "check":
        print("usage: python -m digest.summarize.corpus check [--style S] FILE…", file=sys.stderr)
        return 2
    args.pop(0)
    style = "mixed"
    if args[:1] == ["--style"]:
        style = args[1]
        args = args[2:]
    try:
        found = list(check_files([Path(a) for a in args], style))
    except CorpusError as exc:
        print(exc, file=sys.stderr)
        return 1
    for problem in found:
        print(problem)
    total = sum(len(read(Path(a))) for a in args)
    print(f"{total} lines, {len(found)} problems", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
