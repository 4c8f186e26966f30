"""The `digest` command. The only place that turns `DigestError` into messages and exit codes."""

from __future__ import annotations

import sqlite3
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import click
import jinja2
from rich.markup import escape

from digest import __version__
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, err
from digest.errors import EXIT_FAILED, EXIT_USAGE, DigestError, NothingNew
from digest.glossary import GlossaryError

# Where a bug goes: the message for an unexpected exception names it.
REPORT_BUGS = "the digest project's issue tracker"


@click.group(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""뉴랄브리핑 digest: feeds in, a numbered Korean ML newsletter out.

\b
Example:
  digest init                      # scaffold feeds.yaml and issues/ here
  digest daily --no-send           # fetch, draft, publish if auto_publish, build site/
  digest review                    # the editor's view of today's draft
""",
)
@click.version_option(__version__, "--version", prog_name="digest")
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="feeds.yaml to use (default: ./feeds.yaml; env DIGEST_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="Say more.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line and errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """The `digest` command group: holds --config and the verbosity for every subcommand.
    DIGEST_CONFIG is read by `config.find_config`, so an error can name the variable."""
    ctx.obj = AppState(config_path, -1 if quiet else verbose)
    _Run.verbosity = ctx.obj.verbosity


class _Run:
    """What `main` needs after a command has failed: the verbosity the group was given."""

    verbosity = 0


def _register() -> None:
    from digest.cli import daily, draft, fetch, init, publish, review, send, site, status, train

    for module in (init, fetch, draft, review, train, publish, site, send, daily, status):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Run `digest` with `argv` (default: sys.argv) and exit with its code: the command's own
    (3 nothing new, 4 a source failed; None is 0), a DigestError's `exit_code` with its message
    on stderr (NothingNew's, exit 3, as a plain note, not an error, and none under -q), click's
    code for its own errors (2 for a usage error), 1 when aborted or interrupted (errors.py
    lists the codes). Any other exception is one message too (`failure`),
    with its traceback only under -v: no traceback reaches a user who did not ask. Never
    returns."""
    _Run.verbosity = 0
    try:
        # Commands return their exit code (3 nothing new, 4 a source failed) or None for 0.
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(EXIT_FAILED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except NothingNew as exc:
        # Exit 3 is an outcome, not a failure: a plain note on stderr, and none under -q, so
        # a scheduler mails nothing on a quiet day.
        if _Run.verbosity >= 0:
            err.print(str(exc), markup=False)
        sys.exit(exc.exit_code)
    except DigestError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_FAILED)
    except Exception as exc:
        message, exit_code = failure(exc)
        if _Run.verbosity > 0:
            err.print("".join(traceback.format_exception(exc)), markup=False, style="dim")
        err.print(f"[bold red]error:[/] {escape(message)}")
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def failure(exc: Exception) -> tuple[str, int]:
    """An exception that is not a DigestError as (one message naming the thing and the fix,
    exit code): a file that is not UTF-8 or cannot be read or written, a broken template
    (2, like any setting), a broken glossary entry (2), the state database; anything else is a
    bug (1), said as such."""
    if isinstance(exc, UnicodeDecodeError):
        where, data = _file_in(exc), bytes(exc.object)
        line = data[: exc.start].count(b"\n") + 1
        byte = f"byte 0x{data[exc.start]:02x}"
        if where:
            return f"{where}:{line}: not UTF-8 text ({byte}) — save it as UTF-8", EXIT_FAILED
        return (
            f"a file is not UTF-8 text ({byte} on its line {line}) — save it as UTF-8; -v shows "
            "which file",
            EXIT_FAILED,
        )
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name}:{exc.lineno}"
        return f"{where}: template error: {exc.message} — {_TEMPLATE_FIX}", EXIT_USAGE
    if isinstance(exc, jinja2.TemplateError):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
        return f"{where}template error: {exc} — {_TEMPLATE_FIX}", EXIT_USAGE
    if isinstance(exc, GlossaryError):
        return (
            f"digest/data/glossary.yaml: {exc} — fix that entry (docs/editing.md)",
            EXIT_USAGE,
        )
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return (
            f"{where}{exc.strerror} — check the path, its permissions and free space",
            EXIT_FAILED,
        )
    if isinstance(exc, sqlite3.Error):
        return (
            f"the state database failed ({exc}) — check that no other program holds "
            ".digest/digest.db and that the disk has room, then run again",
            EXIT_FAILED,
        )
    return (
        f"unexpected {type(exc).__name__}: {exc} — this is a bug in digest {__version__}; "
        f"please report it on {REPORT_BUGS} with the command and the output of the same "
        "command run with -v (digest -v …)",
        EXIT_FAILED,
    )


_TEMPLATE_FIX = "fix the template, or remove your copy from templates/ to use the built-in one"


def _file_in(exc: BaseException) -> str:
    """The file a decoding error came from, as the innermost frame it passed through that
    names one says (pathlib's own `self`, or a local `path` or `file`): UnicodeDecodeError
    itself does not say."""
    tb = exc.__traceback__
    found = ""
    while tb is not None:
        for name in ("path", "file", "self"):
            value = tb.tb_frame.f_locals.get(name)
            named = isinstance(value, Path) or (isinstance(value, str) and name != "self")
            if named and value and Path(value).is_file():
                found = str(value)
        tb = tb.tb_next
    return found
