"""The review verbs that change a draft: drop, keep, move, note, regen, accept, add, keywords,
approve. Registered on the `digest review` group by cli/review.py."""

from __future__ import annotations

import sys

import click

from digest import desk
from digest.cli.common import CONTEXT, app_of, day_of, day_option, err, out

ITEM_HELP = "ITEM is a reference from `review list` (g1, ar3) or the number it shows."


@click.command(
    context_settings=CONTEXT,
    help=f"""Take ITEM out of the draft. It stays in the file under 뺀 항목 with its text and
its reference, is never proposed again by a re-draft, and `keep` brings it back. {ITEM_HELP}

\b
Example:
  digest review drop g4
""",
)
@click.argument("item_ref", metavar="ITEM")
@day_option
@click.pass_context
def drop(ctx: click.Context, item_ref: str, day: str | None) -> None:
    """`digest review drop ITEM`: take an item out of the draft (see the help text)."""
    item = desk.drop(app_of(ctx).config, day_of(ctx, day), item_ref)
    app_of(ctx).say(
        f"dropped {item.ref}: {item.title} — `digest review keep {item.ref}` brings it back"
    )


@click.command(
    context_settings=CONTEXT,
    help=f"""Bring back dropped ITEM (to the end of its section), or add reserve RN (see
`list --reserves`) to the draft. {ITEM_HELP}

\b
Example:
  digest review keep g4
  digest review list --reserves && digest review keep R2
""",
)
@click.argument("which", metavar="ITEM|RN")
@day_option
@click.pass_context
def keep(ctx: click.Context, which: str, day: str | None) -> None:
    """`digest review keep ITEM|RN`: bring back a dropped item or add a reserve (see help)."""
    item = desk.keep(app_of(ctx).config, day_of(ctx, day), which)
    app_of(ctx).say(f"kept {item.ref}: {item.title}")


@click.command(
    context_settings=CONTEXT,
    help=f"""Move ITEM to position --to within its section, or into section --section ID
(at its end, or at position --to there). Positions count from 1 within a section. {ITEM_HELP}

\b
Example:
  digest review move g5 --to 1              # first in its section
  digest review move ar9 --section google   # to the end of 구글 블로그
  digest review move ar9 --section google --to 2
""",
)
@click.argument("item_ref", metavar="ITEM")
@click.option("--to", "to", type=int, metavar="POS", help="Its position within the section.")
@click.option("--section", "section_id", metavar="ID", help="Move it into this section.")
@day_option
@click.pass_context
def move(
    ctx: click.Context, item_ref: str, to: int | None, section_id: str | None, day: str | None
) -> None:
    """`digest review move ITEM [--to POS] [--section ID]`: reorder an item (see the help)."""
    moved = desk.move(app_of(ctx).config, day_of(ctx, day), item_ref, to, section_id)
    came = f" (from {moved.left})" if moved.left else ""
    app_of(ctx).say(
        f"moved {moved.item.ref}: {moved.item.title} → {moved.section.title}, position "
        f"{moved.position}{came}"
    )


@click.command(
    context_settings=CONTEXT,
    help=f"""The editor's own comment on ITEM, shown with it as [한마디]. A second note is
added as another line (issue 1 has several per item); --replace puts TEXT in the 한마디's place
("" with --replace removes it). {ITEM_HELP}

\b
Example:
  digest review note g2 "애네 블로그는 매번 자기네 제품 자랑만 하는듯"
  digest review note g2 --replace "고쳐 쓴 한마디"
""",
)
@click.argument("item_ref", metavar="ITEM")
@click.argument("text")
@click.option("--replace", is_flag=True, help="Replace the 한마디 instead of adding a line.")
@day_option
@click.pass_context
def note(ctx: click.Context, item_ref: str, text: str, replace: bool, day: str | None) -> None:
    """`digest review note ITEM TEXT`: add (or --replace) the editor's comment (see help)."""
    done = desk.note(app_of(ctx).config, day_of(ctx, day), item_ref, text, replace=replace)
    app = app_of(ctx)
    if done.replaced:
        app.say(f"replaced the 한마디 of {done.item.ref}: {done.replaced}")
    what = "noted" if done.item.note or not replace else "note removed"
    app.say(f"{what}: {done.item.ref} {done.item.title}")


@click.command(
    context_settings=CONTEXT,
    help=f"""Summarize ITEM again and replace its brief (and its cached brief). Your 한마디
and free lines stay; the lines replaced are printed so nothing vanishes unseen. An item whose
brief you edited is refused unless --force, which keeps your lines in the item as a comment.
{ITEM_HELP}

\b
Example:
  digest review regen g3
  digest review regen g3 --force
  digest review regen g3 --model gemma-3-270m
""",
)
@click.argument("item_ref", metavar="ITEM")
@click.option("--model", metavar="M", help="Use this model instead of summarizer.model.")
@click.option("--force", is_flag=True, help="Replace a brief you edited (kept as a comment).")
@day_option
@click.pass_context
def regen(
    ctx: click.Context, item_ref: str, model: str | None, force: bool, day: str | None
) -> None:
    """`digest review regen ITEM`: summarize an item again (see the help text)."""
    app = app_of(ctx)
    result = desk.regen(app.config, day_of(ctx, day), item_ref, model, force=force)
    for line in result.replaced:
        app.say(f"replaced: {line}")
    app.say(f"regenerated {result.item.ref}: {result.item.title} ({result.item.model})")


@click.command(
    context_settings=CONTEXT,
    help=f"""Vouch for ITEM's 토막상식 written by the model (flag: generated 토막상식). Until
then it is marked for you and left off the site's glossary page; notes from the curated
glossary need no acceptance. Editing the note in `review edit ITEM` accepts it too. {ITEM_HELP}

\b
Example:
  digest review show g4 && digest review accept g4
""",
)
@click.argument("item_ref", metavar="ITEM")
@day_option
@click.pass_context
def accept(ctx: click.Context, item_ref: str, day: str | None) -> None:
    """`digest review accept ITEM`: vouch for a model-written 토막상식 (see the help text)."""
    item = desk.accept_note(app_of(ctx).config, day_of(ctx, day), item_ref)
    app_of(ctx).say(f"accepted the 토막상식 of {item.ref}: {item.title}")


@click.command(
    context_settings=CONTEXT,
    help="""Add a hand-picked item: a tweet, a blog post the feeds missed. The page is read
(10 s at most) for its title (og:title, else <title>) and description, which is summarized;
--title overrides it. The title is never the URL: a page with no title, or one that cannot be
read, is refused unless you give --title (the item is then flagged 검토 필요). The section
is guessed from the site (else the first one) unless --section is given.

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
    help="""The issue's 키워드: show them with numbered suggestions, add or remove words, or
take suggestions by number.

Suggestions are the curated glossary's terms that the draft's items mention, under their
Korean names (강화학습, not "Reinforcement learning"), most items first; a term the issue has
under any of its names and arXiv category codes (cs.LG) are never suggested. `take N…` adds
suggestions by the numbers the last `keywords` showed for this draft (a list that changed
since does not change what a number means); never shown, they are the list as it is now.

\b
Example:
  digest review keywords
  digest review keywords take 1 3
  digest review keywords add "Mixture of Experts" RLHF
  digest review keywords remove RLHF
""",
)
@click.argument("action", type=click.Choice(["add", "remove", "take"]), required=False)
@click.argument("words", nargs=-1)
@day_option
@click.pass_context
def keywords(
    ctx: click.Context, action: str | None, words: tuple[str, ...], day: str | None
) -> None:
    """`digest review keywords`: show, add, remove or take the issue's 키워드 (see the help
    text). Raises click.UsageError for an action without words or words without an action."""
    if action and not words:
        what, example = ("a NUMBER", "1 3") if action == "take" else ("a WORD", "RLHF")
        raise click.UsageError(
            f"`keywords {action}` needs {what}, e.g. keywords {action} {example}"
        )
    if words and not action:
        raise click.UsageError(
            "say add, remove or take: `digest review keywords add WORD` or `… take 1 3`"
        )
    config = app_of(ctx).config
    result = desk.keywords(config, day_of(ctx, day), action, words)
    if result.added:
        app_of(ctx).say(f"added: {', '.join(result.added)}")
    out.print(f"키워드: {', '.join(result.current) or '(none)'}", markup=False)
    if result.suggested:
        out.print("suggested: `digest review keywords take 1 3` adds them by number", style="dim")
        for n, suggestion in enumerate(result.suggested, 1):
            other = f" ({suggestion.other})" if suggestion.other else ""
            count = f"{suggestion.items} item{'s' if suggestion.items != 1 else ''}"
            out.print(f"  {n:>2}. {suggestion.word}{other} · {count}", markup=False)
    desk.remember_suggestions(config, result)


@click.command(
    context_settings=CONTEXT,
    help="""Mark the draft ready; `digest publish` then freezes it. Approving is your word on
every brief: the items lose 미검토 and 새 항목.

When items still want a look, it says which and asks first, e.g. "2 items 검토 필요 (g1, re1),
3 not reviewed yet (미검토: …), 1 without a brief (re1), 1 with an English 요약 (aw2) — approve
anyway? [y/N]" (no is the default). --yes approves without asking (for scripts); without a
terminal to ask on and without --yes it refuses (exit 2). Saying no changes nothing (exit 1).

\b
Example:
  digest review approve
  digest review --date 2026-11-23 approve
  digest review approve --yes && digest publish    # in a script
""",
)
@click.option("--yes", "-y", "yes", is_flag=True, help="Approve without asking, flags or not.")
@day_option
@click.pass_context
def approve(ctx: click.Context, yes: bool = False, day: str | None = None) -> None:
    """`digest review approve`: mark the draft ready for `digest publish` (see the help text)."""
    app = app_of(ctx)

    def confirm(concerns: desk.Concerns) -> bool:
        summary = concerns.summary()
        if yes:
            app.say(f"approving anyway: {summary}")
            return True
        if not sys.stdin.isatty():
            raise desk.ReviewError(
                f"not approved: {summary} — run it at a terminal to be asked, or approve "
                "anyway with `digest review approve --yes`"
            )
        return click.confirm(f"{summary} — approve anyway?", default=False, err=True)

    issue = desk.approve(app.config, day_of(ctx, day), confirm=confirm)
    app.say(f"{desk.expected_title(app.config, issue)}: approved — run `digest publish`")


# publish ---------------------------------------------------------------------------------------


COMMANDS = [drop, keep, move, note, regen, accept, add, keywords, approve]
