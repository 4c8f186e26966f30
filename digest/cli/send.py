"""send: email the latest published issue."""

from __future__ import annotations

from pathlib import Path

import click

from digest import issue as issues
from digest import newsletter
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, pass_app
from digest.errors import EXIT_FAILED, EXIT_NOTHING_NEW, NothingNew
from digest.issue import Issue
from digest.store import Store


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Email the latest published issue to every subscriber, once.

SMTP settings come from the environment: DIGEST_SMTP_HOST, DIGEST_SMTP_PORT, DIGEST_SMTP_USER,
DIGEST_SMTP_PASSWORD, DIGEST_SMTP_STARTTLS=1 or DIGEST_SMTP_SSL=1. A recipient already sent
this issue is skipped, so re-running after a failure sends only the rest.

\b
Example:
  digest send --dry-run            # one .eml per subscriber in outbox/
  digest send
  digest send --to me@example.com --resend
""",
)
@click.option(
    "--dry-run", is_flag=True, help="Write .eml files instead of sending; records nothing."
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Folder for --dry-run (default: email.outbox)."
)
@click.option("--to", "to", metavar="ADDRESS", help="Send only to this address.")
@click.option("--resend", is_flag=True, help="Send even to those who already got it.")
@click.option("--number", type=int, help="Send this issue number instead of the latest.")
@pass_app
def send(
    app: AppState, dry_run: bool, out: Path | None, to: str | None, resend: bool, number: int | None
) -> int:
    published = issues.published(issues.load_all(app.config.issues_path))
    if number is not None:
        published = [i for i in published if i.number == number]
    if not published:
        raise NothingNew("no published issue to send — run `digest publish` first")
    return send_issue(app, published[-1], dry_run=dry_run, resend=resend, to=to, out=out)


def send_issue(
    app: AppState, issue: Issue, *, dry_run: bool, resend: bool, to: str | None, out: Path | None
) -> int:
    config = app.config
    subscribers = [newsletter.Subscriber(to)] if to else newsletter.load_subscribers(config)
    if dry_run:
        folder = out or config.path(config.email.outbox)
        report = newsletter.write_eml(config, issue, folder, subscribers)
        app.say(
            f"{issue.title}: {len(report.written)} .eml written to {folder / f'{issue.number:04d}'}"
        )
        return 0
    settings = newsletter.SmtpSettings.from_env()
    with Store(config.state_path) as store:
        report = newsletter.send(config, issue, store, subscribers, settings, resend=resend)
    for address, reason in report.failed.items():
        app.say(f"✗ {address}: {reason}")
    app.say(
        f"{issue.title}: {len(report.sent)} sent, {len(report.skipped)} already sent, "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        return EXIT_FAILED
    return 0 if report.sent else EXIT_NOTHING_NEW


COMMANDS = [send]
