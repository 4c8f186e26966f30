"""daily: the cron job."""

from __future__ import annotations

import click

from digest.cli.common import (
    CONTEXT,
    EXIT_CODES_HELP,
    AppState,
    date_option,
    err,
    parse_day,
    pass_app,
    report_source,
)
from digest.daily import run_daily


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""The cron job: fetch → draft → publish (when auto_publish) → build → send.

Safe to re-run: the same date gives the same issue and number, and an email already sent is
not sent again. Ends with one summary line; the same facts go to .digest/runs/*.json.

\b
Example:
  digest daily --no-send
  digest daily --date 2026-11-23 --publish
  CRON_TZ=Asia/Seoul
  30 7 * * *  cd /srv/newsletter && digest -q daily
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
    config = app.config
    when = parse_day(config, day)
    report = run_daily(config, when, publish=publish, send=send, on_source=report_source(app))
    err.print(report.summary_line(), markup=False, highlight=False)
    return report.exit_code


COMMANDS = [daily]
