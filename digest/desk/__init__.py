"""The editor's desk: the verbs of `digest review` on a draft.

| module | what it holds |
| --- | --- |
| `refs.py` | finding the issue a command works on; addressing its items (`Ref`, `resolve`) |
| `verbs.py` | approve, drop, keep, move, note, regen, add, accept, mark_seen |
| `suggest.py` | the 키워드: keywords (show, add, remove, take by number) and the suggestions |
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
from digest.desk.suggest import (
    Keywords,
    Suggestion,
    keywords,
    remember_suggestions,
    suggest_keywords,
)
from digest.desk.verbs import (
    NotApproved,
    Regenerated,
    accept_note,
    add,
    approve,
    drop,
    keep,
    mark_seen,
    move,
    note,
    regen,
    reserves,
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
    "Suggestion",
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
    "remember_suggestions",
    "reserves",
    "resolve",
    "resolve_live",
    "suggest_keywords",
]
