"""What a model is asked and how its answer is read back.

Two styles of the same request: a few-shot completion in the newsletter's own format for base
models (the embedded Gemma 3 270M continues the pattern), and chat messages asking for JSON for
instruction models and OpenAI-compatible servers. Bump `PROMPT_VERSION` in feeds.yaml
(`summarizer.prompt_version`) when these change: the brief cache is keyed by it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from digest.glossary import GlossaryTerm
from digest.models import Item

# The source text a model reads: the lead of the abstract or post carries the claim, and a
# longer prompt costs prefill time on a CPU for little gain.
MAX_SOURCE_CHARS = 700
LABELS = {"summary": "요약", "significance": "의의", "glossary_note": "토막상식"}
_LABEL_FIELDS = {label: name for name, label in LABELS.items()}


@dataclass(frozen=True)
class Example:
    """A few-shot example for the prompt: an item's title and source text, and the 요약, 의의
    and 토막상식 a brief of it should have."""

    title: str
    source: str
    summary: str
    significance: str
    glossary_note: str


# Written for this project in the voice of issue 0001 (plain 음슴체, English terms kept where
# Korean ML writers keep them, first mention 한국어(English)).
EXAMPLES = (
    Example(
        title="EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
        source=(
            "Convolutional networks are commonly scaled up by arbitrarily increasing depth, width "
            "or input resolution, which needs tedious manual tuning. We propose a compound "
            "scaling method that uniformly scales all three dimensions with a fixed ratio, and "
            "use it to build a family of models called EfficientNets."
        ),
        summary=(
            "CNN을 키울 때 깊이, 너비, 해상도 중 하나만 손으로 늘리던 관행 대신, 셋을 정해진 "
            "비율로 한꺼번에 키우는 방법을 제안함. 이렇게 만든 모델 묶음이 EfficientNet임."
        ),
        significance=(
            "사람이 매번 찾던 모델 크기를 식 하나로 정하게 되어, "
            "같은 계산으로 더 높은 정확도를 얻음."
        ),
        glossary_note=(
            "스케일링(scaling)이란 신경망의 너비나 깊이, 입력 해상도를 키워 성능을 올리는 것임. "
            "셋을 같이 키우면 복합(compound) 스케일링이라 함."
        ),
    ),
    Example(
        title="Where is the Information in a Deep Neural Network?",
        source=(
            "Whatever information a network has about its training data is stored in its "
            "weights, yet there is no agreed way to define or measure it. We define the "
            "information in the weights as the optimal trade-off between accuracy and the "
            "complexity of the weights, and show it explains why simpler models generalize."
        ),
        summary=(
            "뉴럴넷이 학습한 정보는 가중치(weight)에 저장되는데, 그 양을 어떻게 재는지는 합의가 "
            "없었음. 정확도와 가중치 복잡도 사이의 최적 트레이드오프를 정보량으로 정의해 봄."
        ),
        significance="단순한 모델일수록 일반화가 잘 되는 이유를 정보량이라는 하나의 잣대로 설명함.",
        glossary_note=(
            "일반화(generalization)란 학습 때 보지 못한 새 데이터에서도 잘 맞히는 능력임. "
            "기출문제만 외운 학생은 일반화가 안 된 것임."
        ),
    ),
)

_HEADER = "뉴랄브리핑: 머신러닝 연구 소식을 한국어로 짧게 풀어 주는 뉴스레터.\n\n"
_SYSTEM_HEAD = (
    "너는 한국어 머신러닝 뉴스레터 '뉴랄브리핑'의 편집자임. 영어 원문을 읽고 한국어 음슴체"
    "(…함, …임)로 쓴다. 원문에 없는 이름, 숫자, 링크, 주장은 쓰지 않는다. "
)
# What each style asks of the words: `korean` glosses terms, `mixed` copies them.
_STYLE_RULE = {
    "korean": "비전공자도 알아듣게 쓰고, 용어를 처음 쓸 때는 한국어(English)로 쓴다. ",
    "mixed": (
        "문장의 뼈대는 한국어로 쓰고, 기술 용어(방법, 과제, 지표, 모델, 데이터셋 이름)는 "
        "원문의 영어를 그대로 옮겨 조사를 바로 붙인다(예: benchmark를, misalignment가). "
        "숫자는 원문의 자릿수와 단위 그대로 쓴다. "
    ),
}
_JSON_SHAPE = {
    True: (
        'JSON 하나로만 답한다: {"summary": "요약 1~2문장", "significance": "의의 1문장", '
        '"glossary_note": "비전공자를 위한 용어 설명 1~2문장, 필요 없으면 빈 문자열"}'
    ),
    False: 'JSON 하나로만 답한다: {"summary": "요약 1~2문장", "significance": "의의 1문장"}',
}


def system_prompt(style: str, notes: bool) -> str:
    """The chat system message for `style` ("korean" or "mixed"); `notes` asks for a 토막상식."""
    return _SYSTEM_HEAD + _STYLE_RULE.get(style, _STYLE_RULE["korean"]) + _JSON_SHAPE[notes]


SYSTEM = system_prompt("korean", True)


@dataclass(frozen=True)
class Prompt:
    """One request for one item, in both styles; `stop` ends a completion early."""

    completion: str
    messages: tuple[dict[str, str], ...]
    stop: tuple[str, ...] = ("\n\n", "\n제목:")
    wants_glossary: bool = True
    grounding: str = ""  # title + source: what grounded decoding lets the answer copy


@dataclass(frozen=True)
class Draft:
    """What a model wrote, before validation."""

    summary: str = ""
    significance: str = ""
    glossary_note: str = ""
    fields_found: tuple[str, ...] = field(default=())


def finished(text: str, prompt: Prompt) -> int | None:
    """Where a completion's answer ends, or None while it may go on.

    A base model does not stop after the three lines: it starts the next example or repeats a
    label. The answer ends at a stop string, at a label seen twice, or at the end of the
    토막상식 line."""
    ends = [i for i in (text.find(s) for s in prompt.stop) if i >= 0]
    seen: set[str] = {"요약"}  # the prompt itself opens the 요약 line
    offset = 0
    for line in text.splitlines(keepends=True):
        m = _LINE.match(line)
        if m and offset:
            if m[1] in seen:
                ends.append(offset - 1)
                break
            seen.add(m[1])
            if m[1] == "토막상식" and line.endswith("\n"):
                ends.append(offset + len(line) - 1)
                break
        offset += len(line)
    return min(ends) if ends else None


def source_text(item: Item) -> str:
    """The part of `item`'s text a model reads (see `cut_source`)."""
    return cut_source(item.summary)


def cut_source(text: str) -> str:
    """`text` with whitespace collapsed, cut to at most `MAX_SOURCE_CHARS` characters at the
    last sentence end past the middle, else at a word with " …". The corpus's `source` field
    is made by this same cut, so training and drafting show the model the same text."""
    text = " ".join(text.split())
    if len(text) <= MAX_SOURCE_CHARS:
        return text
    cut = text[:MAX_SOURCE_CHARS]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > MAX_SOURCE_CHARS // 2 else cut.rsplit(" ", 1)[0] + " …"


def _block(title: str, source: str) -> str:
    return f"제목: {title}\n원문: {source}\n"


def tuned_prompt(title: str, source: str) -> str:
    """The prompt of a fine-tuned adapter: the header, the item, and the opened 요약 line; no
    examples (the adapter learned the format, and a short prompt is less prefill on a CPU).
    `source` is already cut (`cut_source`). Training and drafting both use this function."""
    return _HEADER + _block(" ".join(title.split()), source) + "- [요약]"


def tuned_answer(summary: str, significance: str) -> str:
    """What an adapter learns to write after `tuned_prompt` (then the end-of-sequence token)."""
    return f" {summary}\n- [의의] {significance}\n"


def _answer(e: Example) -> str:
    return f"- [요약] {e.summary}\n- [의의] {e.significance}\n- [토막상식] {e.glossary_note}\n\n"


# The page every completion prompt starts with: a backend can compute its KV cache once and
# reuse it for every item (two thirds of each prompt's tokens).
FEW_SHOT = _HEADER + "".join(_block(e.title, e.source) + _answer(e) for e in EXAMPLES)


def build(
    item: Item,
    term: GlossaryTerm | None,
    *,
    tuned: bool = False,
    style: str = "korean",
    notes: bool = True,
) -> Prompt:
    """The request for `item` in the three forms a backend may send:

    - `tuned`: the short prompt a fine-tuned adapter learned (`tuned_prompt`); it writes 요약 and
      의의 only, never a 토막상식.
    - otherwise `completion` is the few-shot page for a base model and `messages` the chat
      request for an instruction model, in `style`.
    A curated `term` means the model need not write a 토막상식; `notes=False` never asks for
    one (the embedded model's notes were wrong in 58 of 60, docs/summarizer.md)."""
    title = " ".join(item.title.split())
    source = source_text(item)
    wants_note = notes and term is None and not tuned
    stop: tuple[str, ...] = ("\n\n", "\n제목:")
    if not wants_note:
        stop = (*stop, "\n- [토막상식]")  # no note wanted: don't spend tokens on one
    if tuned:
        completion = tuned_prompt(title, source)
    else:
        completion = FEW_SHOT + _block(title, source) + "- [요약]"
    messages: list[dict[str, str]] = [
        {"role": "system", "content": system_prompt(style, wants_note)}
    ]
    for e in EXAMPLES if style == "korean" else ():
        messages.append({"role": "user", "content": _block(e.title, e.source)})
        answer = {"summary": e.summary, "significance": e.significance}
        if wants_note:
            answer["glossary_note"] = e.glossary_note
        messages.append({"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)})
    messages.append({"role": "user", "content": _block(title, source)})
    return Prompt(
        completion,
        tuple(messages),
        stop,
        wants_glossary=wants_note,
        grounding=f"{title} {source}",
    )


_LINE = re.compile(r"^\s*-?\s*\**\[(요약|의의|토막상식)\]\**\s*:?\s*(.*)$")
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def parse(text: str, completion: bool) -> Draft:
    """Read a model's answer: labelled lines (completion style) or a JSON object (chat style).

    Completion output starts right after the prompt's trailing `- [요약]`, so it is re-labelled
    first. Whatever cannot be read gives empty fields, which validation then rejects."""
    if completion:
        text = "- [요약]" + text
    stripped = text.strip()
    if not completion or stripped.startswith("{"):
        found = _parse_json(stripped)
        if found is not None:
            return found
    values: dict[str, str] = {}
    for line in stripped.splitlines():
        m = _LINE.match(line)
        if m and _LABEL_FIELDS[m[1]] not in values:
            values[_LABEL_FIELDS[m[1]]] = m[2].strip()
    return Draft(**values, fields_found=tuple(values))


def _parse_json(text: str) -> Draft | None:
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)  # some servers fence JSON in Markdown
    m = _JSON.search(text)
    if not m:
        return None
    try:
        data = json.loads(m[0])
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    values = {name: data[name] for name in LABELS if isinstance(data.get(name), str)}
    return Draft(**{k: v.strip() for k, v in values.items()}, fields_found=tuple(values))
