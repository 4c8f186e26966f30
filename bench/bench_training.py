"""Train adapter variants and measure each on the evaluation split: the sweep a GPU session runs.

    .venv/bin/python bench/bench_training.py --variants r16-e3,r32-e3,r16-e4-lr2e-4 --device cuda
    .venv/bin/python bench/bench_training.py --variants r16-e1 --max-steps 2 --limit 4  # smoke test

A variant is `r<rank>-e<epochs>` with optional `-lr<rate>` and `-a<alpha>` (alpha defaults to
twice the rank, as the shipped adapter's 32 for rank 16). Each one is trained by digest's own
`train_adapter` on the bundled training corpus (same split seed as `digest train`, the best
epoch kept), then drafted on the evaluation split through the real summarizer and scored by
`bench_briefs.py` (validated share, term precision, numbers in no source, chrF). One table at
the end; every adapter and its `training.json` stay in --out, so the best one can be copied to
`digest/data/adapters/briefs-mixed/` with its model card.

On a CPU a full variant takes about 2.3 h to train (docs/benchmarks.md); on one GPU about a
minute, so a sweep of several variants fits in a 15-minute GPU session (docs/summarizer.md,
"Training on a GPU").
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.summarize.corpus import training_set  # noqa: E402
from digest.summarize.embedded import embedded_folder  # noqa: E402
from digest.summarize.train import Hyperparameters, train_adapter  # noqa: E402

_VARIANT = re.compile(
    r"^r(?P<rank>\d+)-e(?P<epochs>\d+)(?:-lr(?P<lr>[0-9.e-]+?))?(?:-a(?P<alpha>\d+))?$"
)


def hyperparameters(variant: str, max_steps: int) -> Hyperparameters:
    """The settings a variant name spells; raises SystemExit naming the form for a bad one."""
    found = _VARIANT.match(variant)
    if found is None:
        sys.exit(f"variant {variant!r}: write r<rank>-e<epochs>[-lr<rate>][-a<alpha>] (r16-e3)")
    rank = int(found["rank"])
    hp = Hyperparameters(
        rank=rank,
        alpha=int(found["alpha"] or 2 * rank),
        epochs=int(found["epochs"]),
        max_steps=max_steps,
    )
    return replace(hp, learning_rate=float(found["lr"])) if found["lr"] else hp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default="r16-e2,r16-e3,r32-e3")
    parser.add_argument(
        "--device", default="auto", help="auto, cpu or cuda (training and drafting)"
    )
    parser.add_argument("--state", type=Path, default=ROOT / "examples" / ".digest")
    parser.add_argument("--out", type=Path, default=Path("bench-training"))
    parser.add_argument("--max-steps", type=int, default=0, help="cut each run short (smoke test)")
    parser.add_argument("--limit", type=int, default=0, help="first N evaluation entries only")
    args = parser.parse_args()
    plans = {v: hyperparameters(v, args.max_steps) for v in args.variants.split(",")}
    base = embedded_folder(args.state)
    lines, corpora = training_set([], "mixed")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, hp in plans.items():
        folder = args.out / name
        started = time.monotonic()
        trained = train_adapter(base, lines, folder, hp, device=args.device, corpora=corpora)
        took = time.monotonic() - started
        print(
            f"{name}: trained in {took:.0f} s on {trained.device}, validation loss "
            f"{trained.validation_loss}, kept epoch {trained.best_epoch}",
            flush=True,
        )
        measured = args.out / f"{name}.json"
        command = [sys.executable, str(ROOT / "bench" / "bench_briefs.py"), "--variants", "adapter"]
        command += ["--adapter", str(folder), "--state", str(args.state), "--out", str(measured)]
        command += ["--limit", str(args.limit), "--device", _drafting_device(trained.device)]
        subprocess.run(command, check=True)
        figures = json.loads(measured.read_text(encoding="utf-8"))["figures"][0]
        rows.append(
            {
                **figures,
                "variant": name,
                "train_s": trained.seconds,
                "best_epoch": trained.best_epoch,
                "validation_loss": trained.validation_loss,
            }
        )
    (args.out / "summary.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    head = ("variant", "train s", "epoch", "validated", "term prec", "new nums", "chrF")
    print("\n" + " ".join(f"{h:>10}" for h in head))
    for r in rows:
        cells = (
            r["variant"],
            f"{r['train_s']:.0f}",
            r["best_epoch"],
            f"{r['validated']:.1%}",
            f"{r['term_precision']:.3f}",
            r["numbers_in_no_source"],
            f"{r['chrf']:.1f}",
        )
        print(" ".join(f"{c:>10}" for c in cells))
    print(f"adapters and figures: {args.out}")


def _drafting_device(trained_on: str) -> str:
    return "cuda" if trained_on.startswith("cuda") else "cpu"


if __name__ == "__main__":
    main()
