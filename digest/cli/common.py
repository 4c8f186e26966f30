"""What every command module shares: the app state, output consoles, common options."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from digest import clock
from digest.config import Config, load_config
from digest.fetch import SourceOutcome

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES_HELP = """\b
Exit codes: 0 done · 1 failed · 2 usage or configuration error ·
3 nothing new · 4 done, but at least one source failed."""

# Messages, warnings and progress go to stderr; stdout is for --json alone.
err = Console(stderr=True, highlight=False, soft_wrap=True)
# Listings are output, for pipes too (`digest review list | less`); messages stay on stderr. On
# a terminal long lines wrap at its width; in a pipe each row stays one line, for grep.
LISTING_ON_TERMINAL = sys.stdout.isatty()
out = Console(
    highlight=False,
    soft_wrap=not LISTING_ON_TERMINAL,
    width=None if LISTING_ON_TERMINAL else 10_000,
)


@dataclass
class AppState:
    """What the `digest` group hands its commands: the --config path, the verbosity (-1 with
    -q, else the count of -v), and the `Config`, loaded on first use (ConfigError then)."""

    config_path: str | None
    verbosity: int
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def say(self, message: str) -> None:
        if self.verbosity >= 0:
            err.print(escape(message))

    def detail(self, message: str) -> None:
        if self.verbosity > 0:
            err.print(escape(message), style="dim")


pass_app = click.make_pass_decorator(AppState)


def parse_day(config: Config, value: str | None) -> date:
    """A --date value (YYYY-MM-DD) as a date; empty or None is today in feeds.yaml's timezone.
    Raises click.BadParameter (a usage error, exit 2) for anything else."""
    if not value:
        return clock.today(config.timezone)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date — use YYYY-MM-DD", param_hint="--date"
        ) from None


date_option = click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    help="The issue's date (default: today in feeds.yaml's timezone).",
)


def echo_json(data: Any) -> None:
    """Print `data` on stdout as indented JSON, Korean left unescaped (what --json writes)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def report_source(app: AppState) -> Callable[[SourceOutcome], None]:
    """Failures always reach stderr, named, and so does an answer over the cap of items per
    fetch (`fetch.MAX_ITEMS_PER_FETCH`); successes only with -v."""

    def report(outcome: SourceOutcome) -> None:
        if outcome.error:
            err.print(f"✗ {outcome.source_id}: {outcome.error}", markup=False, style="red")
        elif outcome.over_cap:
            err.print(
                f"! {outcome.source_id}: answered {outcome.items + outcome.over_cap:,} items; "
                f"kept the newest {outcome.items:,} ({outcome.new:,} new) — a source's cap per "
                "fetch",
                markup=False,
            )
        elif outcome.not_modified:
            app.detail(f"· {outcome.source_id}: not modified (304)")
        else:
            app.detail(f"✓ {outcome.source_id}: {outcome.items} items, {outcome.new} new")

    return report


class _Bars:
    """rich progress bars on stderr, one line per stage; drawn only on a terminal."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        if self._task is not None:
            self._progress.stop_task(self._task)
            task = self._progress.tasks[self._task]
            if task.total is None:
                self._progress.update(self._task, total=1, completed=1)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


@contextmanager
def progress_bars(app: AppState) -> Iterator[_Bars | None]:
    """Progress bars on stderr for the body of the `with`; None when stderr is not a terminal
    or with -q, so cron and pipes get the summary line alone."""
    if app.verbosity < 0 or not err.is_terminal:
        yield None  # cron, CI and pipes get the summary line alone
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        yield _Bars(progress)


# the review group's options: `--date` before or after the subcommand ---------------------------
F = TypeVar("F", bound=Callable[..., Any])


def day_option(func: F) -> F:
    """`--date` after the subcommand too: `digest review list --date 2026-11-23`."""
    return click.option(
        "--date",
        "day",
        metavar="YYYY-MM-DD",
        help="The draft of this date (default: the newest draft).",
    )(func)


def app_of(ctx: click.Context) -> AppState:
    """The AppState of a command nested in a group."""
    app = ctx.find_object(AppState)
    assert app is not None
    return app


def day_of(ctx: click.Context, day: str | None) -> date | None:
    """The draft date a review command was given, after it or before it on the group."""
    value = day or ctx.meta.get("review_day")
    return parse_day(app_of(ctx).config, value) if value else None
