"""Fetchers, one module per source `type:` in feeds.yaml, and the stage that runs them all."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from digest import clock
from digest.config import Config, SourceConfig
from digest.errors import FetchError
from digest.fetch.normalize import finish
from digest.http import HttpClient, redact_text, redact_url
from digest.models import Item
from digest.registry import FETCHERS
from digest.retention import prune
from digest.store import FetchState, Store


@dataclass(frozen=True)
class Fetched:
    """What a fetcher returns for one source: every item it gave (none when `not_modified`,
    an HTTP 304), and the ETag and Last-Modified validators for the next conditional request
    (RFC 9110)."""

    items: list[Item]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


MAX_WORKERS = 64
# Items kept from one answer of one source, the newest first: 2.5 times the largest answer
# feeds.yaml can ask for (arXiv `max_results` ≤ 2,000; a Reddit listing stops at 100), so no
# real feed loses an item, while a feed inventing 50,000 ids an answer (issue 16, case 13)
# cannot fill the store with them.
MAX_ITEMS_PER_FETCH = 5_000
Fetcher = Callable[[SourceConfig, str, HttpClient, FetchState | None], Fetched]


def fetcher(kind: str) -> Fetcher:
    """The fetch function of source type `kind` (a key of FETCHERS), imported on first use."""
    found: Fetcher = importlib.import_module(FETCHERS[kind]).fetch
    return found


@dataclass
class SourceOutcome:
    """One source's result in a fetch: items returned and how many were new to the store,
    whether the server said 304, or the one-line error that stopped it."""

    source_id: str
    items: int = 0
    new: int = 0
    not_modified: bool = False
    error: str | None = None  # one line: what failed and, where we know it, the fix
    returned: list[Item] = field(default_factory=list)  # what the source gave, for --json
    over_cap: int = 0  # items past MAX_ITEMS_PER_FETCH in its answer, not stored


@dataclass
class FetchReport:
    """Every source's outcome of one `fetch_all`, in feeds.yaml's order."""

    outcomes: list[SourceOutcome] = field(default_factory=list)
    pruned: int = 0  # items deleted after the fetch, past use (`retention.prune`)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def new_items(self) -> int:
        return sum(o.new for o in self.outcomes)


def fetch_all(
    config: Config,
    store: Store,
    http: HttpClient | None = None,
    only: str | None = None,
    on_done: Callable[[SourceOutcome], None] | None = None,
) -> FetchReport:
    """Fetch every source of feeds.yaml (or only the one with id `only`) concurrently, store
    what each returns and its fetch state, and return a `FetchReport` in feeds.yaml's order.

    Every item a fetcher returns passes the fetch boundary (`normalize.finish`: one-line NFC
    text within caps, re-serialized http(s) URLs); one that cannot pass is left out. One
    broken source is reported in its outcome, never fatal: a FetchError, or any other
    exception from its fetcher (a parser bug), becomes its one-line `error`, with any secret
    in a URL redacted (`http.redact_text`), as is the url stored in its fetch state. A source's
    `window_days` defaults to `select.window_days`; a url without a scheme is a file relative
    to feeds.yaml. An answer keeps its MAX_ITEMS_PER_FETCH newest items (the outcome counts
    the rest in `over_cap`); a 304 keeps the last answer's items current (`Store.seen_again`).
    After storing, the items past use are pruned (`retention.prune`; counted in `pruned`).
    `http` replaces the HTTP client (tests); `on_done` is told each outcome as it is stored.
    Raises ConfigError when `only` names no source; the store's SQLite errors propagate
    (`runs.stage` names them in `digest daily`)."""
    http = http or HttpClient()
    jobs = [
        (
            section,
            source.model_copy(
                update={
                    "url": config.source_url(source),
                    "window_days": source.window_days or config.select.window_days,
                }
            ),
        )
        for section, source in config.sources
        if only is None or source.id == only
    ]
    if only is not None and not jobs:
        from digest.errors import ConfigError

        raise ConfigError(f"no source {only!r} in feeds.yaml — see `digest fetch --help`")

    def run(
        section_id: str, source: SourceConfig, state: FetchState | None
    ) -> tuple[SourceConfig, Fetched | str]:
        try:
            fetched = fetcher(source.type)(source, section_id, http, state)
            items = [item for item in map(finish, fetched.items) if item is not None]
            return source, replace(fetched, items=items)
        except FetchError as exc:
            return source, _one_line(str(exc))
        except Exception as exc:  # a parser bug on odd input: report it, never sink the issue
            return source, _one_line(f"unexpected {type(exc).__name__}: {exc}")

    report = FetchReport()
    # Every source at once (threads mostly wait on the network); politeness per host is the
    # HTTP client's job, so this width never hammers one server.
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(jobs)))) as pool:
        futures = [
            pool.submit(run, section.id, source, store.fetch_state(source.id))
            for section, source in jobs
        ]
        # SQLite writes stay on this thread, in source order, so reports are deterministic.
        for future in futures:
            source, result = future.result()
            at = clock.now(config.timezone)
            outcome = SourceOutcome(source.id)
            shown_url = redact_url(source.url)
            if isinstance(result, str):
                outcome.error = result
                store.record_fetch(source.id, shown_url, at, error=result)
            else:
                kept = _newest(result.items, MAX_ITEMS_PER_FETCH)
                outcome.items, outcome.over_cap = len(kept), len(result.items) - len(kept)
                outcome.returned = kept
                outcome.not_modified = result.not_modified
                outcome.new = store.add_items(kept, at)
                if result.not_modified:
                    store.seen_again(source.id, at)
                store.record_fetch(
                    source.id,
                    shown_url,
                    at,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    status="not-modified" if result.not_modified else "ok",
                )
            report.outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    report.pruned = prune(config, store, clock.now(config.timezone))
    return report


def _newest(items: list[Item], limit: int) -> list[Item]:
    """At most `limit` of `items`: the most recently published (undated ones last), in the
    answer's order."""
    if len(items) <= limit:
        return items

    def age(index: int) -> tuple[bool, float]:
        published = items[index].published
        return (published is None, -published.timestamp() if published else 0.0)

    order = sorted(range(len(items)), key=age)  # stable: ties keep the answer's order
    chosen = set(order[:limit])
    return [item for i, item in enumerate(items) if i in chosen]


def _one_line(reason: str, limit: int = 300) -> str:
    """A failure reason fits on one line of the report, however odd the server's answer, and
    shows no secret a URL in it carried."""
    line = redact_text(" ".join(reason.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"
