"""build and serve: the website."""

from __future__ import annotations

import functools
import http.server
import threading
import time

import click

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, pass_app
from digest.render import build_site


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Render site/ from the published issues in issues/.

The new site replaces the old one whole: a reader never sees half a build.

\b
Example:
  digest build
  digest build --drafts      # preview the draft too
""",
)
@click.option(
    "--drafts", is_flag=True, help="Include unpublished drafts (a preview, not for deploying)."
)
@pass_app
def build(app: AppState, drafts: bool) -> None:
    started = time.monotonic()
    result = build_site(app.config, include_drafts=drafts)
    app.say(
        f"site: {result.issues} issues, {result.pages} pages in {result.output} "
        f"({time.monotonic() - started:.2f} s)"
    )


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Preview the site on localhost, rebuilding when an issue file changes.

\b
Example:
  digest serve
  digest serve --port 8001 --drafts
""",
)
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
@click.option("--drafts", is_flag=True, help="Include unpublished drafts.")
@pass_app
def serve(app: AppState, port: int, drafts: bool) -> None:
    config = app.config
    build_site(config, include_drafts=drafts)
    watcher = threading.Thread(target=_rebuild_on_change, args=(app, drafts), daemon=True)
    watcher.start()
    handler = functools.partial(_Quiet, directory=str(config.site_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        app.say(f"serving {config.site_path} at http://127.0.0.1:{port}/ — Ctrl-C stops")
        server.serve_forever()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _rebuild_on_change(app: AppState, drafts: bool) -> None:
    config = app.config

    def snapshot() -> dict[str, float]:
        paths = list(config.issues_path.glob("*.md")) + list(
            config.path(config.templates_dir).rglob("*")
        )
        return {str(p): p.stat().st_mtime for p in paths if p.is_file()}

    last = snapshot()
    while True:
        time.sleep(1.0)
        current = snapshot()
        if current != last:
            last = current
            try:
                build_site(config, include_drafts=drafts)
                app.say("rebuilt")
            except Exception as exc:  # keep serving the last good build
                app.say(f"rebuild failed: {exc}")


COMMANDS = [build, serve]
