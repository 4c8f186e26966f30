"""`digest review edit`: the editor's own text editor on a draft, an item or a published issue.

A copy is opened, validated on save, and reopened with the error on top while it is broken. The
issue file itself is written only once the edit is valid, so a broken or abandoned edit changes
nothing. An empty file aborts, as it does for `git commit`.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NoReturn, TypeVar

from digest import clock
from digest import issue as issues
from digest.config import Config
from digest.desk import (
    Ref,
    ReviewError,
    buffer,
    find_editable,
    find_published,
    numbered,
    resolve_live,
)
from digest.errors import EXIT_USAGE, DigestError
from digest.issue import Issue, IssueItem
from digest.store import atomic_write

T = TypeVar("T")
Launch = Callable[[Path], None]

ERROR_PREFIX = "<!-- digest: "
# A person fixes a file in one or two rounds; a script that keeps breaking it must not loop.
MAX_ROUNDS = 10


class EditAborted(DigestError):
    """The editor emptied the file or quit with an error: nothing was changed."""


class EditStillBroken(DigestError):
    """The edit was saved broken MAX_ROUNDS times in a row: nothing was changed (exit 2)."""

    exit_code = EXIT_USAGE


class NoEditor(DigestError):
    """No text editor could be found or started ($EDITOR, $VISUAL, the fallbacks; exit 2)."""

    exit_code = EXIT_USAGE


def edit_until_valid(
    text: str,
    validate: Callable[[str], T],
    name: str,
    open_editor: Launch,
    rejected: Path | None = None,
) -> T:
    """Open `text` in the editor until `validate` accepts it; returns what it returns.

    `validate` raises IssueFileError (or any DigestError) with a message naming the problem;
    that message is put on top of the file, in comment lines that are removed again before
    the next validation. An empty file raises EditAborted. After MAX_ROUNDS broken saves it
    raises EditStillBroken; the editor's last text (with the problem on top) is first written
    to `rejected`, or beside it as `NAME-2.md`, … when that file exists, and the message names
    it, so nothing typed is lost.
    """
    with tempfile.TemporaryDirectory(prefix="digest-edit-") as folder:
        path = Path(folder) / name
        current = text
        problem = ""
        for _ in range(MAX_ROUNDS):
            path.write_text(_with_problem(current, problem), encoding="utf-8")
            open_editor(path)
            current = strip_problem(path.read_text(encoding="utf-8"))
            if not current.strip():
                raise EditAborted("the file was left empty: edit aborted, nothing was changed")
            try:
                return validate(current)
            except DigestError as exc:  # IssueFileError and the caller's checks
                problem = str(exc)
        message = (
            f"the edit is still broken after {MAX_ROUNDS} rounds ({problem}); nothing was changed"
        )
        if rejected is not None:
            kept = free_name(rejected)
            atomic_write(kept, _with_problem(current, problem))
            message += f" — your text is kept in {kept}: fix it there and copy it back in"
        raise EditStillBroken(message)


def free_name(path: Path) -> Path:
    """`path`, or `NAME-2.md`, `NAME-3.md`, … beside it: the first that does not exist yet."""
    stem, suffix = path.name.removesuffix(".md"), ".md" if path.name.endswith(".md") else ""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{stem}-{n}{suffix}")
    return candidate


def _with_problem(text: str, problem: str) -> str:
    if not problem:
        return text
    lines = [
        f"{ERROR_PREFIX}NOT SAVED: {line.replace('-->', '->')} -->" for line in problem.splitlines()
    ]
    lines.append(f"{ERROR_PREFIX}fix it and save (these lines go), or empty the file to abort -->")
    return "\n".join(lines) + "\n" + text


def strip_problem(text: str) -> str:
    """`text` without the problem lines (`<!-- digest: … -->`) put on top of a broken edit."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(ERROR_PREFIX):
        lines.pop(0)
    return "".join(lines)


# the edits -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edited:
    """What `edit` did: the issue as now written, whether its file changed, and for a
    published issue the correction recorded."""

    issue: Issue
    changed: bool
    correction: issues.Correction | None = None


def edit(
    config: Config,
    day: date | None,
    n: str | int | None,
    *,
    open_editor: Launch,
    published: int | None = None,
) -> Edited:
    """Edit the whole issue, or item N, with `open_editor` (the CLI's launcher of $EDITOR; a
    test's script); validated before anything is written. Item N opens as desk.buffer makes
    it: empty lines for the fields it lacks and its source text, none of which is saved.

    A published issue (`published=NUMBER`) keeps its number, date and status; the change is
    recorded in its `corrections:` so readers and the archive can tell. Raises EditAborted for
    an emptied file, EditStillBroken after MAX_ROUNDS broken saves (the editor's text kept
    beside the issue as `NNNN.REF.rejected.md` or `NNNN.rejected.md`), ReviewError for an
    unknown item; the issue file is then unchanged."""
    target = (
        find_published(config, published) if published is not None else find_editable(config, day)
    )
    assert target.path is not None
    path = target.path
    original_text = path.read_text(encoding="utf-8")
    target = issues.parse(original_text, path)  # exactly the text the editor will see
    others = [i for i in issues.load_all(config.issues_path) if i.path != path]
    if n is None:
        edited = edit_until_valid(
            original_text,
            lambda text: _valid_issue(target, text, others),
            path.name,
            open_editor,
            path.with_name(f"{path.stem}.rejected.md"),
        )
        if path.read_text(encoding="utf-8") != original_text:
            _keep_aside(path, edited)
        before = {i.id: i for i in [*target.items, *target.dropped]}
        for changed in [*edited.items, *edited.dropped]:
            old = before.get(changed.id)
            if old is None or issues.item_markdown(old) != issues.item_markdown(changed):
                _reviewed(changed, old)
    else:
        ref = resolve_live(target, n, config)
        # The stable reference names the file when it is one (g3); else the list's number.
        label = ref.item.ref if re.fullmatch(r"[a-z]+[0-9]+", ref.item.ref) else f"item{ref.n}"
        item = edit_until_valid(
            buffer.item_buffer(ref.item, buffer.source_of(config, ref.item)),
            lambda text: _valid_item(target, ref, buffer.strip(text)),
            f"{path.stem}-item-{ref.label}.md",
            open_editor,
            path.with_name(f"{path.stem}.{label}.rejected.md"),
        )
        _reviewed(item, ref.item)  # the editor has had it open: it is reviewed now
        # Into the file as it is now: a re-draft may have appended items while the editor was
        # open, and one item's edit merges safely by its id.
        original_text = path.read_text(encoding="utf-8")
        edited = issues.parse(original_text, path)
        slot = next((r for r in numbered(edited) if r.item.id == ref.item.id), None)
        if slot is None or slot.dropped:  # it left the draft meanwhile
            _keep_aside(path, _replaced(target, ref, item))
        _replaced(edited, slot, item)
    if issues.to_markdown(edited) == issues.to_markdown(issues.parse(original_text)):
        return Edited(edited, False)
    correction = None
    if published is not None:
        correction = issues.Correction(
            at=clock.now(config.timezone).isoformat(timespec="seconds"),
            what=describe_changes(issues.parse(original_text), edited),
        )
        edited.corrections.append(correction)
    edited.path = path
    issues.save(edited, config.issues_path)
    return Edited(edited, True, correction)


def _reviewed(item: IssueItem, before: IssueItem | None) -> None:
    """The editor has read `item`: no longer 미검토; a 토막상식 they rewrote is theirs now."""
    item.unreviewed = False
    if before is not None and item.glossary_note != before.glossary_note:
        item.glossary_generated = False


def _replaced(issue: Issue, ref: Ref, item: IssueItem) -> Issue:
    assert ref.section is not None
    ref.section.items[ref.section.items.index(ref.item)] = item
    return issue


def _keep_aside(path: Path, edited: Issue) -> NoReturn:
    """Someone (a re-draft, another editor) wrote the file meanwhile: keep both versions."""
    aside = path.with_name(f"{path.stem}.edited.md")
    atomic_write(aside, issues.to_markdown(edited))
    raise DigestError(
        f"{path} changed while you were editing; your version is in {aside} — merge the two by hand"
    )


def _valid_issue(original: Issue, text: str, others: list[Issue]) -> Issue:
    edited = issues.parse(text, original.path, strict=True)
    where = original.path or "<issue>"
    if edited.number != original.number:
        raise ReviewError(
            f"{where}: number: {edited.number} — leave it as {original.number}; numbers are "
            "given at publication, and two issues cannot share one"
        )
    if original.status == "published":
        for key in ("date", "status", "published_at"):
            if getattr(edited, key) != getattr(original, key):
                raise ReviewError(
                    f"{where}: {key}: cannot change in a published issue — set it back to "
                    f"{getattr(original, key)}"
                )
    else:
        if edited.status == "published":
            raise ReviewError(
                f"{where}: status: published — set it back to {original.status} and run "
                "`digest publish`"
            )
        clash = next((i for i in others if i.date == edited.date), None)
        if clash is not None:
            raise ReviewError(
                f"{where}: date: {edited.date} belongs to {clash.path} — keep {original.date}"
            )
    _check_unique(edited, where)
    return edited


def _valid_item(issue: Issue, ref: Ref, text: str) -> IssueItem:
    found = issues.parse_items(text, f"item {ref.label}")
    if len(found) != 1:
        raise ReviewError(
            f"item {ref.label}: the edit holds {len(found)} items — keep exactly one, starting "
            "with its '### [title](url)' line"
        )
    item = found[0]
    if not item.source_id:  # the mark line was deleted: the item is still the same one
        item.id, item.source_id, item.model = ref.item.id, ref.item.source_id, ref.item.model
    item.ref = item.ref or ref.item.ref  # its reference stays, whatever the edit did
    others = {r.item.id for r in numbered(issue) if r.item is not ref.item}
    if item.id in others:
        raise ReviewError(f"item {ref.label}: {item.id} is already another item of this issue")
    return item


def _check_unique(issue: Issue, where: object) -> None:
    counts = Counter(item.id for item in [*issue.items, *issue.dropped])
    twice = sorted(ident for ident, count in counts.items() if count > 1)
    if twice:
        raise ReviewError(f"{where}: {twice[0]} appears twice — delete one of them")


_CHANGE_LABELS = {
    "title": "제목",
    "url": "링크",
    "key_sentence": "인용",
    **issues.FIELD_LABELS,
    "other_lines": "본문",
}


def describe_changes(old: Issue, new: Issue) -> str:
    """One line for the correction record: which items changed, and how."""
    before = {item.id: item for item in old.items}
    after = {item.id: item for item in new.items}
    parts = []
    for item in new.items:
        if item.id not in before:
            parts.append(f"added {item.title}")
            continue
        changed = [
            label
            for key, label in _CHANGE_LABELS.items()
            if getattr(item, key) != getattr(before[item.id], key)
        ]
        if changed:
            parts.append(f"{item.title}: {', '.join(changed)}")
    parts += [f"removed {item.title}" for item in old.items if item.id not in after]
    if old.keywords != new.keywords:
        parts.append("키워드")
    if not parts and [i.id for i in old.items] != [i.id for i in new.items]:
        parts.append("order")
    return "; ".join(parts) or "wording"
