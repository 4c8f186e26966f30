"""daily: the cron job."""

from __future__ import annotations

import click
from rich.markup import escape

from digest.cli.common import (
    CONTEXT,
    AppState,
    date_option,
    err,
    parse_day,
    pass_app,
    progress_bars,
    report_source,
)
from digest.daily import DailyFailed, run_daily

EXIT_CODES_DAILY = """\b
Exit codes: 0 done (an issue was drafted, published or sent) · 1 failed (named on stderr;
also when another run holds the lock, or every source failed) · 2 usage or configuration error ·
3 nothing new (a quiet day, or a re-run that only finished what a crashed run left) ·
4 done, but at least one source failed. docs/scheduling.md explains each for cron and CI."""


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_DAILY,
    help="""The cron job: fetch → draft → publish (when auto_publish) → build → send.

Safe to overlap, kill and re-run: a second run while one is going stops at once (naming the
holder's pid and start time) and changes nothing; the same date gives the same issue and number;
an email already sent is never sent again; site/ is replaced whole. A quiet day makes no issue
(exit 3) unless publish_empty: true. Ends with one summary line on stderr (-q: that line and
errors only); the same facts go to .digest/runs/*.json. `digest status` shows the last runs.

\b
Example:
  digest daily --no-send
  digest daily --date 2026-11-23 --publish
  CRON_TZ=Asia/Seoul
  30 7 * * *  cd /srv/newsletter && .venv/bin/digest -q daily
""",
)
@date_option
@click.option(
    "--send/--no-send", default=True, help="Email the issue once published (default: send)."
)
@click.option(
    "--publish/--no-publish",
    default=None,
    help="Publish the draft without review (default: auto_publish from feeds.yaml).",
)
@pass_app
def daily(app: AppState, day: str | None, send: bool, publish: bool | None) -> int:
    """`digest daily`: the whole pipeline for one date (see the help text)."""
    config = app.config
    when = parse_day(config, day)
    on_source = report_source(app) if app.verbosity >= 0 else None
    with progress_bars(app) as bars:
        try:
            report = run_daily(
                config, when, publish=publish, send=send, on_source=on_source, progress=bars
            )
        except DailyFailed as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            report = exc.report
    if report.took_over:
        app.say(f"finished the work of a run that died: {report.took_over}")
    # The one line cron mails and CI shows: always printed, even with -q.
    err.print(report.summary_line(), markup=False, highlight=False)
    return report.exit_code


COMMANDS = [daily]
