"""fetch: pull sources into the store."""

from __future__ import annotations

import click

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, err, pass_app, report_source
from digest.errors import EXIT_NOTHING_NEW, EXIT_SOURCE_FAILED
from digest.fetch import fetch_all
from digest.store import Store


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
        report = fetch_all(config, store, only=source, on_done=report_source(app))
    line = f"fetched {len(report.outcomes)} sources: {report.new_items} new items" + (
        f", {len(report.failed)} failed" if report.failed else ""
    )
    err.print(line, markup=False)
    if report.failed:
        return EXIT_SOURCE_FAILED
    return 0 if report.new_items else EXIT_NOTHING_NEW


COMMANDS = [fetch]
