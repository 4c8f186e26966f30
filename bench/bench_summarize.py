"""Benchmark the `transformers` backend with the embedded Gemma 3 270M on this machine.

    .venv/bin/python bench/bench_summarize.py            # everything (cold load takes minutes)
    .venv/bin/python bench/bench_summarize.py --no-cold  # reuse the converted model

Measures: cold load (GGUF → safetensors, in a child process so its memory peak is its own),
cached load, where one step's time goes (prefill, decode, output layer), generation throughput
for one item and for a batch of 8 (a fixed number of new tokens, no early stop), a 20-item day
through the whole summarizer (prompt, parse, validate, retry, fallback) and peak memory.
Prints `uptime` before and after: the CPU is shared, and the figures mean little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.summarize.adapters import EMBEDDED  # noqa: E402
from digest.summarize.embedded import embedded_folder  # noqa: E402
from digest.summarize.generative import ModelSummarizer  # noqa: E402
from digest.summarize.prompt import build  # noqa: E402
from digest.summarize.transformers import TransformersGenerator  # noqa: E402

console = Console(stderr=True)
FEEDS = ROOT / "examples" / "feeds"


def config(state: Path, **summarizer: Any) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {"backend": "transformers", "device": "cpu", **summarizer},
            "state_dir": str(state),
        }
    )


def sample_items(n: int) -> list[Item]:
    """Real abstracts and posts from the bundled captures, arXiv first."""
    import feedparser

    items: list[Item] = []
    for name in ("arxiv-api-cs-lg-ai.xml", "google-research-blog.xml", "aws-ml-blog.xml"):
        for k, entry in enumerate(feedparser.parse(str(FEEDS / name)).entries):
            items.append(
                Item(
                    id=f"{name}-{k}",
                    title=" ".join(entry.get("title", "").split()),
                    url=entry.get("link", ""),
                    source_id=name,
                    section_id="a",
                    summary=" ".join(entry.get("summary", "").split()),
                )
            )
    return items[:n]


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cold_load(state: Path) -> tuple[float, float]:
    """Convert the GGUF into a fresh state folder in a child process: (seconds, peak MB)."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[2]); "
        "from pathlib import Path; from digest.summarize.embedded import embedded_folder; "
        "t = time.monotonic(); embedded_folder(Path(sys.argv[1])); print(time.monotonic() - t)"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code, str(state), str(ROOT)], capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"cold load failed:\n{out.stderr[-2000:]}")
    return time.monotonic() - started, peak_mb(resource.RUSAGE_CHILDREN)


def fixed_tokens(gen: TransformersGenerator, items: list[Item], tokens: int) -> float:
    """Seconds to generate exactly `tokens` new tokens per item, greedy, as one batch."""
    torch = gen.torch
    texts = [build(item, None).completion for item in items]
    started = time.monotonic()
    batch = gen.inputs(texts)  # with the few-shot page's cache copied in, as generate() uses
    with torch.inference_mode():
        gen.model.generate(
            **batch,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            do_sample=False,
            pad_token_id=gen.tokenizer.pad_token_id,
        )
    return time.monotonic() - started


def profile_step(gen: TransformersGenerator, item: Item, batch: int) -> dict[str, float]:
    """Prefill (whole prompt, and with the few-shot page cached), one decode step, and the
    output layer's share of a decode step."""
    torch = gen.torch
    texts = [build(item, None).completion] * batch
    gen.prefix_cache = False
    plain = gen.inputs(texts)
    gen.prefix_cache = True
    model = gen.model
    with torch.inference_mode():
        started = time.monotonic()
        model(**gen.prefill_inputs(plain), use_cache=True, logits_to_keep=1)
        prefill_plain = time.monotonic() - started
        started = time.monotonic()
        inputs = gen.inputs(texts)  # copying the page's cache into the batch is part of it
        out = model(**gen.prefill_inputs(inputs), use_cache=True, logits_to_keep=1)
        prefill = time.monotonic() - started
        past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        steps = 10
        started = time.monotonic()
        for _ in range(steps):
            out = model(input_ids=token, past_key_values=past, use_cache=True, logits_to_keep=1)
            past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        step = (time.monotonic() - started) / steps
        hidden = torch.randn(batch, 1, model.config.hidden_size)
        started = time.monotonic()
        for _ in range(steps):
            model.lm_head(hidden)
        head = (time.monotonic() - started) / steps
    return {
        "prompt_tokens": float(inputs["input_ids"].shape[1]),
        "page_tokens": float(len(gen.few_shot_page()[0])),
        "prefill_plain_s": prefill_plain,
        "prefill_s": prefill,
        "step_ms": step * 1000,
        "head_ms": head * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-cold", action="store_true", help="skip the GGUF conversion")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per item (64)")
    parser.add_argument("--day", type=int, default=20, help="items in the simulated day (20)")
    parser.add_argument("--state", default=str(ROOT / ".digest"), help="state folder (.digest)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--adapter", default="builtin", help="builtin (the shipped adapter), none, or a folder"
    )
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    args = parser.parse_args()

    figures: dict[str, Any] = {"uptime_before": uptime(), "model": EMBEDDED, "adapter": ""}
    state = Path(args.state)
    steps = ["cold load", "cached load", "profile", "1 item", "8 items", f"{args.day}-item day"]
    columns = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmark", total=len(steps))

        def step(name: str) -> None:
            # Each finished figure is printed at once: a run cut short still tells something.
            progress.console.log({k: v for k, v in figures.items() if k not in shown})
            shown.update(figures)
            progress.update(task, description=name)

        shown: set[str] = {"uptime_before", "model"}

        step("cold load: converting the GGUF (minutes)")
        if not args.no_cold:
            with tempfile.TemporaryDirectory() as tmp:
                figures["cold_load_s"], figures["cold_peak_mb"] = cold_load(Path(tmp))
        progress.advance(task)

        step("cached load")
        embedded_folder(state)  # converts here if this state folder has none yet
        cfg = config(state, threads=args.threads, batch_size=8, adapter=args.adapter)
        started = time.monotonic()
        gen = TransformersGenerator(cfg)
        figures["cached_load_s"] = time.monotonic() - started
        figures["adapter"] = str(gen.adapter or "none")
        started = time.monotonic()
        gen.few_shot_page()  # once per generator, on the first batch
        figures["page_prefill_s"] = time.monotonic() - started
        progress.advance(task)

        items = sample_items(max(args.day, 8))
        step("profile: prefill, decode step, output layer")
        figures["profile_1"] = profile_step(gen, items[0], 1)
        figures["profile_8"] = profile_step(gen, items[0], 8)
        progress.advance(task)

        step(f"1 item × {args.tokens} tokens")
        fixed_tokens(gen, items[:1], 4)  # warm-up: first call pays one-off allocations
        one = fixed_tokens(gen, items[:1], args.tokens)
        figures["one_item_tok_s"] = args.tokens / one
        progress.advance(task)

        step(f"8 items × {args.tokens} tokens")
        eight = fixed_tokens(gen, items[:8], args.tokens)
        figures["batch8_tok_s"] = 8 * args.tokens / eight
        figures["batch_speedup"] = figures["batch8_tok_s"] / figures["one_item_tok_s"]
        progress.advance(task)

        day = items[: args.day]
        done = progress.add_task(f"{len(day)}-item day", total=len(day))
        summarizer = ModelSummarizer(
            gen,
            progress=lambda d, t: progress.update(done, completed=d, total=t),
            style="mixed" if gen.tuned else "korean",  # as the product pairs them
        )
        step(f"{len(day)}-item day through the summarizer")
        started = time.monotonic()
        briefs = summarizer.summarize(day)
        figures["day_s"] = time.monotonic() - started
        figures["day_items"] = len(day)
        figures["day_model_calls"] = summarizer.model_calls
        figures["day_passed_validation"] = sum(not b.needs_review for b in briefs)
        figures["day_retried"] = summarizer.retried
        figures["day_rescued_by_retry"] = summarizer.rescued
        figures["day_generated_notes"] = sum(b.glossary_generated for b in briefs)
        progress.advance(task)

    figures["peak_mb"] = peak_mb()
    figures["uptime_after"] = uptime()
    figures["torch_threads"] = gen.torch.get_num_threads()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    report(figures, briefs[:3])


def report(f: dict[str, Any], sample: list[Any]) -> None:
    table = Table(
        title=f"bench_summarize: {f['model']} + adapter {f['adapter']} on CPU "
        f"({f['torch_threads']} threads)"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    if "cold_load_s" in f:
        table.add_row("cold load (GGUF → safetensors)", f"{f['cold_load_s']:.0f} s", "once")
        table.add_row("  peak memory while converting", f"{f['cold_peak_mb']:.0f} MB", "")
    table.add_row("cached load", f"{f['cached_load_s']:.1f} s", "≤ 10 s")
    page = f["profile_1"]["page_tokens"]
    table.add_row(f"few-shot page: {page:.0f} tokens, once", f"{f['page_prefill_s']:.1f} s", "")
    for b in (1, 8):
        p = f[f"profile_{b}"]
        table.add_row(
            f"batch {b}: prefill {p['prompt_tokens']:.0f} tokens (page cached)",
            f"{p['prefill_plain_s']:.1f} s ({p['prefill_s']:.1f} s)",
            "",
        )
        table.add_row(
            f"batch {b}: decode step (output layer)",
            f"{p['step_ms']:.0f} ms ({p['head_ms']:.0f} ms)",
            "",
        )
    table.add_row("one item", f"{f['one_item_tok_s']:.1f} tok/s", "")
    table.add_row(
        "batch of 8, total", f"{f['batch8_tok_s']:.1f} tok/s ({f['batch_speedup']:.1f}×)", "≥ 3×"
    )
    table.add_row(
        f"{f['day_items']}-item day",
        f"{f['day_s'] / 60:.1f} min, {f['day_model_calls']} calls, "
        f"{f['day_passed_validation']} passed ({f['day_rescued_by_retry']} of them on one of "
        f"{f['day_retried']} retries)",
        "≤ 2 min" if f["adapter"] != "none" else "≤ 10 min",
    )
    table.add_row("peak memory (this process)", f"{f['peak_mb']:.0f} MB", "≤ 3 GB")
    console.print(table)
    console.print(f"before: {f['uptime_before']}\nafter:  {f['uptime_after']}")
    for brief in sample:
        console.print(f"[dim]{'검토 필요 ' if brief.needs_review else ''}{brief.summary}[/dim]")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
