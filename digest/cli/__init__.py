"""The `digest` command. The only place that turns `DigestError` into messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.markup import escape

from digest import __version__
from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, err
from digest.errors import EXIT_FAILED, EXIT_USAGE, DigestError


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
    envvar="DIGEST_CONFIG",
    metavar="PATH",
    help="feeds.yaml to use (default: ./feeds.yaml; env DIGEST_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="Say more.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line and errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """The `digest` command group: holds --config and the verbosity for every subcommand."""
    ctx.obj = AppState(config_path, -1 if quiet else verbose)


def _register() -> None:
    from digest.cli import daily, draft, fetch, init, publish, review, send, site, status, train

    for module in (init, fetch, draft, review, train, publish, site, send, daily, status):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Run `digest` with `argv` (default: sys.argv) and exit with its code: the command's own
    (3 nothing new, 4 a source failed; None is 0), a DigestError's `exit_code` with its message
    on stderr, click's code for its own errors (2 for a usage error), 1 when aborted or
    interrupted (errors.py lists the codes). Any other exception propagates with its
    traceback. Never returns."""
    try:
        # Commands return their exit code (3 nothing new, 4 a source failed) or None for 0.
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(EXIT_FAILED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except DigestError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)
