"""Benchmark: a draft's selection against stores of 10k / 100k / 1M items (issue 16, class 9).

    .venv/bin/python bench/bench_store.py                      # 10k, 100k, 1M
    .venv/bin/python bench/bench_store.py --sizes 10000 100000  # a shorter run
    .venv/bin/python bench/bench_store.py --json                # the rows as JSON too

Each size gets a fresh temporary store, filled with synthetic items at a steady 1,000 a day
(`--per-day`; a busy day of arXiv cs.LG with cross-lists is of that order) going back N / 1,000
days: 10k items are 10 days of history, 1M items are 1,000 days. The fill goes through the
store's own write path (`Store.add_items`, one transaction a day, every index kept up), with
retention off, so the history is all there. Then, for the newest day:

- **window**: `draft.select_for`, the draft's selection: the date window's rows only
  (`Store.items_published`), ranked, deduplicated and capped;
- **full**: the same with `full=True`, every stored row (what every draft did before, and what
  `digest draft --full` does), up to `--full-up-to` items (default 100k: at 1M it is minutes
  and gigabytes on a small machine);
- **prune**: the first `retention.prune` at that day, down to the retention span.

Times are the best of `--repeat` runs (wall clock, `time.perf_counter`); peak memory is
tracemalloc's peak during one more run of the same call, made separately because tracing slows
allocation. The figures in docs/benchmarks.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest import retention  # noqa: E402
from digest.config import Config  # noqa: E402
from digest.draft import select_for  # noqa: E402
from digest.models import ArxivFields, Item  # noqa: E402
from digest.select import window  # noqa: E402
from digest.store import Store  # noqa: E402

TODAY = date(2026, 11, 30)
WORDS = [
    *("reinforcement", "learning", "diffusion", "transformer", "agent", "reward", "policy"),
    *("language", "model", "quantization", "sparse", "attention", "retrieval", "benchmark"),
    *("robot", "vision", "alignment", "distillation"),
]


def settings(base: Path) -> Config:
    """Two sections, the default 3-day window, a few interests: the shape of a real feeds.yaml."""
    return Config.model_validate(
        {
            "select": {"window_days": 3},
            "interests": {"reinforcement learning": 2, "diffusion": 1, "agent": 1},
            "sections": [
                {"id": "arxiv", "title": "arXiv", "max_items": 10,
                 "sources": [{"id": "arxiv-cs", "type": "rss", "url": "a.xml"}]},
                {"id": "blogs", "title": "블로그", "max_items": 5,
                 "sources": [{"id": "blog", "type": "rss", "url": "b.xml"}]},
            ],
            "base_dir": base,
        }
    )  # fmt: skip


def day_items(day: date, per_day: int, rng: random.Random) -> list[Item]:
    """`per_day` items published through `day` (UTC): nine in ten arXiv papers, the rest posts;
    titles of five words, summaries of ~300 characters."""
    start = datetime.combine(day, clock_time(), tzinfo=UTC)
    found = []
    for n in range(per_day):
        words = rng.sample(WORDS, 5)
        published = start + timedelta(seconds=rng.randrange(86_400))
        summary = " ".join(rng.choice(WORDS) for _ in range(40))
        if n % 10:
            paper = f"{day:%y%m}.{day.day:02d}{n:03d}"
            url = f"https://arxiv.org/abs/{paper}"
            fields = ArxivFields(paper, ("cs.LG",), "cs.LG", "new")
            found.append(
                Item(f"arxiv:{paper}", " ".join(words).title(), url, "arxiv-cs", "arxiv",
                     published, ("A. Author", "B. Author"), summary, arxiv=fields)
            )  # fmt: skip
        else:
            url = f"https://blog.example.org/{day.isoformat()}/{n}"
            found.append(
                Item(url, " ".join(words).title(), url, "blog", "blogs", published, (), summary)
            )
    return found


def fill(store: Store, total: int, per_day: int) -> float:
    """`total` items, `per_day` a day back from TODAY, each day stored as fetched that evening;
    returns the seconds it took."""
    rng = random.Random(16)
    began = time.perf_counter()
    days = -(-total // per_day)
    for back in range(days - 1, -1, -1):
        day = TODAY - timedelta(days=back)
        count = total - (days - 1) * per_day if back == days - 1 else per_day
        seen = datetime.combine(day, clock_time(23), tzinfo=UTC)
        store.add_items(day_items(day, count, rng), seen)
    return time.perf_counter() - began


def measure(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best seconds of `repeat` runs, tracemalloc peak in MB of one more run, last result)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - began)
    tracemalloc.start()
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return best, peak, result


def run(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Fill a fresh store of `size` items and measure window, full and prune on it."""
    folder = Path(tempfile.mkdtemp(prefix="digest-bench-store-", dir=args.dir))
    try:
        config = settings(folder)
        row: dict[str, Any] = {"items": size}
        with Store(config.state_path) as store:
            row["fill_s"] = round(fill(store, size, args.per_day), 1)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row["db_mb"] = round(config.state_path.joinpath("digest.db").stat().st_size / 2**20)
            seconds, peak, selection = measure(
                lambda: select_for(config, store, TODAY, []), args.repeat
            )
            start, end = window(config, TODAY)
            assert start is not None
            row["window_rows"] = len(store.items_published(start, end))
            row["window_s"], row["window_mb"] = round(seconds, 3), round(peak, 1)
            row["chosen"] = sum(len(c) for c in selection.chosen.values())
            if size <= args.full_up_to:
                seconds, peak, full = measure(
                    lambda: select_for(config, store, TODAY, [], full=True), 1
                )
                row["full_s"], row["full_mb"] = round(seconds, 2), round(peak, 1)
                same = [c.item.id for cs in full.chosen.values() for c in cs] == [
                    c.item.id for cs in selection.chosen.values() for c in cs
                ]
                row["same_choice"] = same
            now = datetime.combine(TODAY, clock_time(23, 30), tzinfo=UTC)
            began = time.perf_counter()
            row["pruned"] = retention.prune(config, store, now)
            row["prune_s"] = round(time.perf_counter() - began, 1)
            row["left"] = store.item_count()
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as the Markdown table docs/benchmarks.md shows."""
    lines = [
        "| stored items | fill | db | window: rows read | window: time | window: peak | "
        "full: time | full: peak | first prune | left |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        full = (f"{r['full_s']} s", f"{r['full_mb']} MB") if "full_s" in r else ("—", "—")
        lines.append(
            f"| {r['items']:,} | {r['fill_s']} s | {r['db_mb']} MB | {r['window_rows']:,} | "
            f"{r['window_s'] * 1000:.0f} ms | {r['window_mb']} MB | {full[0]} | {full[1]} | "
            f"{r['pruned']:,} in {r['prune_s']} s | {r['left']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run each size in turn (printing as it goes), then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--per-day", type=int, default=1_000)
    parser.add_argument("--full-up-to", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where the temporary stores go")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        rows.append(run(size, args))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
