"""Grounded decoding: English words and numbers only as the source writes them, checked while
the model writes (the rule), and inside generation on a tiny random model (the processor)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest.summarize.grounding import GroundedText

SOURCE = (
    "Emergent misalignment in open-weights LLM agents: 1.6 million runs on GPT-4o "
    "across three benchmarks and a single policy."
)


@pytest.mark.parametrize(
    ("tail", "piece", "allowed"),
    [
        ("", "emer", True),  # the start of a source word
        ("emer", "gent", True),
        ("emergent", "를", True),  # a particle ends a whole source word
        ("emer", "를", False),  # … but not half of one
        ("", "wave", False),  # not a source word at all ("오픈 웨이브")
        ("open-", "weights", True),
        ("", "LLMs", True),  # a plural ending may differ
        ("", "policies", True),
        ("misalign", "ed", False),  # a form the source never uses
        ("", "1.", True),
        ("1.", "6", True),
        ("", "17", False),  # a number the source never states
        ("", "3가지", True),  # "three" grounds 3
        ("1.", "6억", False),  # a converted scale: 1.6 million is not 1.6억
        ("", " 오픈", True),  # Korean is never constrained
        ("GPT-4", "o", True),
        ("bench", "press", False),
        ("", "", True),
    ],
)
def test_the_rule(tail: str, piece: str, allowed: bool) -> None:
    assert GroundedText(SOURCE).allows(tail, piece) is allowed


def test_case_does_not_matter_but_words_do() -> None:
    ground = GroundedText("We propose LoRA-based tuning.")
    assert ground.allows("", "lora") and ground.allows("", "LORA")
    assert not ground.allows("lor", "e")


# inside generation -------------------------------------------------------------------------------
torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")
pytest.importorskip("transformers", reason="transformers is not installed")

from tiny_model import tiny_model  # noqa: E402

from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.summarize.prompt import build  # noqa: E402
from digest.summarize.transformers import TransformersGenerator  # noqa: E402
from digest.summarize.validate import ungrounded_words  # noqa: E402

ITEM = Item(
    id="x",
    title="Sparse experts scale",
    url="https://example.org/x",
    source_id="s",
    section_id="a",
    summary="We study how sparse experts scale with compute and data.",
)


def _generator(folder: Path, grounded: bool) -> TransformersGenerator:
    config = Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {
                "backend": "transformers",
                "model": str(folder),
                "device": "cpu",
                "grounded": grounded,
                "max_new_tokens": 120,
            },
            "state_dir": str(folder / "state"),
        }
    )
    return TransformersGenerator(config)


def _letters(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", text)


def test_a_random_model_writes_only_source_words_when_grounded(tmp_path: Path) -> None:
    folder = tiny_model(tmp_path / "tiny")
    prompt = build(ITEM, None, tuned=True, style="mixed", notes=False)
    source = f"{ITEM.title} {ITEM.summary}"
    torch.manual_seed(0)
    free = _generator(folder, grounded=False).generate([prompt])[0]
    # Without grounding a random model spells words no source has: the test can fail.
    assert ungrounded_words(free, source)
    grounded = _generator(folder, grounded=True).generate([prompt])[0]
    assert _letters(grounded), "the grounded model wrote no Latin word at all"
    assert ungrounded_words(grounded, source) == []
