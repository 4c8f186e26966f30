"""review and publish: the editor's desk."""

from __future__ import annotations

import click

from digest import review as desk
from digest.cli.common import (
    CONTEXT,
    EXIT_CODES_HELP,
    AppState,
    date_option,
    echo_json,
    err,
    parse_day,
    pass_app,
)
from digest.issue import Issue


@click.group(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    help="""The editor's commands on the current draft (default: list it).

\b
Available now:
  list [--json]         items per section: number, flags, source, title
  approve               mark the draft ready for `digest publish`
Coming next (docs/roadmap.md): show N, edit [N], drop N, keep N, move N --to M,
note N TEXT, regen N, add URL, keywords.
The draft is the Markdown file in issues/: editing it by hand is always allowed.

\b
Example:
  digest review
  digest review list --json
  digest review approve && digest publish
""",
)
@date_option
@click.pass_context
def review(ctx: click.Context, day: str | None) -> None:
    ctx.meta["review_day"] = day
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_items)


@review.command(
    "list",
    context_settings=CONTEXT,
    help="""Items of the draft per section, numbered as the other review commands use them.

\b
Example:
  digest review list
  digest review list --json | jq '.items[].title'
""",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.pass_context
def list_items(ctx: click.Context, as_json: bool = False) -> None:
    app = ctx.find_object(AppState)
    assert app is not None
    day = ctx.meta.get("review_day")
    issue = desk.find_draft(app.config, parse_day(app.config, day) if day else None)
    if as_json:
        echo_json(_as_json(issue))
        return
    err.print(f"{issue.title} — {issue.status}", markup=False, style="bold")
    number = 0
    for section in issue.sections:
        err.print(f"\n{section.title}", markup=False, style="bold")
        for item in section.items:
            number += 1
            flags = " [검토 필요]" if item.needs_review else ""
            glossary = " [토막상식]" if item.glossary_note else ""
            err.print(
                f"{number:>3}. {item.title}{flags}{glossary}  ({item.source_id})", markup=False
            )


def _as_json(issue: Issue) -> dict[str, object]:
    rows = []
    number = 0
    for section in issue.sections:
        for item in section.items:
            number += 1
            rows.append(
                {
                    "n": number,
                    "section": section.id,
                    "id": item.id,
                    "title": item.title,
                    "url": item.url,
                    "source": item.source_id,
                    "needs_review": item.needs_review,
                    "has_glossary_note": bool(item.glossary_note),
                }
            )
    return {
        "number": issue.number,
        "date": issue.date.isoformat(),
        "status": issue.status,
        "title": issue.title,
        "items": rows,
    }


@review.command(
    context_settings=CONTEXT,
    help="""Mark the draft ready; `digest publish` then freezes it.

\b
Example:
  digest review approve
  digest review --date 2026-11-23 approve
""",
)
@click.pass_context
def approve(ctx: click.Context) -> None:
    app = ctx.find_object(AppState)
    assert app is not None
    day = ctx.meta.get("review_day")
    issue = desk.approve(app.config, parse_day(app.config, day) if day else None)
    app.say(f"{issue.title}: approved — run `digest publish`")


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Freeze the approved draft as the next numbered issue and build the site.

Numbers are sequential over published issues (제 0001호, 제 0002호, …). Publishing an issue
that is already published changes nothing.

\b
Example:
  digest review approve && digest publish
  digest publish --date 2026-11-23 --no-send
""",
)
@date_option
@click.option(
    "--send/--no-send", default=False, help="Email it right away (default: no; see `digest send`)."
)
@pass_app
def publish(app: AppState, day: str | None, send: bool) -> int:
    from digest.render import build_site

    config = app.config
    draft = desk.find_draft(config, parse_day(config, day) if day else None)
    issue = desk.publish(config, draft)
    built = build_site(config)
    app.say(f"{issue.title}: published — site {built.pages} pages in {built.output}")
    if send:
        from digest.cli.send import send_issue

        return send_issue(app, issue, dry_run=False, resend=False, to=None, out=None)
    return 0


COMMANDS = [review, publish]
