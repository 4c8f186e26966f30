"""review and publish: the editor's desk."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click
from rich.text import Text

from digest import desk, editor
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
from digest.desk import Listing, Ref
from digest.errors import EXIT_NOTHING_NEW
from digest.issue import FIELD_LABELS, NEEDS_REVIEW, UNREVIEWED, IssueItem

F = TypeVar("F", bound=Callable[..., Any])
# What needs a human stands out on a terminal (rich drops the styles elsewhere).
FLAG_STYLES = {NEEDS_REVIEW: "bold red", UNREVIEWED: "yellow", "generated 토막상식": "magenta"}


@click.group(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    help="""The editor's commands on the current draft (default: list it).

N is an item's number in `digest review list`: the issue's items 1, 2, 3… in section order,
then the dropped ones. RN (R1, R2…) is a reserve: eligible, but left out by selection.
Flags: 검토 필요 (a check failed: `show N` names it), 미검토 (machine-written and not yet
shown, edited or approved), 새 항목, generated 토막상식, edited, 한마디.
The draft is the Markdown file in issues/: editing it by hand is always allowed and is the
same as editing it by command. Bad input (an unknown N, a broken edit, a URL that is not
http(s), a section that does not exist) exits 2 and changes nothing.

\b
Commands:
  list [--reserves] [--json]   items per section with flags; reserves as R1, R2…
  show N [--json]              the item and its brief as it will read
  edit [N]                     $EDITOR (then $VISUAL) on item N or the whole draft
  drop N | keep N|RN           take an item out / bring back a dropped item or a reserve
  move N --to M [--section ID] reorder, within or across sections
  note N "TEXT"                the editor's own comment (한마디)
  regen N [--model M]          summarize item N again
  accept N                     vouch for item N's model-written 토막상식
  add URL [--section ID] [--title T] [--note TEXT]
  keywords [add|remove WORD]   the issue's 키워드, with suggestions
  approve                      mark the draft ready for `digest publish`

\b
Example:
  digest review                          # the newest draft, numbered
  digest review drop 4
  digest review note 2 "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
  digest review move 7 --to 1
  digest review add https://example.com/post --section google
  digest review list --reserves && digest review keep R1
  digest review edit 3                   # fix a brief in $EDITOR
  digest review approve && digest publish
""",
)
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    help="The draft of this date (default: the newest draft); also after the subcommand.",
)
@click.pass_context
def review(ctx: click.Context, day: str | None) -> None:
    ctx.meta["review_day"] = day
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_items)


def day_option(func: F) -> F:
    """`--date` after the subcommand too: `digest review list --date 2026-11-23`."""
    return click.option(
        "--date",
        "day",
        metavar="YYYY-MM-DD",
        help="The draft of this date (default: the newest draft).",
    )(func)


def _app(ctx: click.Context) -> AppState:
    app = ctx.find_object(AppState)
    assert app is not None
    return app


def _day(ctx: click.Context, day: str | None) -> date | None:
    value = day or ctx.meta.get("review_day")
    return parse_day(_app(ctx).config, value) if value else None


# list and show ---------------------------------------------------------------------------------
@review.command(
    "list",
    context_settings=CONTEXT,
    help="""Items of the draft per section, numbered as the other review commands use them.

Flags: 검토 필요 (the model asks for a look), 새 항목 (added by a re-draft since you last
approved), generated 토막상식 (not from the curated glossary), edited (differs from what the
model wrote), 한마디 (has your note). Dropped items follow the issue's items.

\b
Example:
  digest review list
  digest review list --reserves
  digest review list --json | jq '.items[].title'
""",
)
@click.option("--reserves", is_flag=True, help="Also list what selection left out, as R1, R2….")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@day_option
@click.pass_context
def list_items(
    ctx: click.Context, reserves: bool = False, as_json: bool = False, day: str | None = None
) -> None:
    app = _app(ctx)
    shown = desk.listing(app.config, _day(ctx, day), with_reserves=reserves)
    if as_json:
        echo_json(_listing_json(shown, reserves))
        return
    issue = shown.issue
    err.print(f"{shown.title} — {issue.status}  ({issue.path})", markup=False, style="bold")
    section_title = None
    for ref, flags in shown.rows:
        heading = ref.section.title if ref.section else "뺀 항목 (dropped: `keep N` brings back)"
        if heading != section_title:
            section_title = heading
            err.print(f"\n{heading}", markup=False, style="bold")
        line = Text(f"{ref.n:>3}. {ref.item.title}")
        for flag in flags:
            line.append(f" [{flag}]", style=FLAG_STYLES.get(flag, ""))
        line.append(f"  ({ref.item.source_id})")
        err.print(line)
    if not shown.rows:
        err.print("\n(no items — `digest review add URL` or `keep RN`)", markup=False)
    if reserves:
        err.print("\nReserves (`keep RN` adds one)", markup=False, style="bold")
        for r, candidate in enumerate(shown.reserves, 1):
            item = candidate.item
            err.print(
                f"{'R' + str(r):>4}. {item.title}  ({item.section_id}, {item.source_id}, "
                f"score {candidate.score:.2f})",
                markup=False,
            )
        if not shown.reserves:
            err.print("  (none)", markup=False)
    if issue.keywords:
        err.print(f"\n키워드: {', '.join(issue.keywords)}", markup=False)


def _item_json(ref: Ref, flags: list[str]) -> dict[str, object]:
    item = ref.item
    return {
        "n": ref.n,
        "section": ref.section.id if ref.section else None,
        "dropped": ref.dropped,
        "id": item.id,
        "title": item.title,
        "url": item.url,
        "source": item.source_id,
        "model": item.model,
        "flags": flags,
        "needs_review": item.needs_review,
        "review_reasons": item.review_reasons,
        "unreviewed": item.unreviewed,
        "new": item.new,
        "has_glossary_note": bool(item.glossary_note),
        "note": item.note,
    }


def _listing_json(shown: Listing, with_reserves: bool) -> dict[str, object]:
    issue = shown.issue
    data: dict[str, object] = {
        "number": issue.number,
        "date": issue.date.isoformat(),
        "status": issue.status,
        "title": shown.title,
        "path": str(issue.path),
        "keywords": issue.keywords,
        "items": [_item_json(ref, flags) for ref, flags in shown.rows if not ref.dropped],
        "dropped": [_item_json(ref, flags) for ref, flags in shown.rows if ref.dropped],
    }
    if with_reserves:
        data["reserves"] = [
            {
                "r": f"R{r}",
                "id": c.item.id,
                "title": c.item.title,
                "url": c.item.url,
                "section": c.item.section_id,
                "source": c.item.source_id,
                "score": c.score,
                "reasons": list(c.reasons),
            }
            for r, c in enumerate(shown.reserves, 1)
        ]
    return data


@review.command(
    context_settings=CONTEXT,
    help="""One item and its brief as it will read in the issue.

\b
Example:
  digest review show 3
  digest review show 3 --json | jq -r .summary
""",
)
@click.argument("n", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@day_option
@click.pass_context
def show(ctx: click.Context, n: int, as_json: bool, day: str | None) -> None:
    shown = desk.listing(_app(ctx).config, _day(ctx, day))
    ref = desk.resolve(shown.issue, n)
    flags = shown.rows[n - 1][1]
    item = ref.item
    if as_json:
        data = _item_json(ref, flags)
        data.update(
            {
                "key_sentence": item.key_sentence,
                **{name: getattr(item, name) for name in FIELD_LABELS},
                "other_lines": item.other_lines,
            }
        )
        echo_json(data)
        return
    where = ref.section.title if ref.section else "뺀 항목 (dropped)"
    err.print(f"{n}. [{where}] {item.title}", markup=False, style="bold")
    for line in _reads_as(item):
        err.print(line, markup=False)
    for reason in item.review_reasons:
        err.print(f"   {NEEDS_REVIEW}: {reason}", markup=False, style=FLAG_STYLES[NEEDS_REVIEW])
    facts = [f"source {item.source_id}", *flags, *([item.model] if item.model else [])]
    err.print(f"   ({', '.join(facts)})", markup=False, style="dim")
    desk.mark_seen(_app(ctx).config, _day(ctx, day), n)  # shown to the editor: reviewed


def _reads_as(item: IssueItem) -> list[str]:
    lines = [f"   {item.url}"]
    if item.key_sentence:
        lines.append(f"   > {item.key_sentence}")
    lines += [
        f"   [{label}] {getattr(item, name)}"
        for name, label in FIELD_LABELS.items()
        if getattr(item, name)
    ]
    lines += [f"   {line}" for line in item.other_lines]
    return lines


# changing the draft ----------------------------------------------------------------------------
@review.command(
    context_settings=CONTEXT,
    help="""Edit item N, or the whole draft, in your editor ($EDITOR, then $VISUAL, then
sensible-editor, nano or vi).

The file is checked when you save and quit: if it is broken, it opens again with the error on
top. Empty the file to abort. Nothing is written until the edit is valid. With --published NUM
a published issue is corrected: its number, date and status stay, the correction is recorded
in its corrections: list, and the site is rebuilt.

\b
Example:
  digest review edit 3
  EDITOR="code -w" digest review edit
  digest review edit --published 12
""",
)
@click.argument("n", type=int, required=False)
@click.option("--published", type=int, metavar="NUM", help="Correct published issue NUM.")
@day_option
@click.pass_context
def edit(ctx: click.Context, n: int | None, published: int | None, day: str | None) -> int:
    app = _app(ctx)
    result = editor.edit(app.config, _day(ctx, day), n, published=published)
    what = f"item {n}" if n is not None else "the issue"
    if not result.changed:
        app.say(f"{result.issue.title}: {what} unchanged")
        return EXIT_NOTHING_NEW
    app.say(f"{result.issue.title}: {what} saved — {result.issue.path}")
    if result.correction is not None:
        from digest.site import build_site

        built = build_site(app.config)
        app.say(f"correction recorded ({result.correction.what}); site rebuilt in {built.output}")
    return 0


@review.command(
    context_settings=CONTEXT,
    help="""Take item N out of the draft. It stays in the file under 뺀 항목 with its text,
is never proposed again by a re-draft, and `keep` brings it back.

\b
Example:
  digest review drop 4
""",
)
@click.argument("n", type=int)
@day_option
@click.pass_context
def drop(ctx: click.Context, n: int, day: str | None) -> None:
    item = desk.drop(_app(ctx).config, _day(ctx, day), n)
    _app(ctx).say(f"dropped: {item.title} — `digest review keep` brings it back")


@review.command(
    context_settings=CONTEXT,
    help="""Bring back dropped item N, or add reserve RN (see `list --reserves`) to the draft.

\b
Example:
  digest review keep 11
  digest review list --reserves && digest review keep R2
""",
)
@click.argument("which", metavar="N|RN")
@day_option
@click.pass_context
def keep(ctx: click.Context, which: str, day: str | None) -> None:
    item = desk.keep(_app(ctx).config, _day(ctx, day), which)
    _app(ctx).say(f"kept: {item.title}")


@review.command(
    context_settings=CONTEXT,
    help="""Move item N so it becomes number M: within its section, or into section ID.

\b
Example:
  digest review move 5 --to 4
  digest review move 9 --to 1 --section google
""",
)
@click.argument("n", type=int)
@click.option("--to", "to", type=int, required=True, metavar="M", help="Its new number.")
@click.option("--section", "section_id", metavar="ID", help="Move it into this section.")
@day_option
@click.pass_context
def move(ctx: click.Context, n: int, to: int, section_id: str | None, day: str | None) -> None:
    ref = desk.move(_app(ctx).config, _day(ctx, day), n, to, section_id)
    assert ref.section is not None
    _app(ctx).say(f"moved: {ref.item.title} → {ref.n} in {ref.section.title}")


@review.command(
    context_settings=CONTEXT,
    help="""The editor's own comment on item N, shown with it as [한마디]. "" removes it.

\b
Example:
  digest review note 2 "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
""",
)
@click.argument("n", type=int)
@click.argument("text")
@day_option
@click.pass_context
def note(ctx: click.Context, n: int, text: str, day: str | None) -> None:
    item = desk.note(_app(ctx).config, _day(ctx, day), n, text)
    _app(ctx).say(f"{'noted' if item.note else 'note removed'}: {item.title}")


@review.command(
    context_settings=CONTEXT,
    help="""Summarize item N again and replace its brief (and its cached brief). Your 한마디
and free lines stay; the lines replaced are printed so nothing vanishes unseen.

\b
Example:
  digest review regen 3
  digest review regen 3 --model gemma-3-270m
""",
)
@click.argument("n", type=int)
@click.option("--model", metavar="M", help="Use this model instead of summarizer.model.")
@day_option
@click.pass_context
def regen(ctx: click.Context, n: int, model: str | None, day: str | None) -> None:
    app = _app(ctx)
    result = desk.regen(app.config, _day(ctx, day), n, model)
    for line in result.replaced:
        app.say(f"replaced: {line}")
    app.say(f"regenerated: {result.item.title} ({result.item.model})")


@review.command(
    context_settings=CONTEXT,
    help="""Vouch for item N's 토막상식 written by the model (flag: generated 토막상식). Until
then it is marked for you and left off the site's glossary page; notes from the curated
glossary need no acceptance. Editing the note in `review edit N` accepts it too.

\b
Example:
  digest review show 4 && digest review accept 4
""",
)
@click.argument("n", type=int)
@day_option
@click.pass_context
def accept(ctx: click.Context, n: int, day: str | None) -> None:
    item = desk.accept_note(_app(ctx).config, _day(ctx, day), n)
    _app(ctx).say(f"accepted the 토막상식 of: {item.title}")


@review.command(
    context_settings=CONTEXT,
    help="""Add a hand-picked item: a tweet, a blog post the feeds missed. Its title and
description come from the page when it can be read; --title overrides. The section is
guessed from the site (else the first one) unless --section is given.

\b
Example:
  digest review add https://example.com/a-korean-post --section google --note "꼭 읽어볼 것"
  digest review add https://x.com/someone/status/1 --title "Someone on X" --section reddit
""",
)
@click.argument("url")
@click.option("--section", "section_id", metavar="ID", help="The section (feeds.yaml id).")
@click.option("--title", metavar="T", help="The title (default: from the page).")
@click.option("--note", "note_text", metavar="TEXT", help="Your 한마디 on it.")
@day_option
@click.pass_context
def add(
    ctx: click.Context,
    url: str,
    section_id: str | None,
    title: str | None,
    note_text: str | None,
    day: str | None,
) -> None:
    app = _app(ctx)
    item, warning = desk.add(
        app.config, _day(ctx, day), url, section_id=section_id, title=title, note_text=note_text
    )
    if warning:
        err.print(f"warning: {warning}", markup=False, style="yellow")
    app.say(f"added: {item.title}")


@review.command(
    context_settings=CONTEXT,
    help="""The issue's 키워드: show them with suggestions (glossary terms and arXiv categories
of its items), or add / remove words.

\b
Example:
  digest review keywords
  digest review keywords add "Mixture of Experts" RLHF
  digest review keywords remove RLHF
""",
)
@click.argument("action", type=click.Choice(["add", "remove"]), required=False)
@click.argument("words", nargs=-1)
@day_option
@click.pass_context
def keywords(
    ctx: click.Context, action: str | None, words: tuple[str, ...], day: str | None
) -> None:
    if action and not words:
        raise click.UsageError(f"`keywords {action}` needs a WORD, e.g. keywords {action} RLHF")
    if words and not action:
        raise click.UsageError("say add or remove: `digest review keywords add WORD`")
    result = desk.keywords(_app(ctx).config, _day(ctx, day), action, words)
    err.print(f"키워드: {', '.join(result.current) or '(none)'}", markup=False)
    if result.suggested:
        err.print(f"suggested: {', '.join(result.suggested)}", markup=False, style="dim")


@review.command(
    context_settings=CONTEXT,
    help="""Mark the draft ready; `digest publish` then freezes it.

\b
Example:
  digest review approve
  digest review --date 2026-11-23 approve
""",
)
@day_option
@click.pass_context
def approve(ctx: click.Context, day: str | None = None) -> None:
    app = _app(ctx)
    issue = desk.approve(app.config, _day(ctx, day))
    app.say(f"{desk.expected_title(app.config, issue)}: approved — run `digest publish`")


# publish ---------------------------------------------------------------------------------------
@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Freeze the approved draft as the next numbered issue, build the site and email it.

Numbers are sequential over published issues (제 0001호, 제 0002호, …) with no gaps. Email goes
out only where it is set up (email.subscribers and DIGEST_SMTP_HOST); `digest send` retries.
Publishing an issue that is already published changes nothing (exit 3).

\b
Example:
  digest review approve && digest publish
  digest publish --date 2026-11-23 --no-send
  digest publish --force            # without `review approve`
""",
)
@date_option
@click.option("--force", is_flag=True, help="Publish even if the draft is not approved.")
@click.option("--send/--no-send", default=True, help="Email it now (default: yes, if set up).")
@pass_app
def publish(app: AppState, day: str | None, force: bool, send: bool) -> int:
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
            send=send,
            on_sent=lambda address: app.detail(f"✓ {address}"),
        )
    issue, built = done.issue, done.built
    assert issue is not None
    app.say(f"{issue.title}: published — {issue.path}, site {built.pages} pages in {built.output}")
    if send and not email_ready(config):
        app.say("email is not set up (email.subscribers, DIGEST_SMTP_HOST): not sent")
    if done.sent is None:
        return 0
    return report_sent(app, issue, done.sent, time.monotonic() - started)


COMMANDS = [review, publish]
