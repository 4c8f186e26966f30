"""publish: freeze the approved draft and deliver it (publish → build → send)."""

from __future__ import annotations

import time

import click

from digest import desk
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, date_option, parse_day, pass_app
from digest.errors import EXIT_NOTHING_NEW


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Freeze the approved draft as the next numbered issue, build the site and email it.

Numbers are sequential over published issues (제 0001호, 제 0002호, …) with no gaps, in date
order: an older draft waiting is published first when it is approved, and refused (named, with
what to do) when it is not. Email goes out only where it is set up (email.subscribers and
DIGEST_SMTP_HOST), oldest issue first; `digest send` retries. Publishing an issue that is
already published changes nothing (exit 3).

\b
Example:
  digest review approve && digest publish
  digest publish --date 2026-11-23 --no-send
  digest publish --force            # this draft without `review approve`
""",
)
@date_option
@click.option("--force", is_flag=True, help="Publish even if the draft is not approved.")
@click.option("--send/--no-send", default=True, help="Email it now (default: yes, if set up).")
@pass_app
def publish(app: AppState, day: str | None, force: bool, send: bool) -> int:
    """`digest publish`: freeze the approved draft, build and email it (see the help text)."""
    from digest.runs import run_lock

    # Publishing, building and sending exclude a concurrent `digest daily` doing the same.
    with run_lock(app.config.state_path, app.config.timezone):
        return _publish(app, day, force, send)


def _publish(app: AppState, day: str | None, force: bool, send: bool) -> int:
    from digest.cli.send import report_sent
    from digest.daily import deliver, email_ready
    from digest.store import Store

    config = app.config
    draft = desk.find_draft(config, parse_day(config, day) if day else None)
    if draft.status == "published":
        app.say(f"{draft.title} is already published — nothing to do")
        return EXIT_NOTHING_NEW
    if not draft.items:
        raise desk.ReviewError(
            f"the draft for {draft.date} has no items — add one with `digest review add URL`"
        )
    started = time.monotonic()
    with Store(config.state_path) as store:
        done = deliver(
            config,
            store,
            draft,
            require_approval=not force,
            older_need_approval=True,  # --force is for this draft; older ones need review
            send=send,
            on_sent=lambda address: app.detail(f"✓ {address}"),
        )
    issue, built = done.issue, done.built
    assert issue is not None
    for older in done.published[:-1]:
        app.say(f"{older.title}: published first (an older draft, approved) — {older.path}")
    app.say(f"{issue.title}: published — {issue.path}, site {built.pages} pages in {built.output}")
    if send and not email_ready(config):
        app.say("email is not set up (email.subscribers, DIGEST_SMTP_HOST): not sent")
    if done.sent is None:
        return 0
    return report_sent(app, issue, done.sent, time.monotonic() - started)


COMMANDS = [publish]
