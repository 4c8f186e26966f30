"""init: scaffold a newsletter folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, pass_app
from digest.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Scaffold feeds.yaml, issues/ and a templates/ override folder in DIRECTORY.

Never overwrites an existing feeds.yaml.

\b
Example:
  digest init
  digest init ~/newsletter && cd ~/newsletter && digest daily --no-send
""",
)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def init(app: AppState, directory: Path) -> None:
    """`digest init`: scaffold feeds.yaml, issues/ and templates/ (see the help text)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "feeds.yaml"
    if target.exists():
        raise ConfigError(f"{target} already exists — edit it, or init another folder")
    shutil.copyfile(PROJECT_ROOT / "feeds.yaml", target)
    (directory / "issues").mkdir(exist_ok=True)
    overrides = directory / "templates"
    overrides.mkdir(exist_ok=True)
    readme = overrides / "README.txt"
    if not readme.exists():
        readme.write_text(
            "Templates placed here override digest's bundled ones of the same name\n"
            f"(see {PROJECT_ROOT / 'templates'}).\n",
            encoding="utf-8",
        )
    app.say(
        f"created {target}, {directory / 'issues'}/ and {overrides}/ — next: digest daily --no-send"
    )


COMMANDS = [init]
