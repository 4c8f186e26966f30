"""fetch: pull sources into the store."""

from __future__ import annotations

import json

import click

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, err, pass_app, report_source
from digest.errors import EXIT_NOTHING_NEW, EXIT_SOURCE_FAILED
from digest.fetch import fetch_all
from digest.store import Store


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Pull every source (or one) into the store.

Keeps everything a source returns (up to 5,000 items an answer, the newest); selection decides
later. Sources answer 304 when nothing changed since the last fetch. Then it prunes the items
no source has listed for select.window_days + 30 days and no issue file names (none when
window_days is null). With --json, every normalized item a source returned is printed
on stdout, one JSON object per line (times in ISO 8601); messages stay on stderr.

\b
Example:
  digest fetch
  digest fetch --source arxiv-cs -v
  digest fetch --source reddit-ml --json | jq .title
""",
)
@click.option("--source", metavar="ID", help="Fetch only this source id from feeds.yaml.")
@click.option("--json", "as_json", is_flag=True, help="Print each returned item as one JSON line.")
@pass_app
def fetch(app: AppState, source: str | None, as_json: bool = False) -> int:
    """`digest fetch`: pull every source, or one, into the store (see the help text)."""
    config = app.config
    with Store(config.state_path) as store:
        report = fetch_all(config, store, only=source, on_done=report_source(app))
    if as_json:
        for outcome in report.outcomes:
            for item in outcome.returned:
                click.echo(json.dumps(item.to_json(), ensure_ascii=False, sort_keys=True))
    line = f"fetched {len(report.outcomes)} sources: {report.new_items} new items" + (
        f", {len(report.failed)} failed" if report.failed else ""
    )
    if report.pruned:
        line += f", {report.pruned:,} old items pruned"
    err.print(line, markup=False)
    if report.failed:
        return EXIT_SOURCE_FAILED
    return 0 if report.new_items else EXIT_NOTHING_NEW


COMMANDS = [fetch]
