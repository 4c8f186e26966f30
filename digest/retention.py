"""How long the store keeps an item: as long as selection or the editor can still use it.

Selection reads a date window (`select.window`), so an item no source has listed for longer than
that window, plus a margin, can never be news again; unless an issue file names it (kept or
dropped), where the editor's desk, the email and `digest train` read its stored text. Such an
item is deleted by the next `digest fetch` (or `digest daily`), which would otherwise let a
source that invents fresh ids grow the store without bound. `select.window_days: null` keeps
everything, since selection then reaches back for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from digest import issue as issues
from digest.config import Config
from digest.errors import IssueFileError
from digest.store import Store

# Beyond the window, a month more: `digest draft --date` for any of the last 30 days, or a
# window raised by up to 30 days, still finds the items of then. (Our choice, not a measurement:
# long enough for an editor back from a holiday, short enough that a source inventing 50,000
# ids a day, issue 16's case 13, keeps the store under ~2M rows.)
MARGIN = timedelta(days=30)


def cutoff(config: Config, now: datetime) -> datetime | None:
    """The last sighting before which an item is past use at `now` (aware): `now` less
    `select.window_days` + 1 days (the window reaches back to the start of the day that many
    days before the issue's) and MARGIN. None when `window_days` is null: nothing is pruned."""
    window = config.select.window_days
    if window is None:
        return None
    return now - timedelta(days=window + 1) - MARGIN


def prune(config: Config, store: Store, now: datetime) -> int:
    """Delete the stored items past use at `now` (`cutoff`) that no issue file names, kept or
    dropped; returns how many were deleted. Safe to re-run (a second run deletes nothing) and
    to kill (`Store.prune_items` commits in batches). An issue file that cannot be read
    deletes nothing: what it names is unknown, and the draft stage reports the file."""
    limit = cutoff(config, now)
    if limit is None:
        return 0
    try:
        all_issues = issues.load_all(config.issues_path)
    except IssueFileError:
        return 0
    keep = {item_id for issue in all_issues for item_id in issue.claimed_ids}
    return store.prune_items(limit, keep)
