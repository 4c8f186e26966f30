"""review: the editor's desk — the group, list, show and edit (the launcher of $EDITOR lives
here, in the CLI); the verbs that change a draft are in review_verbs.py."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from digest import desk, editor
from digest.cli import review_verbs
from digest.cli.common import (
    CONTEXT,
    EXIT_CODES_HELP,
    LISTING_ON_TERMINAL,
    app_of,
    day_of,
    day_option,
    echo_json,
    out,
)
from digest.config import Secrets
from digest.desk import Listing, Ref
from digest.errors import EXIT_NOTHING_NEW
from digest.issue import FIELD_LABELS, NEEDS_REVIEW, UNREVIEWED, IssueItem

_TERMINAL = LISTING_ON_TERMINAL
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
  edit [N]                     $EDITOR (then $VISUAL) on item N (with its source text)
                               or the whole draft
  drop N | keep N|RN           take an item out / bring back a dropped item or a reserve
  move N --to M [--section ID] reorder, within or across sections
  note N "TEXT"                the editor's own comment (한마디)
  regen N [--model M]          summarize item N again
  accept N                     vouch for item N's model-written 토막상식
  add URL [--section ID] [--title T] [--note TEXT]
  keywords [add|remove WORD | take N…]  the 키워드; numbered suggestions
  approve [--yes]              mark the draft ready; asks first if items are flagged

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
    """`digest review`: the editor's commands on a draft; alone, `list` (see the help text)."""
    ctx.meta["review_day"] = day
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_items)


# list and show ---------------------------------------------------------------------------------


@review.command(
    "list",
    context_settings=CONTEXT,
    help="""Items of the draft per section, numbered as the other review commands use them.

Each row: the number, the item's reference (g1, ar3: stable for the life of the draft; use it
with every command), the title and its flags: 검토 필요 (a check failed; `show` names it), 미검토
(machine-written, not yet shown, edited or approved), 새 항목 (added by a re-draft since you last
approved), generated 토막상식 (not from the curated glossary), edited (differs from what the
model wrote), 한마디 (has your note). Dropped items follow the issue's items. The listing goes
to stdout (`digest review list | less`); colours only on a terminal.

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
    """`digest review list`: the draft's items, numbered, with flags (see the help text)."""
    app = app_of(ctx)
    shown = desk.listing(app.config, day_of(ctx, day), with_reserves=reserves)
    desk.remember_shown(app.config, shown.issue)  # bare numbers are checked against this
    if as_json:
        echo_json(_listing_json(shown, reserves))
        return
    issue = shown.issue
    out.print(f"{shown.title} — {issue.status}  ({issue.path})", markup=False, style="bold")
    section_title = None
    rows: Table | None = None
    for ref, flags in shown.rows:
        heading = ref.section.title if ref.section else "뺀 항목 (dropped: `keep ITEM` brings back)"
        if heading != section_title:
            if rows is not None and _TERMINAL:
                out.print(rows)
            section_title = heading
            out.print(f"\n{heading}", markup=False, style="bold")
            rows = _rows()
        line = Text(ref.item.title)
        for flag in flags:
            line.append(f" [{flag}]", style=FLAG_STYLES.get(flag, ""))
        line.append(f"  ({ref.item.source_id})", style="dim")
        assert rows is not None
        _add_row(rows, f"{ref.n}.", ref.item.ref, line)
    if rows is not None and _TERMINAL:
        out.print(rows)
    if not shown.rows:
        out.print("\n(no items — `digest review add URL` or `keep RN`)", markup=False)
    if reserves:
        out.print("\nReserves (`keep RN` adds one)", markup=False, style="bold")
        table = _rows()
        for r, candidate in enumerate(shown.reserves, 1):
            item = candidate.item
            facts = f"  ({item.section_id}, {item.source_id}, score {candidate.score:.2f})"
            _add_row(table, "", f"R{r}", Text(item.title).append(facts, style="dim"))
        if _TERMINAL and shown.reserves:
            out.print(table)
        elif not shown.reserves:
            out.print("  (none)")
    if issue.keywords:
        out.print(f"\n키워드: {', '.join(issue.keywords)}", markup=False)


def _rows() -> Table:
    """Number, reference, then the title wrapping under itself (a hanging indent at the
    terminal's display width: rich counts Hangul as two columns). Off a terminal the rows are
    plain lines instead (see `_add_row`), so a pipe gets no padding."""
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True, style="cyan")
    table.add_column(overflow="fold")
    return table


def _add_row(table: Table, number: str, ref: str, text: Text) -> None:
    if _TERMINAL:
        table.add_row(number, ref, text)
    else:
        out.print(f"{number:>4} {ref:<4} {text.plain}", markup=False)


def _item_json(ref: Ref, flags: list[str]) -> dict[str, object]:
    item = ref.item
    return {
        "n": ref.n,
        "ref": item.ref,
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

Showing an item to you clears its 미검토 (not with --json: a script's read is no review).

\b
Example:
  digest review show g3
  digest review show g3 --json | jq -r .summary
""",
)
@click.argument("item_ref", metavar="ITEM")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@day_option
@click.pass_context
def show(ctx: click.Context, item_ref: str, as_json: bool, day: str | None) -> None:
    """`digest review show ITEM`: one item and its brief as it will read (see the help)."""
    config = app_of(ctx).config
    shown = desk.listing(config, day_of(ctx, day))
    ref = desk.resolve(shown.issue, item_ref, config)
    flags = shown.rows[ref.n - 1][1]
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
    out.print(f"{ref.n}. {item.ref} [{where}] {item.title}", markup=False, style="bold")
    for line in _reads_as(item):
        out.print(line, markup=False)
    for reason in item.review_reasons:
        out.print(f"   {NEEDS_REVIEW}: {reason}", markup=False, style=FLAG_STYLES[NEEDS_REVIEW])
    facts = [f"source {item.source_id}", *flags, *([item.model] if item.model else [])]
    out.print(f"   ({', '.join(facts)})", markup=False, style="dim")
    desk.mark_seen(config, day_of(ctx, day), item.ref or str(ref.n))  # shown: reviewed


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
    help="""Edit ITEM (its reference or number), or the whole draft, in your editor ($EDITOR,
then $VISUAL, then sensible-editor, nano or vi).

An item opens with what you need to write its brief: the source text it was summarized from
(arXiv abstract, post opening, page description) and a key sentence from it as
`<!-- digest: … -->` lines, and an empty line for each field it lacks (`- **[의의]** `), named
on top. Those help lines and the field lines you leave empty are not saved.

The file is checked when you save and quit: if it is broken, it opens again with the error on
top. Empty the file to abort. Nothing is written until the edit is valid; after 10 broken
rounds it gives up (exit 2) and keeps your text beside the issue, e.g.
issues/0001.g3.rejected.md, named in the message. With --published NUM a published issue is
corrected: its number, date and status stay, the correction is recorded in its corrections:
list, and the site is rebuilt.

\b
Example:
  digest review edit g3
  EDITOR="code -w" digest review edit
  digest review edit --published 12
""",
)
@click.argument("item_ref", metavar="[ITEM]", required=False)
@click.option("--published", type=int, metavar="NUM", help="Correct published issue NUM.")
@day_option
@click.pass_context
def edit(ctx: click.Context, item_ref: str | None, published: int | None, day: str | None) -> int:
    """`digest review edit [ITEM]`: edit an item or the whole issue in $EDITOR (see help)."""
    app = app_of(ctx)
    result = editor.edit(
        app.config, day_of(ctx, day), item_ref, published=published, open_editor=launch
    )
    what = f"item {item_ref}" if item_ref is not None else "the issue"
    if not result.changed:
        app.say(f"{result.issue.title}: {what} unchanged")
        return EXIT_NOTHING_NEW
    app.say(f"{result.issue.title}: {what} saved — {result.issue.path}")
    if result.correction is not None:
        from digest.site import build_site

        built = build_site(app.config)
        app.say(f"correction recorded ({result.correction.what}); site rebuilt in {built.output}")
    return 0


# the editor's editor ---------------------------------------------------------------------------
# Tried in order when neither $EDITOR nor $VISUAL is set (Debian's choice first).
FALLBACK_EDITORS = ("sensible-editor", "editor", "nano", "vi")


def editor_command(secrets: Secrets | None = None) -> list[str]:
    """$EDITOR, then $VISUAL, then the first of FALLBACK_EDITORS on PATH. Raises NoEditor."""
    chosen = (secrets or Secrets.from_env()).editor
    if chosen:
        return shlex.split(chosen)
    for name in FALLBACK_EDITORS:
        if shutil.which(name):
            return [name]
    raise editor.NoEditor("no text editor found — set one, e.g. `export EDITOR=nano`")


def launch(path: Path) -> None:
    """Run the editor on `path` and wait for it; a failing editor aborts the edit."""
    command = editor_command()
    try:
        done = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise editor.NoEditor(
            f"cannot run the editor {shlex.join(command)!r} ({exc.strerror or exc}) — "
            "set EDITOR to an installed editor, e.g. `export EDITOR=nano`"
        ) from None
    if done.returncode != 0:
        raise editor.EditAborted(
            f"the editor {shlex.join(command)!r} exited with status {done.returncode}; "
            "nothing was changed"
        )


for _verb in review_verbs.COMMANDS:
    review.add_command(_verb)

COMMANDS = [review]
