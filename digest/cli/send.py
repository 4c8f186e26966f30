"""send: email the latest published issue."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import click

from digest import issue as issues
from digest import newsletter
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, pass_app
from digest.errors import EXIT_FAILED, EXIT_NOTHING_NEW, NothingNew
from digest.issue import Issue
from digest.runs import run_lock
from digest.store import StatePaths, Store


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Email the latest published issue to every subscriber, once.

Subscribers come from the CSV named by email.subscribers in feeds.yaml (email,name,status),
saved as UTF-8, CP949 or UTF-16, as Excel saves it.
SMTP settings come from the environment only: DIGEST_SMTP_HOST, DIGEST_SMTP_PORT,
DIGEST_SMTP_USER, DIGEST_SMTP_PASSWORD, DIGEST_SMTP_STARTTLS=1 or DIGEST_SMTP_SSL=1.
A recipient already sent this issue is skipped, so re-running after a failure sends only the
rest; an address the server refused (5xx) is not tried again without --resend.

--dry-run writes one .eml per subscriber and the issue's email.html and email.txt for a
mailing service (listmonk, Buttondown, Mailchimp); see docs/email.md.

\b
Example:
  digest send --dry-run                       # .eml files in outbox/0042/
  digest send
  digest send --to me@example.com --resend    # one more copy, deliberately
  digest send --dry-run --unsubscribe-link '{{ UnsubscribeURL }}'   # for listmonk
""",
)
@click.option(
    "--dry-run", is_flag=True, help="Write .eml files instead of sending; records nothing."
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Folder for --dry-run (default: email.outbox)."
)
@click.option(
    "--to", "to", metavar="ADDRESS", multiple=True, help="Send only to this address (repeatable)."
)
@click.option("--resend", is_flag=True, help="Send even to those who already got it.")
@click.option("--number", type=int, help="Send this issue number instead of the latest.")
@click.option(
    "--unsubscribe-link",
    metavar="TEXT",
    default="",
    help="--dry-run: the unsubscribe link in email.html, e.g. a mailing service's merge tag.",
)
@pass_app
def send(
    app: AppState,
    dry_run: bool,
    out: Path | None,
    to: tuple[str, ...],
    resend: bool,
    number: int | None,
    unsubscribe_link: str,
) -> int:
    """`digest send`: email the latest published issue, once (see the help text)."""
    published = issues.published(issues.load_all(app.config.issues_path))
    if number is not None:
        published = [i for i in published if i.number == number]
    if not published:
        which = f"issue {number}" if number is not None else "issue"
        raise NothingNew(f"no published {which} to send — run `digest publish` first")
    # A real send takes the run lock: a manual send beside the cron's daily could otherwise
    # read "not sent" in both processes and mail someone twice.
    lock = nullcontext() if dry_run else run_lock(app.config.state_path, app.config.timezone)
    with lock:
        return send_issue(
            app,
            published[-1],
            dry_run=dry_run,
            resend=resend,
            to=to,
            out=out,
            unsubscribe_link=unsubscribe_link,
        )


def send_issue(
    app: AppState,
    issue: Issue,
    *,
    dry_run: bool = False,
    resend: bool = False,
    to: str | tuple[str, ...] | None = None,
    out: Path | None = None,
    unsubscribe_link: str = "",
) -> int:
    """`digest send` for one issue; `digest publish --send` calls it too."""
    wanted = (to,) if isinstance(to, str) else tuple(to or ())
    # A dry run for a mailing service needs no subscriber list; a real send does.
    need_list = not dry_run or bool(app.config.email.subscribers)
    recipients = _recipients(app, wanted, need_list=need_list)
    if dry_run:
        folder = out or app.config.path(app.config.email.outbox)
        return _dry_run(app, issue, folder, recipients, unsubscribe_link)
    return _send(app, issue, recipients, resend=resend)


def _recipients(
    app: AppState, to: tuple[str, ...], *, need_list: bool
) -> list[newsletter.Subscriber]:
    if not to:
        return newsletter.load_subscribers(app.config) if need_list else []
    known = {}
    if app.config.email.subscribers and app.config.path(app.config.email.subscribers).is_file():
        known = {s.email.lower(): s for s in newsletter.load_subscribers(app.config)}
    chosen = []
    for raw in to:
        try:
            address = newsletter.check_address(raw)
        except ValueError as exc:
            raise click.BadParameter(
                f"{raw!r} is not an email address ({exc})", param_hint="--to"
            ) from None
        chosen.append(known.get(address.lower(), newsletter.Subscriber(address)))
    return chosen


def _dry_run(
    app: AppState,
    issue: Issue,
    folder: Path,
    recipients: list[newsletter.Subscriber],
    unsubscribe_link: str,
) -> int:
    config = app.config
    images = {}
    if StatePaths(config.state_path).database.is_file():  # read only; a dry run records nothing
        with Store(config.state_path) as store:
            images = newsletter.feed_images(store, issue)
    report = newsletter.write_eml(
        config, issue, folder, recipients, images, unsubscribe_placeholder=unsubscribe_link
    )
    target = folder / f"{issue.number:04d}"
    app.say(
        f"{issue.title}: {len(recipients)} .eml and email.html, email.txt written to {target}"
        + (
            f" ({report.shortened} items shortened to fit the size budget)"
            if report.shortened
            else ""
        )
    )
    return 0


def _send(
    app: AppState, issue: Issue, recipients: list[newsletter.Subscriber], *, resend: bool
) -> int:
    config = app.config
    settings = newsletter.SmtpSettings.from_env()
    started = time.monotonic()
    with Store(config.state_path) as store:
        report = newsletter.send(
            config,
            issue,
            store,
            recipients,
            settings,
            resend=resend,
            on_sent=lambda address: app.detail(f"✓ {address}"),
        )
    return report_sent(app, issue, report, time.monotonic() - started)


def report_sent(app: AppState, issue: Issue, report: newsletter.SendReport, seconds: float) -> int:
    """What a send did, on stderr; the exit code: 1 when an address failed, 3 when nobody new
    was sent to."""
    for address, reason in report.failed.items():
        app.say(f"✗ {address}: {reason}")
    for address, reason in report.held.items():
        app.say(f"· {address}: {reason}")
    if report.stopped:
        app.say(f"stopped: {report.stopped} — re-run `digest send` to send the rest")
    if report.shortened:
        app.detail(f"{report.shortened} items shortened to fit email.max_html_bytes")
    app.say(
        f"{issue.title}: {len(report.sent)} sent, {len(report.skipped)} already sent, "
        f"{len(report.failed)} failed, {len(report.held)} held, {seconds:.1f} s"
    )
    if report.failed:
        return EXIT_FAILED
    return 0 if report.sent else EXIT_NOTHING_NEW


COMMANDS = [send]
