"""fetch, draft and daily: the commands that move data down the pipeline."""

from __future__ import annotations

from collections.abc import Callable

import click

from digest import issue as issues
from digest.cli.common import (
    CONTEXT,
    EXIT_CODES_HELP,
    AppState,
    date_option,
    err,
    parse_day,
    pass_app,
)
from digest.daily import run_daily
from digest.draft import make_draft
from digest.errors import EXIT_NOTHING_NEW, EXIT_SOURCE_FAILED
from digest.fetch import SourceOutcome, fetch_all
from digest.store import Store


def _report_source(app: AppState) -> Callable[[SourceOutcome], None]:
    """Failures always reach stderr, named; successes only with -v."""

    def report(outcome: SourceOutcome) -> None:
        if outcome.error:
            err.print(f"✗ {outcome.source_id}: {outcome.error}", markup=False, style="red")
        elif outcome.not_modified:
            app.detail(f"· {outcome.source_id}: not modified (304)")
        else:
            app.detail(f"✓ {outcome.source_id}: {outcome.items} items, {outcome.new} new")

    return report


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Pull every source (or one) into the store.

Keeps everything a source returns; selection decides later. Sources answer 304 when nothing
changed since the last fetch.

\b
Example:
  digest fetch
  digest fetch --source arxiv-cs -v
""",
)
@click.option("--source", metavar="ID", help="Fetch only this source id from feeds.yaml.")
@pass_app
def fetch(app: AppState, source: str | None) -> int:
    config = app.config
    with Store(config.state_path) as store:
        report = fetch_all(config, store, only=source, on_done=_report_source(app))
    line = f"fetched {len(report.outcomes)} sources: {report.new_items} new items" + (
        f", {len(report.failed)} failed" if report.failed else ""
    )
    err.print(line, markup=False)
    if report.failed:
        return EXIT_SOURCE_FAILED
    return 0 if report.new_items else EXIT_NOTHING_NEW


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Select and summarize stored items into the draft for a date.

Writes issues/NNNN.md. Re-running for the same date keeps the file and its number and only
appends items that are new since; an editor's changes are never overwritten.

\b
Example:
  digest draft
  digest draft --date 2026-11-23
""",
)
@date_option
@pass_app
def draft(app: AppState, day: str | None) -> int:
    config = app.config
    when = parse_day(config, day)
    with Store(config.state_path) as store:
        result = make_draft(config, store, when)
    issue = result.issue
    where = issue.path or config.issues_path / issues.file_name(issue.number)
    if not result.changed:
        app.say(f"{issue.title}: unchanged ({issue.status}) — {where}")
        return EXIT_NOTHING_NEW
    app.say(
        f"{issue.title}: {len(issue.items)} items ({result.added} new, {result.cached} briefs "
        f"cached) — {where}"
    )
    return 0


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
    report = run_daily(config, when, publish=publish, send=send, on_source=_report_source(app))
    err.print(report.summary_line(), markup=False, highlight=False)
    return report.exit_code


COMMANDS = [fetch, draft, daily]
