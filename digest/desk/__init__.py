"""The editor's desk: the verbs of `digest review` on a draft.

| module | what it holds |
| --- | --- |
| `refs.py` | finding the issue a command works on; addressing its items (`Ref`, `resolve`) |
| `verbs.py` | approve, drop, keep, move, note, regen, add, keywords, accept, mark_seen |
| `concerns.py` | what still wants a human before `approve` (검토 필요, 미검토, no brief, English) |
| `listing.py` | flags per item, and the draft as `review list` shows it |
"""

from digest.desk.concerns import Concerns, concerns
from digest.desk.flags import is_edited, item_flags
from digest.desk.listing import Listing, listing
from digest.desk.refs import (
    EDITOR_SOURCE,
    Ref,
    ReviewError,
    expected_title,
    find_draft,
    find_editable,
    find_published,
    numbered,
    remember_shown,
    resolve,
    resolve_live,
)
from digest.desk.verbs import (
    Keywords,
    NotApproved,
    Regenerated,
    accept_note,
    add,
    approve,
    drop,
    keep,
    keywords,
    mark_seen,
    move,
    note,
    regen,
    reserves,
    suggest_keywords,
)

__all__ = [
    "EDITOR_SOURCE",
    "Concerns",
    "Keywords",
    "Listing",
    "NotApproved",
    "Ref",
    "Regenerated",
    "ReviewError",
    "accept_note",
    "add",
    "approve",
    "concerns",
    "drop",
    "expected_title",
    "find_draft",
    "find_editable",
    "find_published",
    "is_edited",
    "item_flags",
    "keep",
    "keywords",
    "listing",
    "mark_seen",
    "move",
    "note",
    "numbered",
    "regen",
    "remember_shown",
    "reserves",
    "resolve",
    "resolve_live",
    "suggest_keywords",
]
