"""draft: select and summarize into the issue file for a date."""

from __future__ import annotations

import click

from digest import issue as issues
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, date_option, parse_day, pass_app
from digest.draft import make_draft
from digest.errors import EXIT_NOTHING_NEW
from digest.store import Store


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


COMMANDS = [draft]
