"""Which LoRA adapter the `transformers` backend merges into its model, known without torch.

The project ships one adapter as package data (`digest/data/adapters/briefs-mixed/`): trained by
`digest train` on the bundled code-mixed corpus for the embedded Gemma 3 270M, with its
`training.json` and `MODEL_CARD.md` beside it (base model, corpus files with sha256, split,
hyperparameters, hardware, figures). `summarizer.adapter` picks it, another folder, or none.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from digest.config import Config
from digest.errors import ConfigError

EMBEDDED = "gemma-3-270m-q4_k_m"
BUILTIN = "briefs-mixed"
ADAPTER_CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"


def builtin_folder() -> Path:
    """The bundled adapter's folder inside the installed package."""
    return Path(str(resources.files("digest").joinpath(f"data/adapters/{BUILTIN}")))


def resolve_adapter(config: Config) -> Path | None:
    """The adapter folder `summarizer.adapter` asks for, or None for the plain model.

    "auto" is the bundled adapter with the embedded model and none with any other model (an
    adapter fits only the base it was trained on). Raises ConfigError, naming the setting and
    the fix, when the named folder holds no PEFT adapter."""
    wanted = config.summarizer.adapter.strip()
    embedded = config.summarizer.model.strip() in ("", EMBEDDED)
    if wanted == "none" or (wanted == "auto" and not embedded):
        return None
    folder = builtin_folder() if wanted in ("auto", "builtin") else config.path(wanted)
    if not (folder / ADAPTER_CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise ConfigError(
            f"feeds.yaml: summarizer.adapter {wanted!r}: {folder} has no {ADAPTER_CONFIG} and "
            f"{WEIGHTS} — give a folder made by `digest train`, or adapter: none"
        )
    return folder


def adapter_id(folder: Path) -> str:
    """A short stable name for an adapter: `lora-` and the first 8 hex digits of its weights'
    sha256. Part of the brief cache key, so a retrained adapter writes new briefs."""
    return f"lora-{_weights_sha256(folder.resolve())[:8]}"


@cache
def _weights_sha256(folder: Path) -> str:
    digest = hashlib.sha256()  # a few MB: milliseconds, once per process
    with (folder / WEIGHTS).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
