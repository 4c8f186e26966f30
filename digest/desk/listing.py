"""What the editor sees at a glance: flags per item and the draft as `review list` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from digest.config import Config
from digest.desk.flags import item_flags
from digest.desk.refs import Ref, expected_title, find_draft, numbered
from digest.desk.verbs import reserves
from digest.issue import Issue
from digest.select import Candidate
from digest.store import Store
from digest.summarize import cache_version


# flags -----------------------------------------------------------------------------------------
@dataclass
class Listing:
    """The draft as `digest review list` shows it."""

    issue: Issue
    title: str  # with the number it will get
    rows: list[tuple[Ref, list[str]]] = field(default_factory=list)
    reserves: list[Candidate] = field(default_factory=list)


def listing(config: Config, day: date | None, with_reserves: bool = False) -> Listing:
    """The issue of `day` (default: the newest unpublished one) numbered as `review list`
    shows it, each item with its flags, and, with `with_reserves` and an unpublished issue,
    the reserves (R1, R2…). Raises NothingNew when there is no such issue (`find_draft`)."""
    issue = find_draft(config, day)
    result = Listing(issue, expected_title(config, issue))
    with Store(config.state_path) as store:
        version = cache_version(config)
        result.rows = [(ref, item_flags(ref.item, store, version)) for ref in numbered(issue)]
        if with_reserves and issue.status != "published":
            result.reserves = reserves(config, store, issue)
    return result
