"""When does a model server pay off? The embedded model with the bundled adapter, in-process vs
behind `transformers serve` (with and without continuous batching), same items, one run each.

    .venv/bin/python bench/bench_server.py --state /path/to/.digest      # 8 items, every mode
    .venv/bin/python bench/bench_server.py --items 4 --modes inprocess,server

Each mode asks for the same briefs of the evaluation split (digest/data/corpus/
briefs-mixed-eval.jsonl, the first N lines) with the short tuned prompt and greedy decoding, one
generate() call over all items, no validation retry (what is timed is the model's work):

- `inprocess`: the `transformers` backend as `digest daily` runs it (batches of 8, grounded
  decoding, the Korean output layer), the model already loaded;
- `server`: `digest train --from-adapter builtin --merged` (made once under STATE/models/),
  served by `transformers serve` on a loopback port, asked through the `openai` backend's
  completion endpoint, `--concurrency` requests at a time, after one warm-up request;
- `server-cb`: the same with `transformers serve --continuous-batching`.

Reports per mode: wall seconds, briefs per minute, completion tokens per second (tokens as the
backend counted them), prompt tokens, and how many answers pass validation with no fault. Prints
`uptime` before and after: the CPU is shared, and the figures mean little without it. Load and
server start-up are not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.summarize.adapters import builtin_folder  # noqa: E402
from digest.summarize.corpus import bundled  # noqa: E402
from digest.summarize.embedded import embedded_folder  # noqa: E402
from digest.summarize.generative import Generator  # noqa: E402
from digest.summarize.merge import ADAPTER_SUBFOLDER, MERGED_RECORD, write_merged  # noqa: E402
from digest.summarize.prompt import Prompt, build, parse  # noqa: E402
from digest.summarize.usage import Usage  # noqa: E402
from digest.summarize.validate import problems  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from bench_briefs import as_item  # noqa: E402
from bench_briefs import config as briefs_config  # noqa: E402

MODES = ("inprocess", "server", "server-cb")


def config(state: Path, **summarizer: Any) -> Config:
    """bench_briefs' configuration with these summarizer settings (an `openai` backend's too)."""
    return briefs_config(state, summarizer)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def measure(
    name: str, generator: Generator, items: list[Item], prompts: list[Prompt]
) -> dict[str, Any]:
    used = Usage()
    started = time.monotonic()
    answers = generator.generate(prompts, on_usage=lambda _row, usage: used.add(usage))
    wall = time.monotonic() - started
    faults = [problems(parse(a, True), i, "mixed") for a, i in zip(answers, items, strict=True)]
    return {
        "mode": name,
        "items": len(items),
        "wall_s": round(wall, 1),
        "briefs_per_min": round(len(items) / wall * 60, 2),
        "completion_tokens": used.completion_tokens,
        "tok_per_s": round(used.completion_tokens / wall, 2),
        "prompt_tokens": used.prompt_tokens,
        "passed": sum(not f for f in faults),
        "hard_faults": sum(any(x.hard for x in f) for f in faults),
    }


def in_process(state: Path, items: list[Item], prompts: list[Prompt]) -> dict[str, Any]:
    from digest.summarize.transformers import LazyTransformersGenerator

    generator = LazyTransformersGenerator(config(state, backend="transformers", device="cpu"))
    generator.loaded  # noqa: B018 - load now: loading is not what is measured
    return measure("inprocess", generator, items, prompts)


def merged_folder(state: Path) -> Path:
    folder = state / "models" / "briefs-mixed-merged"
    if not (folder / MERGED_RECORD).is_file():
        print(f"merging the bundled adapter into {folder} (once)", file=sys.stderr)
        write_merged(embedded_folder(state), builtin_folder(), folder)
    return folder


def served(
    state: Path,
    items: list[Item],
    prompts: list[Prompt],
    *,
    batching: bool,
    port: int,
    concurrency: int,
) -> dict[str, Any]:
    from digest.summarize.openai import OpenAIGenerator

    folder = merged_folder(state)
    command = [str(Path(sys.executable).parent / "transformers"), "serve", str(folder)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    command += ["--continuous-batching"] if batching else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = (state / f"bench-serve-{port}.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"transformers serve did not start; see {log.name}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        settings = {
            "backend": "openai",
            "model": str(folder),
            "adapter": str(folder / ADAPTER_SUBFOLDER),
            "base_url": f"http://127.0.0.1:{port}/v1",
            "concurrency": concurrency,
            "timeout_seconds": 1800,
            "retries": 0,
        }
        generator = OpenAIGenerator(config(state, **settings))
        assert generator.completion and generator.tuned
        generator.generate(prompts[:1])  # warm-up: the first request pays one-off costs
        name = "server-cb" if batching else "server"
        return measure(name, generator, items, prompts) | {"concurrency": concurrency}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--state", type=Path, default=ROOT / "examples" / ".digest")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--port", type=int, default=18300)
    args = parser.parse_args()
    lines = bundled("mixed", "eval")[: args.items]
    items = [as_item(line) for line in lines]
    prompts = [build(i, None, tuned=True, style="mixed", notes=False) for i in items]
    print(uptime(), file=sys.stderr)
    results = []
    for mode in args.modes.split(","):
        if mode == "inprocess":
            result = in_process(args.state, items, prompts)
        elif mode in ("server", "server-cb"):
            result = served(
                args.state,
                items,
                prompts,
                batching=mode == "server-cb",
                port=args.port,
                concurrency=args.concurrency,
            )
        else:
            raise SystemExit(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
        print(json.dumps(result), flush=True)
        print(uptime(), file=sys.stderr)
        results.append(result)
    print("| mode | items | wall | briefs/min | tok/s | completion tokens | passed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['mode']} | {r['items']} | {r['wall_s']} s | {r['briefs_per_min']} | "
            f"{r['tok_per_s']} | {r['completion_tokens']:,} | {r['passed']}/{r['items']} |"
        )


if __name__ == "__main__":
    main()
