"""Benchmark: the fetch stage against 50 slow feeds, a second conditional run, a 20 MB feed.

    .venv/bin/python bench/bench_fetch.py          # --feeds 50 --delay 0.3

A local server listens on 127.0.0.1 … 127.0.0.N (one loopback address per feed, so each feed
is its own host, as on the internet; our client allows one connection per host). Every answer
— 200 or 304 — comes after `--delay` seconds. It measures:

1. the slowest single feed, each fetched alone into an empty store;
2. all N feeds in one `fetch_all` (target: ≤ 2× the slowest single feed, not N×);
3. the same again: every feed answers 304 to our stored ETag (target: all 304, 0 body bytes);
4. peak Python heap (tracemalloc) fetching a 200 KB feed and a 20 MB feed, with and without a
   Content-Length (target: flat — an announced 20 MB is refused before reading; an unannounced
   one is streamed and refused at the 10 MB cap, never held whole or twice).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.config import Config  # noqa: E402
from digest.fetch import fetch_all  # noqa: E402
from digest.http import HttpClient  # noqa: E402
from digest.store import Store  # noqa: E402


def feed_xml(n: int, items: int = 20, pad: int = 0) -> bytes:
    entries = "".join(
        f"<item><title>Feed {n} post {i}</title><link>https://feed{n}.example/p/{i}</link>"
        f"<pubDate>Mon, 23 Nov 2026 0{i % 10}:00:00 GMT</pubDate>"
        f"<description>Post {i} of feed {n}. {'x' * pad}</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>https://feed{n}.example/</link><description>d</description>{entries}"
        "</channel></rss>"
    ).encode()


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.body_bytes = 0

    def add(self, status: int, size: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.body_bytes += size

    def reset(self) -> None:
        with self.lock:
            self.statuses, self.body_bytes = {}, 0


def make_handler(bodies: dict[str, bytes], delay: float, counters: Counters) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                counters.add(304, 0)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if "chunked" not in self.path:  # HTTP/1.0: no length means "until I close"
                self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            try:
                # In 1 MB pieces, so a client that stops reading at its cap stops the copy.
                for start in range(0, len(body), 1 << 20):
                    self.wfile.write(body[start : start + (1 << 20)])
                    counters.add(200 if start == 0 else 0, min(1 << 20, len(body) - start))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client refused the rest: that is the point of the cap

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def config_for(tmp: Path, port: int, feeds: int) -> Config:
    sources = [
        {"id": f"feed{n}", "type": "rss", "url": f"http://127.0.0.{n + 1}:{port}/feed{n}.xml"}
        for n in range(feeds)
    ]
    return Config.model_validate(
        {
            "sections": [{"id": "news", "title": "뉴스", "sources": sources}],
            "state_dir": str(tmp / "state"),
            "base_dir": tmp,
        }
    )


def one_source(tmp: Path, source_id: str, url: str) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"id": "news", "title": "뉴스",
                 "sources": [{"id": source_id, "type": "rss", "url": url}]}
            ],
            "base_dir": tmp,
        }
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.3)
    args = parser.parse_args()
    counters = Counters()
    bodies = {f"/feed{n}.xml": feed_xml(n) for n in range(args.feeds)}
    bodies["/small.xml"] = feed_xml(0, items=200, pad=800)  # ~200 KB
    bodies["/huge.xml"] = feed_xml(0, items=17_000, pad=1000)  # ~20 MB, with Content-Length
    bodies["/huge-chunked.xml"] = bodies["/huge.xml"]  # the same, length not announced
    handler = make_handler(bodies, args.delay, counters)
    servers = []
    port = 0
    for n in range(args.feeds):
        server = ThreadingHTTPServer((f"127.0.0.{n + 1}", port), handler)
        server.daemon_threads = True
        port = server.server_address[1]  # every address on the same port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    http = HttpClient(timeout=30.0, total_timeout=60.0)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            tmp = Path(scratch)
            config = config_for(tmp, port, args.feeds)
            singles = []
            for n in range(args.feeds):
                with Store(tmp / f"single{n}") as store:
                    started = time.perf_counter()
                    report = fetch_all(config, store, HttpClient(), only=f"feed{n}")
                    singles.append(time.perf_counter() - started)
                    assert not report.failed, report.failed
            slowest = max(singles)

            counters.reset()
            with Store(config.state_path) as store:
                started = time.perf_counter()
                first = fetch_all(config, store, http)
                cold = time.perf_counter() - started
            assert not first.failed, [o.error for o in first.failed]
            cold_bytes = counters.body_bytes

            counters.reset()
            with Store(config.state_path) as store:
                started = time.perf_counter()
                second = fetch_all(config, store, http)
                warm = time.perf_counter() - started
            not_modified = sum(o.not_modified for o in second.outcomes)
            warm_bytes = counters.body_bytes

            peaks = {}
            for name in ("small", "huge", "huge-chunked"):
                url = f"http://127.0.0.1:{port}/{name}.xml"
                one = one_source(tmp, name, url)
                with Store(tmp / f"mem-{name}") as store:
                    tracemalloc.start()
                    report = fetch_all(one, store, HttpClient())
                    peaks[name] = (tracemalloc.get_traced_memory()[1], report.outcomes[0])
                    tracemalloc.stop()
    finally:
        for server in servers:
            server.shutdown()

    median = sorted(singles)[len(singles) // 2]
    verdict = "ok" if cold <= 2 * slowest else "OVER TARGET"
    print(f"feeds: {args.feeds}, each answering after {args.delay * 1000:.0f} ms")
    print(f"slowest single feed:        {slowest:6.2f} s (median {median:.2f} s)")
    print(
        f"all feeds, first run:       {cold:6.2f} s = {cold / slowest:.2f}× the slowest single "
        f"({verdict}); {first.new_items} items, {cold_bytes:,} body bytes"
    )
    print(
        f"all feeds, second run:      {warm:6.2f} s; {not_modified}/{args.feeds} answered 304; "
        f"{warm_bytes:,} body bytes moved"
    )
    for name, (peak, outcome) in peaks.items():
        size = len(bodies[f"/{name}.xml"])
        result = outcome.error or f"{outcome.items} items"
        print(f"peak heap, {name} ({size / 1e6:.1f} MB): {peak / 1e6:6.1f} MB ({result})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
