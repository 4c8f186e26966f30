"""status: what the daily job has been doing, for the operator who never babysits it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import click

from digest import clock, newsletter
from digest import issue as issues
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, echo_json, pass_app
from digest.config import Config
from digest.errors import DigestError
from digest.http import redact_text
from digest.issue import Issue
from digest.runs import lock_holder, run_records
from digest.store import StatePaths, Store

# How far back to look for the last issue that went out: a send log older than this is history.
SENT_LOOKBACK = 30


@dataclass
class FailingSource:
    """A source whose latest fetch failed: how many fetches and run days in a row, and the
    last error."""

    source_id: str
    failures: int  # fetches in a row, from the store's fetch state
    days: int  # distinct run dates in a row, from the run records
    last_error: str


@dataclass
class Status:
    """What `digest status` shows (and `--json` prints): who holds the run lock now
    (`running`) or died holding it (`died`), the newest run records, the current draft, the
    last published and last sent issue, the email setup or why it is missing, and the failing
    sources."""

    state_dir: str
    running: str | None = None
    died: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    draft: dict[str, Any] | None = None  # the newest draft
    drafts: list[dict[str, Any]] = field(default_factory=list)  # every draft waiting, oldest first
    waiting: str = ""  # "2 drafts waiting since Tuesday (…)"
    published: dict[str, Any] | None = None
    sent: dict[str, Any] | None = None
    email: str = ""
    failing: list[FailingSource] = field(default_factory=list)


def _issue_facts(issue: Issue) -> dict[str, Any]:
    return {
        "number": issue.number,
        "date": issue.date.isoformat(),
        "status": issue.status,
        "items": len(issue.items),
        "published_at": issue.published_at,
        "file": str(issue.path) if issue.path else None,
    }


def gather(config: Config, runs: int) -> Status:
    """Read the lock file, the newest `runs` run records, the issue files and (when it exists)
    the state database into a `Status`, without taking the run lock. Raises IssueFileError
    for an issue file that cannot be parsed."""
    state = Status(str(config.state_path))
    holder = lock_holder(config.state_path)
    if holder is not None:
        who, alive = holder
        if alive:
            state.running = who
        else:
            state.died = who
    records = [_redacted(record) for record in run_records(config.state_path)]
    state.runs = records[:runs]
    all_issues = issues.load_all(config.issues_path)
    today = clock.today(config.timezone)
    for draft in issues.waiting(all_issues):
        facts = _issue_facts(draft)
        # One number per draft in every command: the one it will be published as.
        facts["number"] = issues.expected_number(all_issues, draft)
        facts["age_days"] = (today - draft.date).days
        state.drafts.append(facts)
    if state.drafts:
        state.draft = state.drafts[-1]
    state.waiting = issues.waiting_line(all_issues, today)
    published = issues.published(all_issues)
    if published:
        state.published = _issue_facts(published[-1])
    if not StatePaths(config.state_path).database.is_file():
        state.email = "no state database yet: no run has finished"
        return state
    with Store(config.state_path) as store:
        state.sent, state.email = _last_sent(config, store, published)
        state.failing = _failing(store, records)
    return state


def _redacted(record: dict[str, Any]) -> dict[str, Any]:
    """A run record fit to show: a record written before redaction existed may still hold a
    private feed's ?token= in its summary or errors."""
    shown = dict(record)
    for key in ("summary", "error"):
        if isinstance(shown.get(key), str):
            shown[key] = redact_text(shown[key])
    sources = shown.get("sources")
    if isinstance(sources, list):
        shown["sources"] = [
            {**s, "error": redact_text(s["error"])} if isinstance(s.get("error"), str) else s
            for s in sources
            if isinstance(s, dict)
        ]
    return shown


def _last_sent(
    config: Config, store: Store, published: list[Issue]
) -> tuple[dict[str, Any] | None, str]:
    if not config.email.subscribers:
        return None, "email not configured (email.subscribers in feeds.yaml)"
    try:
        subscribers = newsletter.load_subscribers(config)
    except DigestError as exc:
        return None, str(exc)
    for issue in reversed(published[-SENT_LOOKBACK:]):
        states = [store.sent_status(issue.number, s.email) for s in subscribers]
        if any(s is not None for s in states):
            facts = _issue_facts(issue)
            # The send log's states (newsletter.smtp); no entry yet is `pending`.
            facts["sent"] = states.count(newsletter.SENT)
            facts["refused"] = states.count(newsletter.REFUSED)
            facts["deferred"] = states.count(newsletter.DEFERRED)
            facts["in_doubt"] = states.count(newsletter.SENDING)
            facts["failed"] = facts["refused"] + facts["deferred"]  # not delivered, known so
            facts["pending"] = states.count(None)
            facts["subscribers"] = len(subscribers)
            return facts, ""
    return None, f"no issue sent yet to the {len(subscribers)} subscribers"


def _failing(store: Store, records: list[dict[str, Any]]) -> list[FailingSource]:
    """Sources whose latest fetch failed, with how many days in a row (one run a day or more)."""
    failing = []
    for fetch in store.all_fetch_states():
        if not fetch.failures:
            continue
        days: set[str] = set()
        for record in records:  # newest first
            sources = {str(s.get("source_id")): s for s in record.get("sources") or []}
            if fetch.source_id not in sources:
                continue
            if not sources[fetch.source_id].get("error"):
                break
            days.add(str(record.get("date")))
        error = redact_text(fetch.last_error or "")  # a row stored before redaction, too
        failing.append(FailingSource(fetch.source_id, fetch.failures, len(days), error))
    return failing


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""What the daily job did: the last runs, the current draft, the last published and
sent issue, sources failing day after day, and whether a run is going now.

\b
Example:
  digest status
  digest status --runs 10
  digest status --json | jq '.failing'
""",
)
@click.option("--runs", default=5, show_default=True, help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON on stdout.")
@pass_app
def status(app: AppState, runs: int, as_json: bool) -> None:
    """`digest status`: what the daily job has been doing (see the help text)."""
    state = gather(app.config, max(0, runs))
    if as_json:
        echo_json(asdict(state))
        return
    _print(state)


def _print(state: Status) -> None:
    def line(text: str = "") -> None:
        click.echo(text)  # a listing: stdout, so `digest status | less` works

    if state.running:
        line(f"running now: {state.running}")
    elif state.died:
        line(f"the last run died without finishing ({state.died}); the next run completes it")
    line("last runs:" if state.runs else "last runs: none yet")
    for record in state.runs:
        line(f"  [{record.get('exit_code')}] {record.get('started_at')}  {record.get('summary')}")
    if state.waiting:
        line(f"{state.waiting}:")
    for d in state.drafts if len(state.drafts) > 1 else []:
        days = f"{d['age_days']} day{'s' if d['age_days'] != 1 else ''} old"
        line(
            f"  draft 제 {d['number']:04d}호 ({d['date']}, {d['status']}, {d['items']} items, "
            f"{days})"
        )
    if state.draft and len(state.drafts) == 1:
        d = state.draft
        line(
            f"current draft: 제 {d['number']:04d}호 "
            f"({d['date']}, {d['status']}, {d['items']} items)"
        )
    elif not state.draft:
        line("current draft: none")
    if state.published:
        p = state.published
        line(
            f"last published: 제 {p['number']:04d}호 ({p['date']}, {p['items']} items, "
            f"at {p['published_at'] or '?'})"
        )
    else:
        line("last published: none")
    if state.sent:
        s = state.sent
        counts = [
            (s["refused"], "refused (fix, then `digest send --to ADDRESS --resend`)"),
            (s["in_doubt"], "in doubt (check the server's log)"),
            (s["deferred"], "to retry at the next send"),
            (s["pending"], "not yet"),
        ]
        rest = "".join(f", {n} {what}" for n, what in counts if n)
        line(
            f"last sent: 제 {s['number']:04d}호 ({s['date']}): "
            f"{s['sent']} of {s['subscribers']} sent{rest}"
        )
    else:
        line(f"last sent: none — {state.email}")
    if not state.failing:
        line("failing sources: none")
    for source in state.failing:
        days = (
            f"{source.days} day{'s' if source.days != 1 else ''} in a row, " if source.days else ""
        )
        line(
            f"failing: {source.source_id} — {days}{source.failures} fetch"
            f"{'es' if source.failures != 1 else ''} in a row ({source.last_error})"
        )


COMMANDS = [status]
