"""A merged model folder: a base model with one of our LoRA adapters added into its weights
(PEFT's `merge_and_unload`: W + BA·α/r, the LoRA layers then removed), saved whole with
`save_pretrained` and its tokenizer, so a server that loads a Hugging Face folder (vLLM,
`transformers serve`, llama.cpp's converter, Ollama's `FROM` a safetensors folder) serves the
project's own fine-tuned model. `digest train --merged DIR` writes one.

The folder also carries the adapter itself in `adapter/` and a `merged.json` (base, adapter id
and sha256): `summarizer.adapter: DIR/adapter` then tells the `openai` backend that the served
model is this one, so it is asked with the tuned prompt on the completion endpoint and the
adapter's id is in the brief cache key.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from digest import __version__
from digest.errors import DigestError
from digest.store import atomic_write
from digest.summarize.adapters import ADAPTER_CONFIG, WEIGHTS, adapter_id
from digest.summarize.embedded import ModelLoadError, import_stack

MERGED_RECORD = "merged.json"
ADAPTER_SUBFOLDER = "adapter"


@dataclass(frozen=True)
class MergeResult:
    """What `write_merged` wrote: the folder, the adapter's id, seconds taken and size in
    bytes (weights, tokenizer and the adapter copy)."""

    output: Path
    adapter_id: str
    seconds: float
    bytes: int


def write_merged(base: Path, adapter: Path, output: Path) -> MergeResult:
    """Load the model in `base` (a Hugging Face folder, weights in their own dtype), add the
    PEFT LoRA adapter in `adapter` into its weights, and save model, tokenizer, the adapter
    and `merged.json` into `output`, assembled beside it and renamed whole (an old folder there
    is replaced). Returns a `MergeResult`.

    Raises ConfigError when torch, transformers or peft is missing, ModelLoadError when the base
    does not load or the adapter does not fit it, DigestError when the folder cannot be
    written."""
    from digest.summarize.transformers import merge_adapter

    if not (adapter / ADAPTER_CONFIG).is_file() or not (adapter / WEIGHTS).is_file():
        raise ModelLoadError(
            f"{adapter}: no {ADAPTER_CONFIG} and {WEIGHTS} — give a folder made by "
            "`digest train` (or --from-adapter builtin)"
        )
    started = time.monotonic()
    torch, transformers = import_stack()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
        model = transformers.AutoModelForCausalLM.from_pretrained(str(base), dtype="auto")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"{base}: could not load the base model ({exc}) — give the folder the adapter was "
            "trained on (--base; default: the embedded model)"
        ) from exc
    merged = merge_adapter(model, adapter)
    staging = output.with_name(f".{output.name}.merging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        merged.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        shutil.copytree(adapter, staging / ADAPTER_SUBFOLDER)
        ident = adapter_id(adapter)
        record = {
            "base": str(base.resolve()),
            "adapter": str(adapter.resolve()),
            "adapter_id": ident,
            "dtype": str(merged.dtype).removeprefix("torch."),
            "digest_version": __version__,
            "torch_version": torch.__version__,
            "transformers_version": transformers.__version__,
        }
        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        atomic_write(staging / MERGED_RECORD, text)
        size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
        _replace(staging, output)
    except OSError as exc:
        raise DigestError(
            f"{output}: cannot write the merged model ({exc.strerror or exc}) — it needs about "
            "twice the base model's size free; free some space or give another --merged folder"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return MergeResult(output, ident, time.monotonic() - started, size)


def _replace(staging: Path, output: Path) -> None:
    """Rename `staging` to `output`, moving an old `output` aside first and removing it after."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.exists():
        staging.rename(output)
        return
    old = output.with_name(f".{output.name}.old-{os.getpid()}")
    output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)
