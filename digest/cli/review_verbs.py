"""The review verbs that change a draft: drop, keep, move, note, regen, accept, add, keywords,
approve. Registered on the `digest review` group by cli/review.py."""

from __future__ import annotations

import click

from digest import desk
from digest.cli.common import CONTEXT, app_of, day_of, day_option, err


@click.command(
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
    """`digest review drop N`: take item N out of the draft (see the help text)."""
    item = desk.drop(app_of(ctx).config, day_of(ctx, day), n)
    app_of(ctx).say(f"dropped: {item.title} — `digest review keep` brings it back")


@click.command(
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
    """`digest review keep N|RN`: bring back a dropped item or add a reserve (see the help)."""
    item = desk.keep(app_of(ctx).config, day_of(ctx, day), which)
    app_of(ctx).say(f"kept: {item.title}")


@click.command(
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
    """`digest review move N --to M`: reorder an item, within or across sections (see help)."""
    ref = desk.move(app_of(ctx).config, day_of(ctx, day), n, to, section_id)
    assert ref.section is not None
    app_of(ctx).say(f"moved: {ref.item.title} → {ref.n} in {ref.section.title}")


@click.command(
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
    """`digest review note N TEXT`: set or remove item N's 한마디 (see the help text)."""
    item = desk.note(app_of(ctx).config, day_of(ctx, day), n, text)
    app_of(ctx).say(f"{'noted' if item.note else 'note removed'}: {item.title}")


@click.command(
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
    """`digest review regen N`: summarize item N again (see the help text)."""
    app = app_of(ctx)
    result = desk.regen(app.config, day_of(ctx, day), n, model)
    for line in result.replaced:
        app.say(f"replaced: {line}")
    app.say(f"regenerated: {result.item.title} ({result.item.model})")


@click.command(
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
    """`digest review accept N`: vouch for item N's model-written 토막상식 (see the help text)."""
    item = desk.accept_note(app_of(ctx).config, day_of(ctx, day), n)
    app_of(ctx).say(f"accepted the 토막상식 of: {item.title}")


@click.command(
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
    """`digest review add URL`: add a hand-picked item to the draft (see the help text)."""
    app = app_of(ctx)
    item, warning = desk.add(
        app.config, day_of(ctx, day), url, section_id=section_id, title=title, note_text=note_text
    )
    if warning:
        err.print(f"warning: {warning}", markup=False, style="yellow")
    app.say(f"added: {item.title}")


@click.command(
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
    """`digest review keywords`: show, add or remove the issue's 키워드 (see the help text)."""
    if action and not words:
        raise click.UsageError(f"`keywords {action}` needs a WORD, e.g. keywords {action} RLHF")
    if words and not action:
        raise click.UsageError("say add or remove: `digest review keywords add WORD`")
    result = desk.keywords(app_of(ctx).config, day_of(ctx, day), action, words)
    err.print(f"키워드: {', '.join(result.current) or '(none)'}", markup=False)
    if result.suggested:
        err.print(f"suggested: {', '.join(result.suggested)}", markup=False, style="dim")


@click.command(
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
    """`digest review approve`: mark the draft ready for `digest publish` (see the help text)."""
    app = app_of(ctx)
    issue = desk.approve(app.config, day_of(ctx, day))
    app.say(f"{desk.expected_title(app.config, issue)}: approved — run `digest publish`")


# publish ---------------------------------------------------------------------------------------


COMMANDS = [drop, keep, move, note, regen, accept, add, keywords, approve]
