"""init: scaffold a newsletter folder."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import click
import yaml

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, pass_app
from digest.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The CSV columns `newsletter.subscribers` reads; the example has the header and no reader, so
# nobody is mailed before the operator adds someone.
SUBSCRIBERS_HEADER = "email,name,status\n"


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Scaffold feeds.yaml, subscribers.csv, issues/ and a templates/ override folder in
DIRECTORY, and say the commands to run next.

Never overwrites an existing feeds.yaml or subscribers.csv. The sample feeds.yaml leaves
auto_publish: false, so every issue waits for the editor (`digest review`).

\b
Example:
  digest init
  digest init ~/newsletter && cd ~/newsletter && digest daily --no-send
""",
)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def init(app: AppState, directory: Path) -> None:
    """`digest init`: scaffold feeds.yaml, subscribers.csv, issues/ and templates/ (see the help
    text). Raises ConfigError when DIRECTORY already has a feeds.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "feeds.yaml"
    if target.exists():
        raise ConfigError(f"{target} already exists — edit it, or init another folder")
    sample = PROJECT_ROOT / "feeds.yaml"
    shutil.copyfile(sample, target)
    made = ["feeds.yaml"]
    subscribers = directory / _subscribers_name(sample)
    if not subscribers.exists():
        subscribers.write_text(SUBSCRIBERS_HEADER, encoding="utf-8")
        made.append(f"{subscribers.name} (one reader a line: email,name,status)")
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
    made += ["issues/", "templates/"]
    app.say(f"created in {directory}: {', '.join(made)}")
    app.say("feeds.yaml holds the sources, sections, summarizer and email settings; next:")
    if directory.resolve() != Path.cwd().resolve():
        app.say(f"  cd {shlex.quote(str(directory))}")
    command = digest_command()
    app.say(f"  {command} daily --no-send    # fetch, draft and build site/")
    app.say(f"  {command} review             # the draft waits for you (auto_publish: false)")


def _subscribers_name(sample: Path) -> str:
    """The CSV the sample's `email.subscribers` names (the file init creates beside it)."""
    settings = yaml.safe_load(sample.read_text(encoding="utf-8")) or {}
    email = settings.get("email") or {}
    return str(email.get("subscribers") or "subscribers.csv")


def digest_command() -> str:
    """How to run this installation of digest from any folder: `digest` when that name on PATH
    is this one, else the full path of the script beside the running Python (a virtual
    environment that is not activated, as in cron)."""
    here = Path(sys.executable).parent / "digest"
    if not here.is_file():
        return "digest"
    found = shutil.which("digest")
    if found and Path(found).resolve() == here.resolve():
        return "digest"
    return shlex.quote(str(here))


COMMANDS = [init]
