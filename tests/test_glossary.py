"""The 토막상식 term base as shipped: big, consistent, in the newsletter's voice, and it finds the
concept a news item is about without firing on ordinary English."""

from __future__ import annotations

from collections import defaultdict

import pytest

from digest.glossary import GlossaryTerm, find_term, load_glossary, term_of_note

TERMS = load_glossary()

# Words that read as plain English in a headline; an alias like these would put a 토막상식 on
# items that never mention the concept ("transfer the funds", "the map", "a video clip").
ORDINARY_WORDS = {
    "model", "models", "learning", "data", "agent", "transfer", "scale", "search", "loss",
    "policy", "prompt", "prompts", "training", "network", "networks", "serving", "map", "clip",
    "sam", "zero", "recall", "precision", "alignment", "temperature", "reinforce", "token",
    "tokens", "grounding", "kg", "glove", "nas", "optimizer", "parameters",
}  # fmt: skip


def names(term: GlossaryTerm) -> tuple[str, ...]:
    return (term.term, *term.aliases)


def hangul_share(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    return sum("가" <= c <= "힣" for c in chars) / len(chars)


def ends_in_eum_style(text: str) -> bool:
    """~임. / ~함. / ~씀. / ~줄어듦.: the last syllable has the final consonant ㅁ (or ㄻ)."""
    last = text.rstrip(".")[-1:]
    return bool(last) and "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 in (16, 10)


# the file as a whole ---------------------------------------------------------------------------
def test_the_glossary_covers_the_field() -> None:
    assert len(TERMS) >= 150


def test_terms_are_unique() -> None:
    folded = [t.term.casefold() for t in TERMS]
    assert sorted(n for n in folded if folded.count(n) > 1) == []


def test_no_name_belongs_to_two_entries() -> None:
    owners: defaultdict[str, set[str]] = defaultdict(set)
    for term in TERMS:
        for name in {*names(term), term.ko}:
            owners[name.casefold()].add(term.term)
    assert {name: sorted(o) for name, o in owners.items() if len(o) > 1} == {}


def test_every_entry_is_complete_and_tidy() -> None:
    for term in TERMS:
        assert term.term and term.ko and term.note, term
        folded = [a.casefold() for a in term.aliases]
        assert len(set(folded)) == len(folded), f"{term.term}: repeated alias"
        assert term.term.casefold() not in folded, f"{term.term}: alias repeats the term"
        for name in (*names(term), term.ko):
            assert name == name.strip() and name, f"{term.term}: {name!r}"


def test_aliases_are_never_ordinary_english_words() -> None:
    plain = [(t.term, a) for t in TERMS for a in t.aliases if a.casefold() in ORDINARY_WORDS]
    assert plain == []


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.term)
def test_note_is_a_short_korean_line_in_the_newsletter_voice(term: GlossaryTerm) -> None:
    assert 20 <= len(term.note) <= 220
    assert hangul_share(term.note) >= 0.4
    assert term.note.startswith(term.ko)  # the first mention is the Korean name
    assert ends_in_eum_style(term.note), term.note[-15:]


def test_the_voice_check_tells_styles_apart() -> None:
    assert ends_in_eum_style("대표적임.") and ends_in_eum_style("다양성은 조금 줄어듦.")
    assert not ends_in_eum_style("대표적입니다.") and not ends_in_eum_style("It is typical.")
    assert hangul_share("LoRA is low-rank") == 0.0 and hangul_share("양자화 int") == 0.5


# detection --------------------------------------------------------------------------------------
def test_every_name_finds_its_own_entry() -> None:
    """A name that sits inside another entry's name ("reinforcement learning" in "reinforcement
    learning from human feedback") must not steal the longer one's mentions."""
    wrong = []
    for term in TERMS:
        for name in (*names(term), term.ko):
            found = find_term(f"This week: {name} in practice.")
            if found is None or found.term != term.term:
                wrong.append((name, term.term, found.term if found else None))
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LoRA freezes the pretrained weights and trains two small matrices.",
            "Low-rank adaptation",
        ),
        ("We fine-tune with RLHF", "Fine-tuning"),
        (
            "Reinforcement learning from human feedback (RLHF) aligns chat models with people.",
            "Reinforcement learning from human feedback",
        ),
        (
            "Stochastic gradient descent with momentum stays a strong baseline.",
            "Stochastic gradient descent",
        ),
        ("Our Vision Transformer beats a ResNet-50 baseline on ImageNet.", "Vision Transformer"),
        (
            "Speculative decoding with a small draft model makes generation 3x faster.",
            "Speculative decoding",
        ),
        ("The KV cache grows linearly with the context length.", "KV cache"),
        ("Mamba, a selective state space model, reads million-token inputs.", "Mamba"),
        (
            "Benchmark contamination inflates the scores of open-weight models.",
            "Data contamination",
        ),
        ("3D Gaussian splatting renders the scene in real time.", "Gaussian splatting"),
        ("Post-training quantization to INT8 keeps accuracy on edge hardware.", "Quantization"),
        (
            "This paper presents a knowledge distillation (KD) framework for YOLOv8.",
            "Knowledge distillation",
        ),
        ("A new jailbreak bypasses the safety filters of GPT-4.", "Jailbreak"),
        ("We scale a diffusion transformer to 8B parameters for video.", "Diffusion Transformer"),
        (
            "Direct preference optimization needs no separate reward model.",
            "Direct preference optimization",
        ),
        ("역전파는 오차를 거꾸로 흘려보냄.", "Backpropagation"),
    ],
)
def test_find_term_in_news_sentences(text: str, expected: str) -> None:
    found = find_term(text)
    assert found is not None and found.term == expected


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Seoul was pleasant and the market was busy.",
        "Sam will clip the coupon, check the map, and recall where he parked.",
        "The committee agreed to transfer the funds and scale back the search for a venue.",
        "Ticket prices rose by zero percent, and the team serving lunch wore red.",
        "He will reinforce the policy and report the loss to the agency's data office.",
        "서울의 날씨는 맑았고 시장은 붐볐음.",
    ],
)
def test_ordinary_prose_gets_no_note(text: str) -> None:
    assert find_term(text) is None


def test_exclude_skips_a_term_already_explained() -> None:
    text = "We fine-tune with RLHF"
    rlhf = "Reinforcement learning from human feedback"
    first = find_term(text)
    assert first is not None and first.term == "Fine-tuning"
    second = find_term(text, exclude={"Fine-tuning"})
    assert second is not None and second.term == rlhf
    assert find_term(text, exclude={"Fine-tuning", rlhf}) is None


def test_an_edited_note_still_belongs_to_its_term() -> None:
    """An editor rewording the end of a note keeps its opening Korean name; the longest such name
    must win (신경망 구조 탐색 is not 신경망)."""
    wrong = []
    for term in TERMS:
        found = term_of_note(term.note[:-3] + " 편집함.")
        if found is None or found.term != term.term:
            wrong.append((term.term, found.term if found else None))
    assert wrong == []
