"""Benchmark: the email for a 30-item issue — its size, the cost of each message, and sending
through a real SMTP server on loopback (aiosmtpd) with the send log in SQLite.

    .venv/bin/python bench/bench_email.py            # --recipients 300

Prints one JSON object: HTML bytes (realistic and oversized issue), items shortened, time to
settle the size budget, milliseconds per message (render + inline + MIME), and messages per
second delivered end to end (render, SMTP, two send-log writes per recipient).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from aiosmtpd.controller import Controller  # noqa: E402
from test_email_message import make_config, thirty_item_issue  # noqa: E402

from digest import newsletter  # noqa: E402
from digest.store import Store  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def timed(function: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=300)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-email-"))
    config = make_config(scratch, retry_delay_seconds=0)
    issue, big = thirty_item_issue(), thirty_item_issue(long=3)

    composer, settle_s = timed(lambda: newsletter.Composer(config, issue))
    big_composer, big_settle_s = timed(lambda: newsletter.Composer(config, big))
    readers = [newsletter.Subscriber(f"reader{n}@example.org") for n in range(args.recipients)]
    _, render_s = timed(lambda: [newsletter._payload(composer.message(r)) for r in readers[:100]])

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = newsletter.SmtpSettings("127.0.0.1", port)
        with Store(scratch / ".digest") as store:
            report, send_s = timed(lambda: newsletter.send(config, issue, store, readers, settings))
    finally:
        controller.stop()
    assert len(report.sent) == sink.count == args.recipients, report
    print(
        json.dumps(
            {
                "html_bytes_30_items": composer.html_bytes,
                "html_bytes_30_items_3x_long": big_composer.html_bytes,
                "items_shortened_3x_long": len(big_composer.short),
                "settle_budget_ms": round(settle_s * 1000, 1),
                "settle_budget_3x_long_ms": round(big_settle_s * 1000, 1),
                "ms_per_message": round(render_s * 1000 / 100, 2),
                "recipients": args.recipients,
                "send_s": round(send_s, 2),
                "messages_per_s": round(args.recipients / send_s, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
