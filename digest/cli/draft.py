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
from digest.draft import make_draft, outside_window, select_for
from digest.errors import EXIT_NOTHING_NEW
from digest.progress import NoProgress, ProgressSummarizer
from digest.select import Candidate, Selection
from digest.store import Outside, Store
from digest.summarize.usage import metered, spent


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

Only the items the date window (select.window_days) can take are read from the store. --full
reads every stored item instead and judges each by the same rules: with --explain it lists all
of them with why they were left out, and an undated item no source lists any more is offered
again. The store keeps items for the window plus 30 days (docs/sources.md, Retention).

\b
Example:
  digest draft
  digest draft --date 2026-11-23
  digest draft --explain
  digest draft --explain --json | jq '.chosen'
  digest draft --explain --full
""",
)
@date_option
@click.option("--explain", is_flag=True, help="Show each candidate's score and reasons; no write.")
@click.option("--json", "as_json", is_flag=True, help="With --explain: print JSON on stdout.")
@click.option("--full", is_flag=True, help="Judge every stored item, not only the window's.")
@pass_app
def draft(
    app: AppState,
    day: str | None,
    explain: bool = False,
    as_json: bool = False,
    full: bool = False,
) -> int:
    """`digest draft`: select and summarize into a date's draft (see the help text)."""
    config = app.config
    when = parse_day(config, day)
    if as_json and not explain:
        raise click.UsageError("--json goes with --explain: digest draft --explain --json")
    if explain:
        selection, outside = _selection(config, when, full)
        if as_json:
            found = explanation(selection, when, outside)
            click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        else:
            click.echo(render_explanation(config, selection, when, outside))
        return 0 if any(selection.chosen.values()) else EXIT_NOTHING_NEW
    with Store(config.state_path) as store, progress_bars(app) as bars:
        # Summarizing with a model takes minutes: a bar on a terminal, nothing in cron.
        summarizer = ProgressSummarizer(config, bars or NoProgress())
        with metered() as meter:
            result = make_draft(config, store, when, summarizer, full=full)
    used = spent(meter.to_json(config.summarizer.price_per_1k_tokens))
    issue = result.issue
    where = issue.path or config.issues_path / issues.file_name(issue.number)
    if not result.changed:
        app.say(f"{issue.title}: unchanged ({issue.status}) — {where}")
        return EXIT_NOTHING_NEW
    app.say(
        f"{issue.title}: {len(issue.items)} items ({result.added} new, {result.cached} briefs "
        f"cached{used}) — {where}"
    )
    return 0


def _selection(config: Config, day: date, full: bool) -> tuple[Selection, Outside | None]:
    """Selection for the day as its draft sees it (`draft.claims`, the one rule), and what it
    did not read (None with `full`)."""
    with Store(config.state_path) as store:
        selection = select_for(config, store, day, issues.load_all(config.issues_path), full=full)
        return selection, outside_window(config, store, day, full)


def explanation(
    selection: Selection, day: date, outside: Outside | None = None
) -> dict[str, object]:
    """`draft --explain --json`: the date, the chosen candidates per section and the reserves
    (each with score and reasons), every rejected item with why, and `outside_window`: how
    many stored items the date window did not read, published before and after it (null with
    --full or without a window)."""
    return {
        "date": day.isoformat(),
        "chosen": {s: [c.to_json() for c in cs] for s, cs in selection.chosen.items()},
        "reserves": [c.to_json() for c in selection.reserves],
        "rejected": [
            {"id": item.id, "title": item.title, "source_id": item.source_id, "reason": why}
            for item, why in selection.rejected
        ],
        "outside_window": (
            {"before": outside.older, "after": outside.later} if outside is not None else None
        ),
    }


def render_explanation(
    config: Config, selection: Selection, day: date, outside: Outside | None = None
) -> str:
    """`draft --explain` as text: each section's chosen items against its cap, the reserves and
    the items left out, with scores and reasons (titles cut at 70 characters), and how many
    stored items lie outside the date window, unread (`outside`)."""
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
    if outside is not None and outside.older + outside.later:
        lines.append(
            f"\nnot read — {outside.older + outside.later:,} stored items outside the "
            f"{config.select.window_days}-day window ({outside.older:,} before it, "
            f"{outside.later:,} after {day.isoformat()}); --full lists them"
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
