"""Fine-tune a LoRA adapter for a causal LM from brief corpora: what `digest train` runs.

The recipe is the one measured for the seed adapter (docs/summarizer.md): LoRA rank 16, alpha
32, dropout 0.05 on every attention and MLP projection, AdamW at 3e-4 with a 10-step warm-up and
a cosine decay, batch 8, gradients clipped at 1.0, three epochs. The model sees the short tuned
prompt (`prompt.tuned_prompt`) and learns only the answer: the loss, and the output layer, are
computed on answer tokens alone. With Gemma's 262k-token vocabulary that layer is most of a
training step's cost when taken at every position; skipping the prompt's positions is what makes a
CPU run practical.

A fixed share of the lines (seeded shuffle) is the validation split: its loss is reported after
each epoch and it is never trained on. The evaluation split of the bundled corpus is not read here
at all (see `digest.summarize.corpus`).

torch and peft are imported inside the functions: `import digest.summarize.train` costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.errors import DigestError
from digest.store import atomic_write
from digest.summarize.corpus import CorpusLine
from digest.summarize.prompt import tuned_answer, tuned_prompt

# Every projection of every layer: measured better than attention alone for this task.
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ADAPTER_WEIGHTS = "adapter_model.safetensors"
TRAINING_RECORD = "training.json"
MODEL_CARD = "MODEL_CARD.md"
IGNORE = -100  # the label PyTorch's cross entropy skips

# (step done, steps in all, the last batch's loss); called after every optimizer step.
StepProgress = Callable[[int, int, float], None]


class TrainingError(DigestError):
    """Training could not run (no data, missing packages, unusable base model); names the fix."""


@dataclass(frozen=True)
class Hyperparameters:
    """The LoRA recipe; the defaults are the seed adapter's (rank 32 and 64 over-fitted a
    270-line corpus: validation loss rose after epoch 2)."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    epochs: int = 3
    learning_rate: float = 3e-4
    batch_size: int = 8
    warmup_steps: int = 10
    grad_clip: float = 1.0
    max_tokens: int = 640  # prompt + answer; longer examples are cut (none in the corpus are)
    validation_share: float = 0.1
    seed: int = 1
    max_steps: int = 0  # 0: the whole schedule; tests set a few


@dataclass
class TrainResult:
    """What a run did, as written to `training.json` beside the adapter."""

    output: str
    base_model: str
    hyperparameters: dict[str, Any]
    device: str
    dtype: str
    train_lines: int
    validation_lines: int
    train_tokens_per_epoch: int
    steps: int
    seconds: float
    validation_loss: list[float] = field(default_factory=list)  # before training, then per epoch
    corpora: list[dict[str, Any]] = field(default_factory=list)
    hardware: str = ""
    finished: str = ""
    best_epoch: int = 0  # the epoch whose weights were saved (lowest validation loss)


def split(lines: Sequence[CorpusLine], share: float, seed: int) -> tuple[list[Any], list[Any]]:
    """(train, validation): a seeded shuffle, the first `share` of it (at least 2) validation.
    The same seed and lines always give the same split (the seed adapter used seed 1)."""
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    size = max(2, round(len(shuffled) * share)) if len(shuffled) >= 4 else 0
    return shuffled[size:], shuffled[:size]


def encode(tokenizer: Any, line: CorpusLine, max_tokens: int) -> tuple[list[int], list[int]]:
    """Token ids of prompt + answer + end of sequence, and labels that hide the prompt."""
    prompt = tokenizer(tuned_prompt(line.title, line.source), add_special_tokens=True)
    answer = tokenizer(tuned_answer(line.summary, line.significance), add_special_tokens=False)
    p_ids = list(prompt["input_ids"])
    a_ids = [*answer["input_ids"], tokenizer.eos_token_id]
    ids = (p_ids + a_ids)[:max_tokens]
    labels = ([IGNORE] * len(p_ids) + a_ids)[:max_tokens]
    return ids, labels


def batches(
    rows: list[tuple[list[int], list[int]]], size: int, pad_id: int, rng: random.Random | None
) -> list[tuple[Any, Any, Any]]:
    """Padded (ids, labels, attention mask) tensors. Rows of similar length go together (less
    padding to compute on a CPU); `rng` shuffles which batch comes when, None keeps order."""
    import torch

    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    if rng is not None:
        rng.shuffle(groups)
    out = []
    for group in groups:
        width = max(len(rows[i][0]) for i in group)
        ids = torch.full((len(group), width), pad_id, dtype=torch.long)
        labels = torch.full((len(group), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(group), width), dtype=torch.long)
        for row, i in enumerate(group):
            x, y = rows[i]
            ids[row, : len(x)] = torch.tensor(x)
            labels[row, : len(y)] = torch.tensor(y)
            mask[row, : len(x)] = 1
        out.append((ids, labels, mask))
    return out


def answer_loss(model: Any, ids: Any, labels: Any, mask: Any) -> tuple[Any, int]:
    """Mean cross entropy over answer tokens, and their count. The decoder runs on every
    position; the output layer only where the next token is part of the answer."""
    import torch

    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal.model(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    logits = causal.lm_head(hidden[:, :-1][keep]).float()
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    count = int(keep.sum())
    return torch.nn.functional.cross_entropy(logits, targets[keep]), count


def train_adapter(
    base: Path,
    lines: Sequence[CorpusLine],
    output: Path,
    hp: Hyperparameters = Hyperparameters(),
    *,
    device: str = "auto",
    corpora: Sequence[dict[str, Any]] = (),
    progress: StepProgress | None = None,
    epoch_done: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on `lines` for the model in folder `base`; write it to `output`.

    `output` receives the adapter (`adapter_config.json`, `adapter_model.safetensors` in
    bfloat16), `training.json` (this function's `TrainResult`) and `MODEL_CARD.md`, all at
    once: the folder is assembled beside it and renamed, so a crash leaves no half adapter.
    `device` "auto" takes CUDA when torch sees a GPU; on a CPU with bfloat16 instructions the
    forward and backward passes run under bfloat16 autocast (LoRA weights stay float32).

    Raises TrainingError when there are fewer than 4 lines, when torch/transformers/peft are
    missing, or when `base` cannot be loaded."""
    if len(lines) < 4:
        raise TrainingError(
            f"only {len(lines)} training lines — give a corpus with at least 4 briefs"
        )
    torch, transformers, peft = _import_training_stack()
    device = _pick_device(torch, device)
    autocast = _autocast_dtype(torch, device)
    torch.manual_seed(hp.seed)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(base), dtype=torch.float32 if device == "cpu" else torch.bfloat16
        )
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot load the base model from {base}: {exc}") from exc
    model.to(device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    train_lines, validation_lines = split(lines, hp.validation_share, hp.seed)
    train_rows = [encode(tokenizer, line, hp.max_tokens) for line in train_lines]
    validation_rows = [encode(tokenizer, line, hp.max_tokens) for line in validation_lines]

    config = peft.LoraConfig(
        r=hp.rank,
        lora_alpha=hp.alpha,
        lora_dropout=hp.dropout,
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    model = peft.get_peft_model(model, config)
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()  # LoRA weights train in float32 whatever the base's dtype
    optimizer = torch.optim.AdamW(params, lr=hp.learning_rate, weight_decay=0.0)
    per_epoch = math.ceil(len(train_rows) / hp.batch_size)
    steps = hp.epochs * per_epoch
    if hp.max_steps:
        steps = min(steps, hp.max_steps)

    def schedule(step: int) -> float:  # linear warm-up, then cosine to zero
        warm = min(1.0, (step + 1) / max(1, hp.warmup_steps))
        return warm * 0.5 * (1 + math.cos(math.pi * step / steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    result = TrainResult(
        output=str(output),
        base_model=str(base),
        hyperparameters=asdict(hp),
        device=device,
        dtype=f"float32 weights, {autocast or 'float32'} compute",
        train_lines=len(train_rows),
        validation_lines=len(validation_rows),
        train_tokens_per_epoch=sum(len(ids) for ids, _ in train_rows),
        steps=steps,
        seconds=0.0,
        corpora=list(corpora),
        hardware=_hardware(torch, device),
    )
    started = time.monotonic()
    result.validation_loss.append(
        _loss_on(torch, model, validation_rows, hp, pad_id, device, autocast)
    )
    step = 0
    rng = random.Random(hp.seed)
    best = BestEpoch()
    for epoch in range(hp.epochs):
        model.train()
        for ids, labels, mask in batches(train_rows, hp.batch_size, pad_id, rng):
            with torch.autocast(device, dtype=autocast or torch.float32, enabled=bool(autocast)):
                loss, _ = answer_loss(model, ids.to(device), labels.to(device), mask.to(device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, hp.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            if progress:
                progress(step, steps, float(loss.detach()))
            if step >= steps:
                break
        loss_now = _loss_on(torch, model, validation_rows, hp, pad_id, device, autocast)
        result.validation_loss.append(loss_now)
        best.offer(epoch + 1, loss_now, params)
        if epoch_done:
            epoch_done(epoch + 1, loss_now)
        if step >= steps:
            break
    result.best_epoch = best.restore(params)
    result.seconds = round(time.monotonic() - started, 1)
    result.finished = datetime.now(UTC).isoformat(timespec="seconds")
    _save(torch, model, output, result)
    return result


class BestEpoch:
    """Keeps a copy of the trainable (LoRA) weights of the epoch with the lowest validation
    loss, so the saved adapter is that epoch's, not the last one's: on this task a third epoch
    over-fits (validation loss rose after epoch 2 for the seed adapter and for the bundled one,
    see docs/benchmarks.md). A few MB; without a validation split the last epoch wins."""

    def __init__(self) -> None:
        self.epoch = 0
        self.loss = math.inf
        self.weights: list[Any] | None = None

    def offer(self, epoch: int, loss: float, params: list[Any]) -> None:
        """Remember `params` when `loss` is the best so far. NaN (no validation lines) never
        beats a number; among NaNs the latest epoch is kept."""
        if math.isnan(loss):
            better = self.weights is None or math.isnan(self.loss)
        else:
            better = self.weights is None or math.isnan(self.loss) or loss < self.loss
        if better:
            self.epoch, self.loss = epoch, loss
            self.weights = [p.detach().clone() for p in params]

    def restore(self, params: list[Any]) -> int:
        """Put the best epoch's weights back into `params`; returns that epoch (0 if none)."""
        if self.weights is not None:
            for param, kept in zip(params, self.weights, strict=True):
                param.data.copy_(kept)
        return self.epoch


def _loss_on(
    torch: Any,
    model: Any,
    rows: list[tuple[list[int], list[int]]],
    hp: Hyperparameters,
    pad_id: int,
    device: str,
    autocast: Any,
) -> float:
    """Mean answer-token loss over `rows` (nan for none), in eval mode, no gradients."""
    if not rows:
        return float("nan")
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, labels, mask in batches(rows, hp.batch_size, pad_id, None):
            with torch.autocast(device, dtype=autocast or torch.float32, enabled=bool(autocast)):
                loss, n = answer_loss(model, ids.to(device), labels.to(device), mask.to(device))
            total += float(loss) * n
            count += n
    return round(total / max(count, 1), 4)


def _save(torch: Any, model: Any, output: Path, result: TrainResult) -> None:
    """The adapter in bfloat16 (half the bytes, no measurable change after merging), its
    record and its card, renamed into place at once."""
    import shutil

    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.to(torch.bfloat16)
    staging = output.with_name(f".{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_pretrained(str(staging))
    (staging / "README.md").unlink(missing_ok=True)  # peft's template; ours is MODEL_CARD.md
    record = asdict(result)
    record["adapter_sha256"] = sha256_file(staging / ADAPTER_WEIGHTS)
    atomic_write(staging / TRAINING_RECORD, json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    atomic_write(staging / MODEL_CARD, model_card(record))
    if output.exists():
        old = output.with_name(f".{output.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        output.rename(old)
        staging.rename(output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(output)


def model_card(record: dict[str, Any]) -> str:
    """A Hugging Face-style model card: data, hyperparameters, hardware, evaluation."""
    hp = record["hyperparameters"]
    corpora = "\n".join(
        f"- `{c.get('name', '?')}`: {c.get('lines', '?')} lines, sha256 `{c.get('sha256', '?')}`"
        for c in record.get("corpora") or []
    )
    losses = " → ".join(f"{x:.2f}" for x in record["validation_loss"])
    modules = ", ".join(TARGET_MODULES)
    return f"""# LoRA adapter for 뉴랄브리핑 briefs (code-mixed Korean)

Made by `digest train` on {record["finished"]}.

## Data
{corpora or "- (not recorded)"}
- Split: seeded shuffle (seed {hp["seed"]}), {record["validation_lines"]} validation lines never
  trained on, {record["train_lines"]} training lines ({record["train_tokens_per_epoch"]:,} tokens an
  epoch). The bundled evaluation split is never read by training.

## Base model
- `{record["base_model"]}`

## Hyperparameters
- LoRA rank {hp["rank"]}, alpha {hp["alpha"]}, dropout {hp["dropout"]} on {modules}
- {hp["epochs"]} epochs, batch {hp["batch_size"]}, AdamW lr {hp["learning_rate"]}
  ({hp["warmup_steps"]}-step warm-up, cosine), gradient norm clipped at {hp["grad_clip"]};
  loss on answer tokens only
- Prompt: `prompt.tuned_prompt` (title + source, no examples); answer: the 요약 and 의의 lines,
  then the end-of-sequence token

## Hardware and time
- {record["hardware"]}; {record["dtype"]}; {record["steps"]} steps in {record["seconds"]:.0f} s

## Evaluation
- Validation loss (before, then each epoch): {losses}; the weights saved are epoch
  {record.get("best_epoch") or "?"}'s, the lowest
- Brief quality on the evaluation split: run `bench/bench_briefs.py --adapter <this folder>`
  (figures for the shipped adapter are in docs/benchmarks.md).

Adapter sha256: `{record.get("adapter_sha256", "?")}`. Gemma terms of use apply to the base model
and to this derivative.
"""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _import_training_stack() -> tuple[Any, Any, Any]:
    try:
        import peft
        import torch
        import transformers

        from digest.summarize.embedded import quiet_libraries
    except ImportError:
        raise TrainingError(
            "digest train needs torch, transformers and peft — "
            ".venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e '.[model]'"
        ) from None
    quiet_libraries(transformers)
    return torch, transformers, peft


def _pick_device(torch: Any, wanted: str) -> str:
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda, but torch sees no GPU — use --device cpu or auto")
    return wanted


def _autocast_dtype(torch: Any, device: str) -> Any:
    """bfloat16 compute on a GPU, and on a CPU with bfloat16 instructions; else None."""
    if device == "cuda":
        return torch.bfloat16
    try:
        return torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None
    except (AttributeError, RuntimeError):
        return None


def _hardware(torch: Any, device: str) -> str:
    if device == "cuda":
        return f"GPU {torch.cuda.get_device_name(0)}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
