"""draft: select and summarize into the issue file for a date (or explain the selection)."""

from __future__ import annotations

import json
from datetime import date

import click

from digest import issue as issues
from digest.cli.common import (
    CONTEXT,
    EXIT_CODES_HELP,
    AppState,
    date_option,
    parse_day,
    pass_app,
    progress_bars,
)
from digest.config import Config
from digest.draft import make_draft, select_for
from digest.errors import EXIT_NOTHING_NEW
from digest.progress import NoProgress, ProgressSummarizer
from digest.select import Candidate, Selection
from digest.store import Store


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Select and summarize stored items into the draft for a date.

Writes issues/NNNN.md. Re-running for the same date keeps the file and its number and only
appends items that are new since; an editor's changes are never overwritten.

--explain writes nothing: it prints every candidate for the date with its score and the
reasons (interests matched, cross-links, announce type, Reddit score, freshness), the reserves
over each section's cap, and what was left out and why. Add --json for one JSON document on
stdout.

\b
Example:
  digest draft
  digest draft --date 2026-11-23
  digest draft --explain
  digest draft --explain --json | jq '.chosen'
""",
)
@date_option
@click.option("--explain", is_flag=True, help="Show each candidate's score and reasons; no write.")
@click.option("--json", "as_json", is_flag=True, help="With --explain: print JSON on stdout.")
@pass_app
def draft(app: AppState, day: str | None, explain: bool = False, as_json: bool = False) -> int:
    """`digest draft`: select and summarize into a date's draft (see the help text)."""
    config = app.config
    when = parse_day(config, day)
    if as_json and not explain:
        raise click.UsageError("--json goes with --explain: digest draft --explain --json")
    if explain:
        selection = _selection(config, when)
        if as_json:
            click.echo(json.dumps(explanation(selection, when), ensure_ascii=False, indent=2))
        else:
            click.echo(render_explanation(config, selection, when))
        return 0 if any(selection.chosen.values()) else EXIT_NOTHING_NEW
    with Store(config.state_path) as store, progress_bars(app) as bars:
        # Summarizing with a model takes minutes: a bar on a terminal, nothing in cron.
        summarizer = ProgressSummarizer(config, bars or NoProgress())
        result = make_draft(config, store, when, summarizer)
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


def _selection(config: Config, day: date) -> Selection:
    """Selection for the day as its draft sees it (`draft.claims`, the one rule)."""
    with Store(config.state_path) as store:
        return select_for(config, store, day, issues.load_all(config.issues_path))


def explanation(selection: Selection, day: date) -> dict[str, object]:
    """`draft --explain --json`: the date, the chosen candidates per section and the reserves
    (each with score and reasons), and every rejected item with why."""
    return {
        "date": day.isoformat(),
        "chosen": {s: [c.to_json() for c in cs] for s, cs in selection.chosen.items()},
        "reserves": [c.to_json() for c in selection.reserves],
        "rejected": [
            {"id": item.id, "title": item.title, "source_id": item.source_id, "reason": why}
            for item, why in selection.rejected
        ],
    }


def render_explanation(config: Config, selection: Selection, day: date) -> str:
    """`draft --explain` as text: each section's chosen items against its cap, the reserves and
    the items left out, with scores and reasons (titles cut at 70 characters)."""
    lines = [f"selection for {day.isoformat()}"]
    for section in config.sections:
        chosen = selection.chosen.get(section.id, [])
        if not section.sources:  # the reference's 트위터: only the editor fills it
            add = f"`digest review add URL --section {section.id}`"
            lines.append(f"\n{section.title} [{section.id}] — no sources: {add} fills it")
            continue
        lines.append(f"\n{section.title} [{section.id}] — {len(chosen)} of max {section.max_items}")
        lines.extend(_candidate_lines(c) for c in chosen)
    if selection.reserves:
        lines.append(f"\nreserves (over a cap) — {len(selection.reserves)}")
        lines.extend(_candidate_lines(c) for c in selection.reserves)
    if selection.rejected:
        lines.append(f"\nleft out — {len(selection.rejected)}")
        lines.extend(
            f"  ✗ {item.id}  {item.title[:70]} — {why}" for item, why in selection.rejected
        )
    return "\n".join(lines)


def _candidate_lines(candidate: Candidate) -> str:
    head = f"  {candidate.score:7.2f}  {candidate.item.id}  {candidate.item.title[:70]}"
    detail = [f"           · {reason}" for reason in candidate.reasons]
    if candidate.discusses:
        detail.append(f"           · discusses {candidate.discusses}")
    detail.extend(f"           · discussion: {d.id}" for d in candidate.discussions)
    return "\n".join([head, *detail])


COMMANDS = [draft]
