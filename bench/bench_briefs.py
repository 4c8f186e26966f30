"""Brief quality: draft the corpus's evaluation split with each summarizer variant, side by side.

    .venv/bin/python bench/bench_briefs.py              # base few-shot vs the shipped adapter
    .venv/bin/python bench/bench_briefs.py --adapter adapters/new --limit 40
    .venv/bin/python bench/bench_briefs.py --variants adapter,adapter-free  # grounding on/off

The evaluation split (`digest/data/corpus/briefs-mixed-eval.jsonl`, 120 hand-written briefs of
arXiv, blog and Reddit entries) is never trained on. Each variant runs the real summarizer (prompt,
generation, validation, retries, fallback) in a child process of its own, so its memory peak
is its own. Reported per variant:

- validated: share of items whose brief passed every check of its style (nothing for the
  editor to fix: no 검토 필요, no fallback);
- term precision: English word runs of model-written 요약/의의 found in title or source;
- numbers in no source: digit groups of model-written 요약/의의 the source never states;
- chrF of 요약+의의 against the hand-written briefs (sacrebleu, corpus level, default chrF),
  over all items (a fallback counts with the text the reader would get);
- generated tokens per second, seconds per brief, model load time, peak resident memory.

Prints `uptime` before and after: the CPU is shared, and speed figures mean little without it.
Writes every brief and figure to --out (JSON) for reading them one by one.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Config  # noqa: E402
from digest.models import Item  # noqa: E402
from digest.summarize import validate  # noqa: E402
from digest.summarize.corpus import CorpusLine, bundled, read  # noqa: E402

# name → summarizer settings. "adapter" resolves --adapter; the base model is asked as today.
VARIANTS: dict[str, dict[str, Any]] = {
    "base-fewshot": {"adapter": "none", "style": "korean", "grounded": False},
    "adapter": {"style": "mixed", "grounded": True},
    "adapter-free": {"style": "mixed", "grounded": False},
}


def config(state: Path, settings: dict[str, Any], device: str = "cpu") -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "a", "title": "A", "sources": [{"id": "s", "type": "rss", "url": "x"}]}
            ],
            "summarizer": {"backend": "transformers", "device": device, **settings},
            "state_dir": str(state),
            "base_dir": str(ROOT),
        }
    )


def as_item(line: CorpusLine) -> Item:
    return Item(
        id=line.id,
        title=line.title,
        url=line.url or f"https://arxiv.org/abs/{line.id}",
        source_id=line.kind,
        section_id="a",
        summary=line.source,
    )


def run_one(
    name: str, settings: dict[str, Any], lines: list[CorpusLine], state: Path, device: str = "cpu"
) -> dict:
    """Draft `lines` with one variant in this process; the figures and every brief."""
    from digest.summarize import make_summarizer, style

    cfg = config(state, settings, device)
    summarizer = make_summarizer(cfg)
    started = time.monotonic()
    briefs = summarizer.summarize([as_item(line) for line in lines])
    seconds = time.monotonic() - started
    generator = summarizer.generator.loaded  # type: ignore[attr-defined]
    rows = []
    for line, brief in zip(lines, briefs, strict=True):
        grounding = f"{line.title} {line.source}"
        written = f"{brief.summary} {brief.significance}".strip()
        fallback = brief.needs_review and any(
            r.startswith("model brief rejected") for r in brief.review_reasons
        )
        runs = validate.english_runs(written) if not fallback else []
        rows.append(
            {
                "id": line.id,
                "kind": line.kind,
                "summary": brief.summary,
                "significance": brief.significance,
                "reference": f"{line.summary} {line.significance}",
                "validated": not brief.needs_review,
                "fallback": fallback,
                "reasons": list(brief.review_reasons),
                "runs": len(runs),
                "grounded_runs": sum(validate.grounded_run(r, grounding) for r in runs),
                "new_numbers": []
                if fallback
                else validate.ungrounded_numbers(written, grounding)
                + validate.scaled_numbers(written),
            }
        )
    return {
        "variant": name,
        "model_id": summarizer.model_id,
        "style": style(cfg),
        "items": len(lines),
        "seconds": round(seconds, 1),
        "load_seconds": round(generator.load_seconds, 1),
        "generated_tokens": generator.generated_tokens,
        "generate_seconds": round(generator.generate_seconds, 1),
        "retried": summarizer.retried,  # type: ignore[attr-defined]
        "rescued": summarizer.rescued,  # type: ignore[attr-defined]
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rows": rows,
    }


def score(result: dict) -> dict:
    """The headline figures of one variant's run."""
    import sacrebleu

    rows = result["rows"]
    hyps = [f"{r['summary']} {r['significance']}".strip() for r in rows]
    refs = [r["reference"] for r in rows]
    written = [r for r in rows if not r["fallback"]]
    runs = sum(r["runs"] for r in written)
    return {
        "variant": result["variant"],
        "validated": sum(r["validated"] for r in rows) / len(rows),
        "fallbacks": sum(r["fallback"] for r in rows),
        "term_precision": sum(r["grounded_runs"] for r in written) / runs if runs else 1.0,
        "numbers_in_no_source": sum(len(r["new_numbers"]) for r in written),
        "chrf": sacrebleu.corpus_chrf(hyps, [refs]).score,
        "tok_per_s": result["generated_tokens"] / max(result["generate_seconds"], 1e-9),
        "s_per_brief": result["seconds"] / len(rows),
        "load_s": result["load_seconds"],
        "peak_mb": result["peak_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default="base-fewshot,adapter")
    parser.add_argument("--adapter", default="builtin", help="folder, builtin (shipped) or none")
    parser.add_argument("--eval", type=Path, help="corpus file (default: the bundled eval split)")
    parser.add_argument("--limit", type=int, default=0, help="first N items only")
    parser.add_argument("--state", type=Path, default=ROOT / "examples" / ".digest")
    parser.add_argument("--out", type=Path, default=Path("bench-briefs.json"))
    parser.add_argument("--device", default="cpu", help="cpu or cuda (summarizer.device)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: run one variant, print JSON
    args = parser.parse_args()
    lines = read(args.eval) if args.eval else bundled("mixed", "eval")
    if args.limit:
        lines = lines[: args.limit]
    if args.one:
        settings = dict(VARIANTS[args.one])
        if args.one != "base-fewshot":
            settings["adapter"] = args.adapter
        found = run_one(args.one, settings, lines, args.state, args.device)
        print(json.dumps(found, ensure_ascii=False))
        return
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    results = []
    for name in args.variants.split(","):
        child = [sys.executable, __file__, "--one", name, "--adapter", args.adapter]
        child += ["--state", str(args.state), "--limit", str(args.limit), "--device", args.device]
        child += ["--eval", str(args.eval)] if args.eval else []
        done = subprocess.run(child, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    figures = [score(r) for r in results]
    print(
        f"{'variant':<14} {'validated':>9} {'fallbacks':>9} {'term prec':>9} {'new nums':>8} "
        f"{'chrF':>6} {'tok/s':>6} {'s/brief':>7} {'load s':>6} {'peak MB':>7}"
    )
    for f in figures:
        print(
            f"{f['variant']:<14} {f['validated']:>9.1%} {f['fallbacks']:>9} "
            f"{f['term_precision']:>9.3f} {f['numbers_in_no_source']:>8} {f['chrf']:>6.1f} "
            f"{f['tok_per_s']:>6.1f} {f['s_per_brief']:>7.1f} {f['load_s']:>6.1f} "
            f"{f['peak_mb']:>7}"
        )
    args.out.write_text(
        json.dumps({"figures": figures, "runs": results}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    print(f"every brief: {args.out}")


if __name__ == "__main__":
    main()
