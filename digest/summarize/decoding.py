"""Decoding rules of the transformers backend, as transformers' logits processors and stopping
criteria: grounded decoding (English words and numbers only from the source, see grounding.py),
per-row stopping once a completion's answer is complete, and an output layer that computes only
the tokens a Korean brief uses. torch and transformers are imported inside the functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from digest.summarize.grounding import GroundedText
from digest.summarize.prompt import Prompt, finished


@dataclass
class GroundedLogits:
    """A logits processor for grounded decoding (see `grounding.py`): per row, of the `top_k`
    best next tokens only those the source grounds stay; every other token is ruled out. When
    none of them passes (the model is set on a word the source lacks), the next best are tried
    up to `scan` of them; only if none passes does the best one stay, so decoding never stalls
    (validation then names the fault)."""

    pieces: list[str]
    prompt_len: int
    grounds: list[GroundedText | None]  # None: this row is not constrained
    top_k: int = 40
    scan: int = 4096
    tail_tokens: int = 12  # enough pieces to hold the word being written

    def build(self) -> Any:
        import torch
        from transformers import LogitsProcessor

        outer = self

        class Grounded(LogitsProcessor):
            def __call__(self, input_ids: Any, scores: Any) -> Any:
                written = input_ids[:, outer.prompt_len :].tolist()
                width = min(outer.top_k, scores.shape[-1])
                best = scores.topk(width, dim=-1).indices.tolist()
                keep = torch.full_like(scores, float("-inf"))
                for row, (ids, candidates) in enumerate(zip(written, best, strict=True)):
                    ground = outer.grounds[row]
                    if ground is None:
                        keep[row] = 0.0
                        continue
                    tail = "".join(outer.pieces[t] for t in ids[-outer.tail_tokens :])
                    allowed = [t for t in candidates if ground.allows(tail, outer.pieces[t])]
                    if not allowed:
                        allowed = outer.next_allowed(scores[row], ground, tail, width)
                    keep[row, allowed or candidates[:1]] = 0.0
                return scores + keep

        return Grounded()

    def next_allowed(self, row: Any, ground: GroundedText, tail: str, done: int) -> list[int]:
        """The best token past the first `done` that `ground` allows, within `scan`."""
        ranked = row.topk(min(self.scan, row.shape[-1])).indices.tolist()
        return next(([t] for t in ranked[done:] if ground.allows(tail, self.pieces[t])), [])


@dataclass
class StopWhenAnswered:
    """Per-row stop: a row is done once its answer is complete (see `prompt.finished`), so a
    batch is not held up by a model that would go on writing the next example."""

    tokenizer: Any
    prompt_len: int
    prompts: list[Prompt]
    completion: bool
    on_answer: Callable[[int], None] | None = None  # told how many rows are answered so far
    answered: int = 0

    def build(self) -> Any:
        import torch
        from transformers import StoppingCriteria

        outer = self

        class StopOnAnswer(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                tails = outer.tokenizer.batch_decode(
                    input_ids[:, outer.prompt_len :], skip_special_tokens=True
                )
                done = [
                    cut(tail, p, outer.completion) != tail
                    for tail, p in zip(tails, outer.prompts, strict=True)
                ]
                outer.report(sum(done))
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        return StopOnAnswer()

    def report(self, answered: int) -> None:
        """Tell `on_answer` when more rows are answered than before (a finished row stays
        finished: generate() pads it from then on)."""
        if answered > self.answered:
            self.answered = answered
            if self.on_answer is not None:
                self.on_answer(answered)


def cut(text: str, prompt: Prompt, completion: bool) -> str:
    """The answer part of `text`; a chat answer ends by itself (end of turn)."""
    if not completion:
        return text
    end = finished(text, prompt)
    return text if end is None else text[:end]


# Tokens a brief may use: Hangul, printable ASCII, SentencePiece's word mark, common
# punctuation, and the byte-fallback tokens that spell anything else.
_KOREAN_PIECE = re.compile(r"^(?:[\u2581 -~\n\t가-힣ㄱ-ㆎ“”‘’…·–—%°×→←]+|<0x[0-9A-F]{2}>)$")


def restrict_output(torch: Any, model: Any, tokenizer: Any, dtype: Any = None) -> int:
    """Swap the output layer for one computing only the tokens a Korean brief uses; the others
    get the lowest logit, so generate() sees the vocabulary it knows. `dtype` stores the kept
    rows in another precision (bfloat16: see `_head_dtype`). Returns the kept count."""
    head = model.get_output_embeddings()
    vocab = int(head.weight.shape[0])
    pieces = tokenizer.convert_ids_to_tokens(list(range(min(vocab, len(tokenizer)))))
    special = set(tokenizer.all_special_ids)
    keep = [
        i
        for i, piece in enumerate(pieces)
        if i in special or (piece and _KOREAN_PIECE.match(piece))
    ]
    if len(keep) > vocab * 0.9:
        return vocab  # a small vocabulary already: nothing to gain
    ids = torch.tensor(keep, dtype=torch.long)

    class KoreanHead(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.weight_kept = torch.nn.Parameter(
                head.weight.detach()[ids].to(dtype or head.weight.dtype).clone(),
                requires_grad=False,
            )
            self.register_buffer("ids", ids)

        def forward(self, hidden: Any) -> Any:
            weight = self.weight_kept
            kept = torch.nn.functional.linear(hidden.to(weight.dtype), weight).to(hidden.dtype)
            full = kept.new_full((*kept.shape[:-1], vocab), torch.finfo(kept.dtype).min)
            return full.index_copy_(-1, self.ids, kept)

    model.lm_head = KoreanHead()
    return len(keep)


def head_dtype(torch: Any, dtype: Any, device: str) -> Any:
    """bfloat16 for the output layer of a float32 model on a CPU with bfloat16 instructions.

    The layer is ~155k × 640 weights read at every decoding step: memory-bound, so half the
    bytes is ~5× faster here (45 → 9 ms per step at batch 8); the sums stay float32. The rest
    of the model stays float32, which batches best. The embedded weights come from a 4-bit
    GGUF, so bfloat16 rounding is small next to that quantization."""
    if device != "cpu" or dtype != torch.float32:
        return None
    try:
        supported = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        supported = False
    return torch.bfloat16 if supported else None
